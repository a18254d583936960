#!/usr/bin/env bash
# Install every Debian package the layervpn project needs (build, unit tests,
# integration tests against a stock OpenVPN 2.6 server, mmdebstrap for the
# Debian sid chroot holding the OpenVPN 2.7 server, libFuzzer targets).
#
# Idempotent: when every package is already installed, apt is not touched at
# all, so repeated runs take well under a second.
#
# Usage: tools/install-deps.sh        (as root, or via sudo if available)
set -euo pipefail

PACKAGES=(
    build-essential autoconf automake libtool pkg-config
    libuv1-dev libmbedtls-dev check libmnl-dev libssl-dev libgcrypt20-dev
    nettle-dev libgmp-dev
    liblz4-dev liblzo2-dev libcap-ng-dev
    openvpn openssl iproute2 nftables iperf3 iputils-ping procps ethtool
    python3 python3-cryptography curl valgrind git ca-certificates
    kmod psmisc
    man-db groff-base
    mmdebstrap
    libpcap-dev tshark
    libsystemd-dev
    libjansson-dev chromium
    clang libclang-rt-14-dev
    tinyproxy dante-server
    liblwip-dev
)

log() { printf 'install-deps: %s\n' "$*"; }

# Is the package installed (status "install ok installed")?
is_installed() {
    local st
    st=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [[ $st == "install ok installed" ]]
}

missing=()
for p in "${PACKAGES[@]}"; do
    if ! is_installed "$p"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]} == 0)); then
    log "all ${#PACKAGES[@]} packages already installed; nothing to do"
    exit 0
fi

log "missing packages: ${missing[*]}"

SUDO=()
if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        log "error: not root and sudo is unavailable" >&2
        exit 1
    fi
fi

log "running: apt-get update"
"${SUDO[@]}" apt-get update

# Packages with a daemon (tinyproxy, dante-server, openvpn) must not start a
# system service: the tests run their own instances in namespaces. Without a
# policy-rc.d of the machine's own, one that refuses every start is in place
# for the install only.
POLICY=/usr/sbin/policy-rc.d
own_policy=0
if [[ ! -e $POLICY ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
    "${SUDO[@]}" chmod 755 "$POLICY"
    own_policy=1
fi
log "running: apt-get install -y --no-install-recommends ${missing[*]}"
rc=0
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}" || rc=$?
if ((own_policy)); then
    "${SUDO[@]}" rm -f "$POLICY"
fi
((rc == 0)) || exit "$rc"

still=()
for p in "${missing[@]}"; do
    is_installed "$p" || still+=("$p")
done
if ((${#still[@]} > 0)); then
    log "error: still not installed: ${still[*]}" >&2
    exit 1
fi
log "done; installed ${#missing[@]} package(s)"
