# shellcheck shell=bash
# tests/integration/lib.sh — real-server harness for layervpn integration tests.
#
# Source it from a test script:
#
#     . "$(dirname "$0")/lib.sh"
#     it_require_root
#     it_setup
#     it_pki
#     it_server_conf wrap=tls-crypt
#     it_server_start
#     it_client_conf wrap=tls-crypt
#     IT_BG_LOG=$IT_DIR/client.log it_bg_in_client openvpn --config "$IT_DIR/client.ovpn"
#
# Topology (see doc/openvpn-protocol.md §10):
#
#     netns $IT_NS_S  [vs0 198.18.0.1/24] <--veth--> [vc0 198.18.0.2/24]  netns $IT_NS_C
#     openvpn server on 198.18.0.1:1194, tunnel pool 198.19.0.0/24 (server 198.19.0.1),
#     optional IPv6 pool 2001:2:0:8::/64 (RFC 5180 benchmarking range).
#
# Only addresses from 198.18.0.0/15 (and 2001:2::/48) are used, and only inside the
# namespaces created here. The veth is created directly inside the namespaces, so its
# names (vs0/vc0) never appear in the root namespace and cannot collide.
#
# Every function is safe under `set -euo pipefail` in the caller: failures are reported
# through the return status (callers under set -e abort on them, which is what tests want).
#
# Environment knobs:
#   IT_KEEP=1        keep $IT_DIR after the test (cleanup prints its path)
#   IT_PKI_CACHE=DIR reuse a PKI from DIR (filled automatically on the first run)
#   IT_BG_LOG=FILE   stdout/stderr file for the next it_bg_in_client (default $IT_DIR/bg-<pid>.log)

# Guard against double sourcing.
if [[ -n ${_IT_LIB_LOADED:-} ]]; then
    return 0
fi
_IT_LIB_LOADED=1

IT_SERVER_IP=198.18.0.1
IT_CLIENT_IP=198.18.0.2
IT_PORT=1194
IT_TUN_SERVER_IP=198.19.0.1
export IT_SERVER_IP IT_CLIENT_IP IT_PORT IT_TUN_SERVER_IP

# Files the PKI consists of (relative to $IT_DIR/pki).
IT_PKI_FILES=(
    ca.crt ca.key
    server.crt server.key
    client.crt client.key
    other-ca.crt other-ca.key
    other-server.crt other-server.key
    noeku-server.crt noeku-server.key
    client-rsa.crt client-rsa.key
    ta.key tc.key tcv2-server.key tcv2-client.key
)

IT_PIDS=()          # processes started by the harness (this shell)
IT_SERVER_PID=""
IT_SERVER_PROTO=udp
IT_SERVER_PORT=$IT_PORT
IT_SERVER_LAUNCH=(openvpn)   # it_server27_start swaps in the OpenVPN 2.7 chroot
_IT_CLEANED=0

