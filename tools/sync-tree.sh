# shellcheck shell=bash
# sync_tree SRC BUILD: copy the source tree SRC into BUILD for a separate
# build that needs its own configured copy (tools/fuzz.sh,
# tools/test-backends.sh). In a git checkout: the tracked and the new (not
# ignored) files, not the in-tree build's objects, and only those newer
# than their copy (-p keeps the times, so make rebuilds only what changed).
# From a tarball: everything, then `make distclean` in the copy.
sync_tree() {
    local src=$1 build=$2
    mkdir -p "$build"
    if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$src" && git ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do
                [[ -f $f ]] || continue
                if [[ ! -e $build/$f || $f -nt $build/$f ]]; then
                    mkdir -p "$build/$(dirname "$f")"
                    cp -p "$f" "$build/$f"
                fi
            done)
    else
        cp -a "$src/." "$build/"
        (cd "$build" && { make distclean >/dev/null 2>&1 || true; })
    fi
}
