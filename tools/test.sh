#!/usr/bin/env bash
# The test command: on a fresh Debian 12 machine (as root) installs the
# dependencies, builds, and runs every test (unit + real-server integration).
#   bash tools/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
  bash tools/install-deps.sh
else
  echo "test.sh: not root: skipping package installation (integration tests will skip)"
fi
./autogen.sh >/dev/null
./configure --quiet
make -j"$(nproc)" >/dev/null
# Unit tests and integration tests; print every test log on failure.
if ! make -j1 check VERBOSE=1; then
  echo "test.sh: make check failed" >&2
  exit 1
fi