_it_log() { printf '[it] %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------------------
# it_require_root — skip (exit 77) unless we can build namespaces and run openvpn.
it_require_root() {
    local reason=""
    if [[ "${LVPN_INTEGRATION:-yes}" == no ]]; then
        reason="integration tests disabled (configure --disable-integration)"
    elif ((EUID != 0)); then
        reason="needs root (network namespaces, TUN)"
    elif ! command -v ip >/dev/null 2>&1 || ! ip netns list >/dev/null 2>&1; then
        reason="'ip netns' unavailable"
    elif [[ ! -c /dev/net/tun ]]; then
        reason="/dev/net/tun unavailable"
    elif ! command -v openvpn >/dev/null 2>&1; then
        reason="openvpn not installed (run tools/install-deps.sh)"
    elif ! command -v openssl >/dev/null 2>&1; then
        reason="openssl not installed (run tools/install-deps.sh)"
    fi
    if [[ -n $reason ]]; then
        echo "SKIP: $reason"
        exit 77
    fi
}

# ---------------------------------------------------------------------------------------
# _it_register_pid PID — remember a process for cleanup. Also written to a file so that
# PIDs registered from subshells (e.g. pid=$(it_bg_in_client ...)) are not lost.
_it_register_pid() {
    IT_PIDS+=("$1")
    if [[ -n ${IT_DIR:-} && -d $IT_DIR ]]; then
        echo "$1" >>"$IT_DIR/.pids" || true
    fi
}

# Delete namespaces and work dirs of earlier runs that were killed before they could
# clean up (name lvs<PID>/lvc<PID>, or a .owner file, with a dead <PID>). Live runs are
# never touched.
_it_sweep_stale() {
    local ns pid
    while read -r ns _; do
        [[ $ns =~ ^lv[sc]([0-9]+)$ ]] || continue
        pid=${BASH_REMATCH[1]}
        ((pid == $$)) && continue
        if ! kill -0 "$pid" 2>/dev/null; then
            _it_log "removing stale namespace $ns (owner pid $pid is gone)"
            _it_kill_ns_procs "$ns"
            ip netns del "$ns" 2>/dev/null || true
        fi
    done < <(ip netns list 2>/dev/null || true)
    for d in /etc/netns/lv[sc]*; do # resolv.conf dirs of dead runs
        [[ -d $d && ${d##*/} =~ ^lv[sc]([0-9]+)$ ]] || continue
        pid=${BASH_REMATCH[1]}
        ((pid == $$)) || kill -0 "$pid" 2>/dev/null || _it_netns_etc_del "${d##*/}"
    done
    # work dirs of dead runs (kept dirs, IT_KEEP=1, have no .owner file)
    local d
    for d in /tmp/lvpn-it-*; do
        [[ -f $d/.owner ]] || continue
        pid=$(<"$d/.owner")
        [[ $pid =~ ^[0-9]+$ ]] || continue
        ((pid == $$)) && continue
        if ! kill -0 "$pid" 2>/dev/null; then
            _it_log "removing stale work dir $d"
            rm -rf -- "$d"
        fi
    done
}

# _it_netns_etc_del NS — remove /etc/netns/NS and the DNS backup our client may
# have left for its resolv.conf (after a SIGKILL).
_it_netns_etc_del() {
    local f=/etc/netns/$1/resolv.conf id
    if [[ -f $f ]]; then
        id=$(printf '%x-%x' $(stat -c '%d %i' "$f")) &&
            rm -f -- "/run/layervpn/resolv.conf.$id.backup"
    fi
    rm -rf -- "/etc/netns/$1"
}

# EXIT cleans up; INT/TERM clean up and exit 130/143.
_it_install_traps() {
    trap 'it_cleanup' EXIT
    trap 'it_cleanup || true; trap - INT; exit 130' INT
    trap 'it_cleanup || true; trap - TERM; exit 143' TERM
}

# ---------------------------------------------------------------------------------------
# it_setup [name] — work dir + two namespaces + veth; installs the cleanup traps.
it_setup() {
    local name=${1:-}
    if [[ -z $name ]]; then
        name=$(basename -- "${0:-it}")
        name=${name%.sh}
    fi
    name=${name//[^A-Za-z0-9_.-]/_}

    # A second it_setup in the same script starts from a clean slate.
    if [[ -n ${IT_DIR:-} ]]; then
        it_cleanup
    fi
    _IT_CLEANED=0
    IT_PIDS=()
    IT_SERVER_PID=""

    _it_install_traps

    IT_DIR=$(mktemp -d "/tmp/lvpn-it-${name}.XXXXXX") || return 1
    chmod 755 "$IT_DIR"
    echo "$$" >"$IT_DIR/.owner"
    IT_NS_S="lvs$$"
    IT_NS_C="lvc$$"
    export IT_DIR IT_NS_S IT_NS_C
    # the server chains our client keeps between starts: this test's own
    # (lvpn_client_set_cache_dir), not the machine's /run/layervpn
    export LVPN_CACHE_DIR=$IT_DIR/lvpn-cache
    # and the CLI's page list (cmd/memtrim.h): what this test's starts
    # touched, not the union of every start on this machine, which only
    # grows (a listed page stays mapped, so it is present again when the
    # next list is learned) and would move the benchmarks' peak RSS
    export LVPN_MEMTRIM_PAGES=$IT_DIR/memtrim-pages

    _it_sweep_stale

    # Leftovers with our own names (cannot normally happen) would make `ip netns add` fail.
    ip netns del "$IT_NS_S" 2>/dev/null || true
    ip netns del "$IT_NS_C" 2>/dev/null || true

    ip netns add "$IT_NS_S" || return 1
    ip netns add "$IT_NS_C" || return 1
    ip link add vs0 netns "$IT_NS_S" type veth peer name vc0 netns "$IT_NS_C" || return 1
    ip -n "$IT_NS_S" addr add "$IT_SERVER_IP/24" dev vs0 || return 1
    ip -n "$IT_NS_C" addr add "$IT_CLIENT_IP/24" dev vc0 || return 1
    ip -n "$IT_NS_S" link set lo up || return 1
    ip -n "$IT_NS_C" link set lo up || return 1
    ip -n "$IT_NS_S" link set vs0 up || return 1
    ip -n "$IT_NS_C" link set vc0 up || return 1
    # The client namespace gets its own /etc/resolv.conf: `ip netns exec`
    # bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf, so the
    # pushed DNS our client applies (and restores) never reaches the host's.
    # Its nameserver is in the test range and unreachable.
    mkdir -p "/etc/netns/$IT_NS_C" || return 1
    printf '# lvpn-it client namespace %s\nnameserver 198.18.255.53\noptions edns0\n' \
        "$IT_NS_C" >"/etc/netns/$IT_NS_C/resolv.conf" || return 1
    _it_log "setup: dir=$IT_DIR ns=$IT_NS_S/$IT_NS_C"
}

# ---------------------------------------------------------------------------------------
# it_pki — throwaway PKI in $IT_DIR/pki (openssl CLI, EC P-256 unless noted).
_it_pki_have_all() {
    local d=$1 f
    [[ -d $d ]] || return 1
    for f in "${IT_PKI_FILES[@]}"; do
        [[ -s $d/$f ]] || return 1
    done
}

# _it_pki_newkey_args [ec|rsa] — openssl req arguments for a fresh key
_it_pki_newkey_args() {
    if [[ ${1:-ec} == rsa ]]; then
        printf '%s\n' -newkey rsa:2048
    else
        printf '%s\n' -newkey ec -pkeyopt ec_paramgen_curve:prime256v1
    fi
}

# _it_pki_ca NAME "CN"
_it_pki_ca() {
    local args
    mapfile -t args < <(_it_pki_newkey_args ec)
    openssl req -x509 "${args[@]}" -nodes \
        -keyout "$1.key" -out "$1.crt" -days 3650 -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash"
}

# _it_pki_leaf NAME "CN" CA KEYTYPE EXTFILE
_it_pki_leaf() {
    local args
    mapfile -t args < <(_it_pki_newkey_args "$4")
    openssl req "${args[@]}" -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" &&
        openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial \
            -out "$1.crt" -days 825 -extfile "$5" &&
        rm -f "$1.csr"
}

_it_pki_generate() (
    # subshell: cd and umask stay local
    umask 077
    cd "$1" || exit 1
    cat >server.ext <<'EOF' || exit 1
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyAgreement
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
subjectAltName=DNS:vpn-server
EOF
    cat >noeku-server.ext <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyAgreement
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
subjectAltName=DNS:vpn-server
EOF
    cat >client.ext <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EOF
    cat >client-rsa.ext <<'EOF'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EOF
    # Explicit "|| exit 1": errexit is ignored here because the caller tests our status.
    _it_pki_ca ca "Test VPN CA" || exit 1
    _it_pki_ca other-ca "Other CA" || exit 1
    _it_pki_leaf server vpn-server ca ec server.ext || exit 1
    _it_pki_leaf client client1 ca ec client.ext || exit 1
    _it_pki_leaf other-server vpn-server other-ca ec server.ext || exit 1
    _it_pki_leaf noeku-server vpn-server ca ec noeku-server.ext || exit 1
    _it_pki_leaf client-rsa client-rsa ca rsa client-rsa.ext || exit 1
    openssl verify -CAfile ca.crt server.crt client.crt noeku-server.crt client-rsa.crt || exit 1
    openssl verify -CAfile other-ca.crt other-server.crt || exit 1

    openvpn --genkey tls-auth ta.key || exit 1
    openvpn --genkey tls-crypt tc.key || exit 1
    openvpn --genkey tls-crypt-v2-server tcv2-server.key || exit 1
    openvpn --tls-crypt-v2 tcv2-server.key --genkey tls-crypt-v2-client tcv2-client.key || exit 1
)

it_pki() {
    local pki=$IT_DIR/pki f
    mkdir -p "$pki" || return 1
    chmod 700 "$pki"
    if [[ -n ${IT_PKI_CACHE:-} ]] && _it_pki_have_all "$IT_PKI_CACHE"; then
        for f in "${IT_PKI_FILES[@]}"; do
            cp -- "$IT_PKI_CACHE/$f" "$pki/$f" || return 1
        done
        chmod 600 "$pki"/*.key
        _it_log "pki: copied from cache $IT_PKI_CACHE"
        return 0
    fi
    if ! _it_pki_generate "$pki" >"$pki/gen.log" 2>&1; then
        _it_log "pki: generation failed; tail of $pki/gen.log:"
        tail -n 30 "$pki/gen.log" >&2
        return 1
    fi
    if ! _it_pki_have_all "$pki"; then
        _it_log "pki: generation incomplete"
        return 1
    fi
    _it_log "pki: generated in $pki"
    if [[ -n ${IT_PKI_CACHE:-} ]]; then
        # Fill the cache for the next run (best effort, never fatal).
        if mkdir -p "$IT_PKI_CACHE" 2>/dev/null; then
            for f in "${IT_PKI_FILES[@]}"; do
                cp -- "$pki/$f" "$IT_PKI_CACHE/$f" 2>/dev/null || true
            done
            chmod 600 "$IT_PKI_CACHE"/*.key 2>/dev/null || true
            _it_log "pki: cache $IT_PKI_CACHE filled"
        fi
    fi
    return 0
}

# ---------------------------------------------------------------------------------------
# Switch parsing shared by it_server_conf / it_client_conf. Sets _IT_O_* variables.
_it_parse_switches() {
    _IT_O_PROTO=udp
    _IT_O_CIPHERS=""
    _IT_O_AUTH=""
    _IT_O_WRAP=none
    _IT_O_RENEG=""
    _IT_O_COMPRESS=""
    _IT_O_CERT=server
    _IT_O_IPV6=0
    _IT_O_PORT=$IT_PORT
    _IT_O_PUSH=()
    _IT_O_EXTRA=()
    local a k v
    for a in "$@"; do
        if [[ $a != *=* ]]; then
            _it_log "bad switch '$a' (want key=value)"
            return 1
        fi
        k=${a%%=*}
        v=${a#*=}
        case $k in
        proto)
            case $v in udp | tcp) _IT_O_PROTO=$v ;; *)
                _it_log "proto=$v: want udp|tcp"
                return 1
                ;;
            esac
            ;;
        port)
            if ! [[ $v =~ ^[0-9]+$ ]]; then
                _it_log "port=$v: want a number"
                return 1
            fi
            _IT_O_PORT=$v
            ;;
        ciphers) _IT_O_CIPHERS=$v ;;
        auth) _IT_O_AUTH=$v ;;
        wrap)
            case $v in none | tls-auth | tls-crypt | tls-crypt-v2) _IT_O_WRAP=$v ;; *)
                _it_log "wrap=$v: want none|tls-auth|tls-crypt|tls-crypt-v2"
                return 1
                ;;
            esac
            ;;
        reneg) _IT_O_RENEG=$v ;;
        compress)
            case $v in stub | stub-v2 | lzo-no | "") _IT_O_COMPRESS=$v ;; *)
                _it_log "compress=$v: want stub|stub-v2|lzo-no"
                return 1
                ;;
            esac
            ;;
        cert)
            # or one a test made in $IT_DIR/pki (NAME.crt and NAME.key)
            case $v in server | other-server | noeku-server) _IT_O_CERT=$v ;; *)
                if [[ $v =~ ^[a-z0-9-]+$ && -f $IT_DIR/pki/$v.crt && -f $IT_DIR/pki/$v.key ]]; then
                    _IT_O_CERT=$v
                else
                    _it_log "cert=$v: want server|other-server|noeku-server, or NAME with pki/NAME.crt and .key"
                    return 1
                fi
                ;;
            esac
            ;;
        ipv6) _IT_O_IPV6=$v ;;
        push) _IT_O_PUSH+=("$v") ;;
        extra) _IT_O_EXTRA+=("$v") ;;
        *)
            _it_log "unknown switch '$k'"
            return 1
            ;;
        esac
    done
}

# it_server_conf [key=value...] — render $IT_DIR/server.conf (§10.3).
it_server_conf() {
    _it_parse_switches "$@" || return 1
    local p=$IT_DIR/pki line
    IT_SERVER_PROTO=$_IT_O_PROTO
    IT_SERVER_PORT=$_IT_O_PORT
    {
        cat <<EOF
# generated by tests/integration/lib.sh it_server_conf $(printf %.180s "$*")
cd $IT_DIR
port $_IT_O_PORT
proto $([[ $_IT_O_PROTO == tcp ]] && echo tcp-server || echo udp)
local $IT_SERVER_IP
dev tun
topology subnet
server 198.19.0.0 255.255.255.0
ca $p/ca.crt
cert $p/$_IT_O_CERT.crt
key $p/$_IT_O_CERT.key
dh none
data-ciphers ${_IT_O_CIPHERS:-AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305}
keepalive 10 60
verb 4
log-append $IT_DIR/server.log
status $IT_DIR/server.status 1
push "route 198.19.100.0 255.255.255.0"
push "dhcp-option DNS 198.19.0.1"
EOF
        [[ $_IT_O_PROTO == udp ]] && echo "explicit-exit-notify 1"
        [[ $_IT_O_IPV6 == 1 ]] && echo "server-ipv6 2001:2:0:8::/64"
        case $_IT_O_WRAP in
        tls-auth) echo "tls-auth $p/ta.key 0" ;;
        tls-crypt) echo "tls-crypt $p/tc.key" ;;
        tls-crypt-v2) echo "tls-crypt-v2 $p/tcv2-server.key" ;;
        esac
        [[ -n $_IT_O_AUTH ]] && echo "auth $_IT_O_AUTH"
        [[ -n $_IT_O_RENEG ]] && echo "reneg-sec $_IT_O_RENEG"
        case $_IT_O_COMPRESS in
        stub) printf '%s\n' "compress stub" 'push "compress stub"' ;;
        stub-v2) printf '%s\n' "compress stub-v2" 'push "compress stub-v2"' ;;
        lzo-no) printf '%s\n' "comp-lzo no" 'push "comp-lzo no"' ;;
        esac
        for line in "${_IT_O_PUSH[@]}"; do
            printf 'push "%s"\n' "$line"
        done
        for line in "${_IT_O_EXTRA[@]}"; do
            printf '%s\n' "$line"
        done
        true
    } >"$IT_DIR/server.conf" || return 1
}

# it_client_conf [key=value...] — render $IT_DIR/client.ovpn (stock client and ours).
# Server-only switches (reneg, compress, cert, push, ipv6) are accepted and ignored.
it_client_conf() {
    _it_parse_switches "$@" || return 1
    local p=$IT_DIR/pki line
    {
        cat <<EOF
# generated by tests/integration/lib.sh it_client_conf $(printf %.180s "$*")
client
dev tun
proto $_IT_O_PROTO
remote $IT_SERVER_IP $_IT_O_PORT
nobind
ca $p/ca.crt
cert $p/client.crt
key $p/client.key
remote-cert-tls server
verify-x509-name vpn-server name
EOF
        case $_IT_O_WRAP in
        tls-auth) echo "tls-auth $p/ta.key 1" ;;
        tls-crypt) echo "tls-crypt $p/tc.key" ;;
        tls-crypt-v2) echo "tls-crypt-v2 $p/tcv2-client.key" ;;
        esac
        [[ -n $_IT_O_CIPHERS ]] && echo "data-ciphers $_IT_O_CIPHERS"
        [[ -n $_IT_O_AUTH ]] && echo "auth $_IT_O_AUTH"
        echo "verb 3"
        # LVPN_IT_DISABLE_OFFLOAD=1: every test's client with `disable-offload`
        # (no TUN offloads, no UDP GSO/GRO); tun or udp: only that one off
        case ${LVPN_IT_DISABLE_OFFLOAD:-} in
        "") ;;
        1) echo "disable-offload" ;;
        *) echo "disable-offload $LVPN_IT_DISABLE_OFFLOAD" ;;
        esac
        for line in "${_IT_O_EXTRA[@]}"; do
            printf '%s\n' "$line"
        done
        true
    } >"$IT_DIR/client.ovpn" || return 1
}

# ---------------------------------------------------------------------------------------
# it_wait_log FILE PATTERN TIMEOUT_S — poll (0.1 s) until `grep -E PATTERN FILE` matches.
it_wait_log() {
    local file=$1 pat=$2 t=${3:-10} n
    # timeout in tenths of a second; accepts "5" or "2.5"
    n=$(awk -v t="$t" 'BEGIN { printf "%d", t * 10 }') || n=100
    while ((n-- > 0)); do
        if [[ -f $file ]] && grep -qE -- "$pat" "$file" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    [[ -f $file ]] && grep -qE -- "$pat" "$file" 2>/dev/null
}

# _it_alive PID
_it_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

# _it_pid_in_ns PID NS... — is PID a live process inside one of the named namespaces?
# Used before signalling a remembered PID: it may have exited and been reused since.
_it_pid_in_ns() {
    local pid=$1 ino ns
    shift
    ino=$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) || return 1
    for ns in "$@"; do
        [[ -n $ns ]] || continue
        [[ $(stat -L -c %i "/run/netns/$ns" 2>/dev/null) == "$ino" ]] && return 0
    done
    return 1
}

# _it_stop_pids TIMEOUT_TENTHS PID... — SIGTERM, wait, then SIGKILL; reaps our children.
_it_stop_pids() {
    local n=$1 pid live
    shift
    (($# > 0)) || return 0
    for pid in "$@"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    while ((n-- > 0)); do
        live=0
        for pid in "$@"; do
            # a zombie child of ours still answers kill -0; reap it without blocking
            if _it_alive "$pid"; then
                if [[ $(ps -o stat= -p "$pid" 2>/dev/null) == Z* ]]; then
                    wait "$pid" 2>/dev/null || true
                else
                    live=1
                fi
            fi
        done
        ((live)) || break
        sleep 0.1
    done
    for pid in "$@"; do
        if _it_alive "$pid" && [[ $(ps -o stat= -p "$pid" 2>/dev/null) != Z* ]]; then
            _it_log "pid $pid ($(ps -o comm= -p "$pid" 2>/dev/null)) ignored SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    for pid in "$@"; do
        wait "$pid" 2>/dev/null || true
    done
    return 0
}

_it_kill_ns_procs() {
    local ns=$1 pids
    mapfile -t pids < <(ip netns pids "$ns" 2>/dev/null || true)
    if ((${#pids[@]} > 0)); then
        _it_stop_pids 30 "${pids[@]}"
    fi
}

# it_server_start — run openvpn --config server.conf in $IT_NS_S, wait until ready.
it_server_start() {
    local conf=$IT_DIR/server.conf log=$IT_DIR/server.log n=100 listening=0 i=1
    local ssflag=-lun
    [[ -f $conf ]] || {
        _it_log "no $conf (call it_server_conf first)"
        return 1
    }
    if _it_alive "$IT_SERVER_PID"; then
        _it_log "server already running (pid $IT_SERVER_PID)"
        return 1
    fi
    [[ $IT_SERVER_PROTO == tcp ]] && ssflag=-ltn
    # keep logs of earlier server runs as server.log.1, .2, ...
    if [[ -s $log ]]; then
        while [[ -e $log.$i ]]; do ((i++)); done
        mv -- "$log" "$log.$i"
    fi
    : >"$log"
    ip netns exec "$IT_NS_S" "${IT_SERVER_LAUNCH[@]}" --config "$conf" </dev/null >>"$log" 2>&1 &
    IT_SERVER_PID=$!
    _it_register_pid "$IT_SERVER_PID"
    while ((n-- > 0)); do
        if ! _it_alive "$IT_SERVER_PID"; then
            break
        fi
        if ((!listening)) &&
            ip netns exec "$IT_NS_S" ss -H "$ssflag" 2>/dev/null | grep -q ":$IT_SERVER_PORT\b"; then
            listening=1
        fi
        if ((listening)) && grep -q "Initialization Sequence Completed" "$log"; then
            _it_log "server up (pid $IT_SERVER_PID, $IT_SERVER_PROTO)"
            return 0
        fi
        sleep 0.1
    done
    _it_log "server failed to start (alive=$(_it_alive "$IT_SERVER_PID" && echo yes || echo no)," \
        "listening=$listening); tail of $log:"
    tail -n 25 "$log" >&2
    it_server_stop
    return 1
}

# it_server_stop — SIGTERM the server, SIGKILL after 3 s. (With explicit-exit-notify,
# i.e. UDP, OpenVPN 2.6 sends RESTART to its clients and exits about 2 s after SIGTERM.)
it_server_stop() {
    if [[ -n $IT_SERVER_PID ]]; then
        if _it_pid_in_ns "$IT_SERVER_PID" "$IT_NS_S"; then
            _it_stop_pids 30 "$IT_SERVER_PID"
        fi
        wait "$IT_SERVER_PID" 2>/dev/null || true
        _it_log "server stopped (pid $IT_SERVER_PID)"
    fi
    IT_SERVER_PID=""
    return 0
}

# _it_bg NS CMD... — start CMD in namespace NS in the background (see it_bg_in_client).
_it_bg() {
    local ns=$1 out tmp="" pid fd
    shift
    if [[ -n ${IT_BG_LOG:-} ]]; then
        out=$IT_BG_LOG
    else
        tmp=$(mktemp "$IT_DIR/bg-new.XXXXXX") || return 1
        out=$tmp
    fi
    # Open the log in this shell first, so renaming it below cannot race with the child.
    exec {fd}>>"$out" || return 1
    ip netns exec "$ns" "$@" </dev/null >&"$fd" 2>&1 {fd}>&- &
    pid=$!
    exec {fd}>&-
    if [[ -n $tmp ]]; then
        mv -- "$tmp" "$IT_DIR/bg-$pid.log" 2>/dev/null || true
    fi
    _it_register_pid "$pid"
    echo "$pid"
}

# it_bg_in_client CMD... — run CMD in $IT_NS_C in the background; echoes its PID.
# stdin is /dev/null; stdout+stderr go to $IT_BG_LOG if set, else $IT_DIR/bg-<pid>.log,
# so `pid=$(it_bg_in_client ...)` returns at once instead of waiting for CMD. PIDs taken
# in a $(...) subshell are still cleaned up (they are recorded in $IT_DIR/.pids, and
# it_cleanup kills every process in the namespaces anyway).
it_bg_in_client() { _it_bg "$IT_NS_C" "$@"; }

# it_bg_in_server CMD... — the same in $IT_NS_S (e.g. relay.py on 198.18.0.1:1195).
it_bg_in_server() { _it_bg "$IT_NS_S" "$@"; }

# ---------------------------------------------------------------------------------------
# it_impair_client LOSS_PCT — drop LOSS_PCT % of UDP to/from 198.18.0.1 at the client.
#
# The rules sit on the client veth's netdev ingress/egress hooks (the "input" and
# "output" directions of the client namespace). A drop in the inet OUTPUT hook would
# make sendto() fail with EPERM, which is not what a lossy network does; the egress
# hook drops silently like a real link. Falls back to inet input/output if the kernel
# has no netdev egress hook.
it_impair_client() {
    local pct=${1:?it_impair_client LOSS_PCT} cond
    if ! [[ $pct =~ ^[0-9]+$ ]] || ((pct > 100)); then
        _it_log "it_impair_client: bad LOSS_PCT '$pct'"
        return 1
    fi
    it_impair_clear
    ((pct == 0)) && return 0
    if ((pct >= 100)); then
        cond=""  # nft rejects "mod 100 < 100"
    else
        cond="numgen random mod 100 < $pct"
    fi
    if ip netns exec "$IT_NS_C" nft -f - 2>/dev/null <<EOF; then
table netdev it_impair {
    chain egress {
        type filter hook egress device "vc0" priority 0; policy accept;
        ip daddr $IT_SERVER_IP meta l4proto udp $cond counter drop
    }
    chain ingress {
        type filter hook ingress device "vc0" priority 0; policy accept;
        ip saddr $IT_SERVER_IP meta l4proto udp $cond counter drop
    }
}
EOF
        _it_log "impair: client drops $pct% of UDP to/from $IT_SERVER_IP (netdev)"
        return 0
    fi
    ip netns exec "$IT_NS_C" nft -f - <<EOF || return 1
table inet it_impair {
    chain output {
        type filter hook output priority 0; policy accept;
        ip daddr $IT_SERVER_IP meta l4proto udp $cond counter drop
    }
    chain input {
        type filter hook input priority 0; policy accept;
        ip saddr $IT_SERVER_IP meta l4proto udp $cond counter drop
    }
}
EOF
    _it_log "impair: client drops $pct% of UDP to/from $IT_SERVER_IP (inet; sends see EPERM)"
}

# it_impair_clear — remove the impairment table (no error if absent).
it_impair_clear() {
    ip netns exec "$IT_NS_C" nft delete table netdev it_impair 2>/dev/null || true
    ip netns exec "$IT_NS_C" nft delete table inet it_impair 2>/dev/null || true
    return 0
}

# ---------------------------------------------------------------------------------------
# it_cleanup — kill everything we started, delete namespaces, remove the work dir.
# Idempotent; never changes the caller's exit status.
#
# Every process the harness starts runs inside $IT_NS_S or $IT_NS_C (ip netns exec), so
# "everything we started" is exactly `ip netns pids` of the two namespaces; remembered
# PIDs are only signalled if they are still inside one of them (no PID-reuse accidents),
# and are reaped afterwards.
it_cleanup() {
    local rc=$? ns pid pids=() reg=()
    local -
    set +e +u +o pipefail
    if ((_IT_CLEANED)) || [[ -z ${IT_DIR:-} && -z ${IT_NS_S:-} ]]; then
        return "$rc"
    fi
    _IT_CLEANED=1
    # A signal during cleanup must not cut it short: note it, finish, then exit.
    _IT_PENDING_EXIT=""
    trap '_IT_PENDING_EXIT=130' INT
    trap '_IT_PENDING_EXIT=143' TERM
    reg=("${IT_PIDS[@]}")
    if [[ -n ${IT_DIR:-} && -f $IT_DIR/.pids ]]; then
        while read -r pid; do
            [[ $pid =~ ^[0-9]+$ ]] && reg+=("$pid")
        done <"$IT_DIR/.pids"
    fi
    for pid in "${reg[@]}"; do
        _it_pid_in_ns "$pid" "$IT_NS_S" "$IT_NS_C" && pids+=("$pid")
    done
    for ns in "${IT_NS_C:-}" "${IT_NS_S:-}"; do
        [[ -n $ns ]] || continue
        while read -r pid; do
            [[ $pid =~ ^[0-9]+$ ]] && pids+=("$pid")
        done < <(ip netns pids "$ns" 2>/dev/null)
    done
    if ((${#pids[@]} > 0)); then
        mapfile -t pids < <(printf '%s\n' "${pids[@]}" | sort -un)
        _it_stop_pids 30 "${pids[@]}"
    fi
    # reap our own children (no-op for others; all of them are dead by now)
    for pid in "${reg[@]}"; do
        _it_alive "$pid" && ! _it_pid_in_ns "$pid" "$IT_NS_S" "$IT_NS_C" && continue
        wait "$pid" 2>/dev/null
    done
    for ns in "${IT_NS_C:-}" "${IT_NS_S:-}"; do
        [[ -n $ns ]] || continue
        _it_kill_ns_procs "$ns"   # anything that slipped in meanwhile
        ip netns del "$ns" 2>/dev/null
        _it_netns_etc_del "$ns"
    done
    # a failed test shows the server's side too (CI keeps only the output)
    if ((rc != 0 && rc != 77)) && [[ -n ${IT_DIR:-} && -s $IT_DIR/server.log ]]; then
        _it_log "the test failed (exit $rc): the server log's last lines"
        tail -n 40 -- "$IT_DIR/server.log" | sed 's/^/  server: /'
    fi
    if [[ -n ${IT_DIR:-} && -d $IT_DIR ]]; then
        if [[ ${IT_KEEP:-0} == 1 ]]; then
            rm -f -- "$IT_DIR/.owner" "$IT_DIR/.pids"
            _it_log "cleanup: keeping $IT_DIR"
        else
            rm -rf -- "$IT_DIR"
        fi
    fi
    IT_PIDS=()
    IT_SERVER_PID=""
    IT_DIR=""
    _it_install_traps
    if [[ -n $_IT_PENDING_EXIT ]]; then
        exit "$_IT_PENDING_EXIT"
    fi
    return "$rc"
}

# ---------------------------------------------------------------------------------------
# Our own client.
#
# LVPN_BIN is exported by `make check`; outside it, the in-tree build is used.
: "${LVPN_BIN:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/cmd/layervpn}"

# it_lvpn_require_bin — skip (77) with a reason when the client was not built.
it_lvpn_require_bin() {
    if [[ ! -x $LVPN_BIN ]]; then
        echo "SKIP: layervpn binary not built ($LVPN_BIN)"
        exit 77
    fi
}

# it_require_pty — skip (77) without what the pty-driven tests need: python3
# (tests/integration/pty_run.py) and setsid (the no-terminal case).
it_require_pty() {
    command -v python3 >/dev/null || { echo "SKIP: python3 needed for the pty"; exit 77; }
    command -v setsid >/dev/null || { echo "SKIP: setsid needed"; exit 77; }
}

# it_nobody_setup — after it_client_conf: a copy for uid 65534 in $U
# ($IT_DIR/nobody): the PKI files the client uses, client.ovpn pointing at
# them and wrong-ca.ovpn (the same with a CA that did not sign the server).
# Sets NOBODY, the setpriv prefix that runs a command as uid 65534 with no
# capabilities (callers add `ip netns exec` themselves). Skips (77) without
# setpriv.
it_nobody_setup() {
    local f
    command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) not installed"; exit 77; }
    U=$IT_DIR/nobody
    mkdir -m 0755 "$U"
    chmod o+x "$IT_DIR"
    for f in ca.crt other-ca.crt client.crt client.key tc.key; do
        install -m 0644 "$IT_DIR/pki/$f" "$U/$f"
    done
    sed "s#$IT_DIR/pki/#$U/#" "$IT_DIR/client.ovpn" >"$U/client.ovpn"
    sed "s#^ca .*#ca $U/other-ca.crt#" "$U/client.ovpn" >"$U/wrong-ca.ovpn"
    chmod 0644 "$U"/*.ovpn
    "$LVPN_BIN" --version >/dev/null # let libtool's wrapper finish its set-up as root
    NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups
        --inh-caps=-all --bounding-set=-all --no-new-privs)
}

# it_proxy_net IP — a proxy address IP/24 on the server's veth, and an
# nftables rule in the server namespace that drops what the client sends to
# the server directly, so that only the way through a proxy can work.
it_proxy_net() {
    ip -n "$IT_NS_S" addr add "$1/24" dev vs0 || return 1
    ip netns exec "$IT_NS_S" nft -f - <<EOF
table inet it_direct {
    chain input {
        type filter hook input priority 0; policy accept;
        ip saddr $IT_CLIENT_IP ip daddr $IT_SERVER_IP drop
    }
}
EOF
}

# it_tinyproxy_start IP USER PASSWORD — tinyproxy (HTTP CONNECT to the
# server's port only, BasicAuth USER PASSWORD) on IP:8080 in the server
# namespace, log in $IT_DIR/tinyproxy.log; returns 1 if it does not listen
# within 10 s.
it_tinyproxy_start() {
    local ip=$1 i
    cat >"$IT_DIR/tinyproxy.conf" <<EOF
User nobody
Group nogroup
Port 8080
Listen $ip
Timeout 60
MaxClients 16
LogLevel Info
LogFile "$IT_DIR/tinyproxy.log"
PidFile "$IT_DIR/tinyproxy.pid"
Allow 198.18.0.0/15
BasicAuth $2 $3
ConnectPort $IT_PORT
DisableViaHeader Yes
EOF
    : >"$IT_DIR/tinyproxy.log"
    chmod 666 "$IT_DIR/tinyproxy.log"
    it_bg_in_server tinyproxy -d -c "$IT_DIR/tinyproxy.conf" >/dev/null
    for ((i = 0; i < 100; i++)); do
        ip netns exec "$IT_NS_S" ss -H -ltn 2>/dev/null | grep -q "$ip:8080" && return 0
        sleep 0.1
    done
    return 1
}

# it_iperf3 NS TIMEOUT_S ARGS... — `iperf3 ARGS` in namespace NS (killed
# after TIMEOUT_S), output on stdout. The
# iperf3 server still finishing the previous test on a loaded machine answers
# "the server is busy running a test": that is retried (5 times, 1 s apart),
# never counted as the tunnel's failure.
it_iperf3() {
    local ns=$1 t=$2 out i
    shift 2
    for ((i = 0; i < 5; i++)); do
        out=$(ip netns exec "$ns" timeout "$t" iperf3 "$@" 2>&1 || true)
        grep -q 'server is busy' <<<"$out" || break
        sleep 1
    done
    printf '%s\n' "$out"
}

# it_iperf_check NAME up|down SECONDS — iperf3 from the client namespace to
# the server's tunnel address 198.19.0.1 for SECONDS (down: -R). Prints
# "  NAME: iperf3 DIR N Mbit/s"; when no result or not over 1 Mbit/s, prints
# "FAIL: NAME: iperf3 DIR: ..." and iperf3's last lines and returns 1.
it_iperf_check() {
    local name=$1 dir=$2 secs=$3 flag="" out mbps
    [[ $dir == down ]] && flag=-R
    out=$(it_iperf3 "$IT_NS_C" $((secs + 15)) -c 198.19.0.1 \
        -t "$secs" $flag -f m 2>&1 || true)
    mbps=$(awk '/receiver/ {print $(NF-2)}' <<<"$out" | tail -n 1)
    if [[ -z $mbps ]] || ! awk -v m="$mbps" 'BEGIN {exit !(m > 1)}'; then
        echo "FAIL: $name: iperf3 $dir: ${mbps:-no result}"
        tail -n 5 <<<"$out"
        return 1
    fi
    echo "  $name: iperf3 $dir ${mbps} Mbit/s"
}

# it_udp_burst NAME up|down — iperf3 UDP from the client namespace to
# 198.19.0.1 (an `iperf3 -s` there): 1,472-byte payloads (1,500-byte inner
# packets, so the outer datagrams need IP fragments on a 1,500-byte link) at
# 40 Mbit/s for 1 s. Prints "  NAME: ... N% lost"; fails (returns 1, with
# iperf3's last lines) when there is no result or 10 % or more were lost: a
# client that drops what it cannot send in one GSO call loses nearly all.
it_udp_burst() {
    local name=$1 dir=$2 flag="" out loss
    [[ $dir == down ]] && flag=-R
    out=$(it_iperf3 "$IT_NS_C" 20 -c 198.19.0.1 -u -l 1472 -b 40M -t 1 $flag 2>&1 || true)
    loss=$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i ~ /^\(.*%\)$/) { gsub(/[()%]/, "", $i); print $i } }' <<<"$out" | tail -n 1)
    echo "  $name: iperf3 UDP, 1472-byte payloads, $dir: ${loss:-?}% lost"
    if [[ -z $loss ]] || ! awk -v l="$loss" 'BEGIN { exit !(l < 10) }'; then
        echo "FAIL: $name: UDP burst $dir: ${loss:-no result}% lost"
        tail -n 4 <<<"$out"
        return 1
    fi
}

# it_lvpn_start LOG [ARGS...] — run `layervpn connect --counters $IT_DIR/client.ovpn
# ARGS...` in the client namespace, output to LOG; echoes its PID.
it_lvpn_start() {
    local log=${1:?it_lvpn_start LOG}
    shift
    IT_BG_LOG=$log it_bg_in_client "$LVPN_BIN" connect --counters \
        "$IT_DIR/client.ovpn" "$@"
}

# it_bg_tunnel LOG CMD... — run CMD (a client: ours or the stock one) in the
# client namespace, output to LOG, and wait up to 20 s for its tunnel
# ("Initialization Sequence Completed"). Echoes its PID; without a tunnel,
# shows the log's tail on stderr, stops it and returns 1.
it_bg_tunnel() {
    local log=${1:?it_bg_tunnel LOG CMD...} pid
    shift
    pid=$(IT_BG_LOG=$log it_bg_in_client "$@")
    if ! it_wait_log "$log" 'Initialization Sequence Completed' 20; then
        grep -v '^counter' "$log" | tail -n 15 >&2
        it_lvpn_stop "$pid" 10 || true
        return 1
    fi
    echo "$pid"
}

# it_lvpn_stop PID [TIMEOUT_S] — SIGTERM, then wait until it has exited (SIGKILL and
# return 1 after TIMEOUT_S, default 10).
it_lvpn_stop() {
    local pid=${1:?it_lvpn_stop PID} timeout=${2:-10} i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < timeout * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    return 1
}

# it_lvpn_wait_exit PID TIMEOUT_S — wait for the client to exit by itself.
it_lvpn_wait_exit() {
    local pid=${1:?} timeout=${2:?} i
    for ((i = 0; i < timeout * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

# it_counter LOG NAME — value of "counter NAME V" printed by --counters (the last one).
# 0 when LOG has no counter list at all (the client died before printing it: the
# caller's other checks name that). "?" when the list is there without NAME, with a
# message on stderr: a name the client does not have (renamed, or misspelt in the
# test). "?" is no number: a comparison with it fails and arithmetic on it stops the
# test, where a 0 would pass a "must be 0" check unseen.
it_counter() {
    local v
    v=$(awk -v n="$2" '$1 == "counter" { any = 1; if ($2 == n) v = $3 }
        END { if (v != "") print v; else if (any) print "?" }' "$1")
    [[ $v == "?" ]] && echo "it_counter: no counter $2 in $1" >&2
    echo "${v:-0}"
}

# ---------------------------------------------------------------------------------------
# OpenVPN 2.7 server (doc openvpn-2.7.md §7.1): Debian sid's own openvpn package in a
# chroot made by mmdebstrap, built once per machine and cached (about 40-80 s, 112 MB).
# A lock serialises parallel builders; a stamp file (recipe + version) marks a finished
# build, so an interrupted build is redone. IT_SID_DIR overrides the location.
IT_SID_DIR=${IT_SID_DIR:-/var/cache/layervpn-tests/sid-openvpn27}
IT_SID_RECIPE="mmdebstrap --variant=essential --include=openvpn,iproute2 sid"
IT_SID_VERSION=""

# _it_sid_version DIR — "OpenVPN 2.7.x ..." line of the chroot's binary (empty if none)
_it_sid_version() {
    [[ -x $1/usr/sbin/openvpn ]] || return 1
    chroot "$1" openvpn --version 2>/dev/null | grep -m1 -E '^OpenVPN 2\.7\.' || true
}

# it_sid_chroot — make sure $IT_SID_DIR holds Debian sid with OpenVPN 2.7.x.
it_sid_chroot() {
    local stamp=$IT_SID_DIR/.layervpn-stamp fd t0 ver rc=0
    mkdir -p -- "$(dirname -- "$IT_SID_DIR")" || return 1
    exec {fd}>"$IT_SID_DIR.lock" || return 1
    if ! flock -w 900 "$fd"; then
        _it_log "sid chroot: lock $IT_SID_DIR.lock held for 15 min; giving up"
        exec {fd}>&-
        return 1
    fi
    if [[ -f $stamp && $(head -n 1 "$stamp") == "$IT_SID_RECIPE" ]]; then
        IT_SID_VERSION=$(_it_sid_version "$IT_SID_DIR")
    fi
    if [[ -z $IT_SID_VERSION ]]; then
        if ! command -v mmdebstrap >/dev/null; then
            _it_log "sid chroot: mmdebstrap not installed (run tools/install-deps.sh)"
            rc=1
        else
            _it_log "sid chroot: building $IT_SID_DIR ($IT_SID_RECIPE)"
            t0=$SECONDS
            rm -rf -- "$IT_SID_DIR.new" "$IT_SID_DIR"
            # Check-Valid-Until off: a machine whose clock lags still accepts sid's Release.
            if mmdebstrap --variant=essential --aptopt='Acquire::Check-Valid-Until "false"' \
                --include=openvpn,iproute2 sid "$IT_SID_DIR.new" >"$IT_SID_DIR.build.log" 2>&1 &&
                ver=$(_it_sid_version "$IT_SID_DIR.new") && [[ -n $ver ]] &&
                mv -- "$IT_SID_DIR.new" "$IT_SID_DIR"; then
                printf '%s\n%s\nbuilt %s in %ss\n' "$IT_SID_RECIPE" "$ver" "$(date -u +%FT%TZ)" \
                    $((SECONDS - t0)) >"$stamp"
                IT_SID_VERSION=$ver
                _it_log "sid chroot: built in $((SECONDS - t0)) s: $ver"
            else
                _it_log "sid chroot: build failed; tail of $IT_SID_DIR.build.log:"
                tail -n 15 "$IT_SID_DIR.build.log" >&2
                rm -rf -- "$IT_SID_DIR.new"
                rc=1
            fi
        fi
    fi
    exec {fd}>&-
    return "$rc"
}

# it_server27_start — like it_server_start, with OpenVPN 2.7 from the sid chroot. The
# server runs in a private mount namespace (gone when it exits) where /dev, /proc, a
# tmpfs /tmp and $IT_DIR (same path, so server.conf is unchanged) are mounted into the
# chroot; the shared cache directory is never mounted on. Add extra=disable-dco to
# it_server_conf to keep the userspace data path (epoch keys, PUSH_UPDATE).
it_server27_start() {
    local rc=0
    it_sid_chroot || return 1
    [[ $IT_DIR == /tmp/* ]] || { _it_log "it_server27_start: IT_DIR must be under /tmp"; return 1; }
    # shellcheck disable=SC2016
    IT_SERVER_LAUNCH=(unshare --mount --propagation private sh -c '
        r=$1 d=$2; shift 2
        mount --rbind /dev "$r/dev" && mount -t proc proc "$r/proc" &&
            mount -t tmpfs -o mode=1777 tmpfs "$r/tmp" && mkdir -p "$r$d" &&
            mount --bind "$d" "$r$d" && exec chroot "$r" openvpn "$@"' \
        sh "$IT_SID_DIR" "$IT_DIR")
    it_server_start || rc=$?
    IT_SERVER_LAUNCH=(openvpn)
    ((rc == 0)) && _it_log "server is $IT_SID_VERSION"
    return "$rc"
}
