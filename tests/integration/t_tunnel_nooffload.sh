#!/usr/bin/env bash
# t_tunnel.sh's whole matrix (AES-128-GCM, AES-256-GCM, CHACHA20-POLY1305
# over UDP and TCP, AES-256-CBC with SHA256, the two compression framings)
# with every offload off: the client's config says `disable-offload`, which
# without an argument means both a TUN without IFF_VNET_HDR and libuv's
# one-datagram-per-call UDP path (no recvmmsg, GSO or GRO). t_tunnel.sh
# checks from the client's counters that no offload was used.
export LVPN_IT_DISABLE_OFFLOAD=1
unset LVPN_NO_UDP_OFFLOAD
. "$(dirname "$0")/t_tunnel.sh"
