#!/usr/bin/python3
"""Reference vectors for tests/check_tlswrap.c, computed independently of the
C code with the `cryptography` module, from the layouts in
doc/openvpn-protocol.md §3 (OpenVPN ssl_pkt.c swap_hmac, tls_crypt.c).

Run: python3 tests/vectors/tlswrap_vectors.py > /tmp/vectors.h
and paste the arrays into tests/packetmuxer/check_tlswrap.c.
The keys themselves (shared with the fuzz targets) are generated with
    python3 tests/vectors/tlswrap_vectors.py keys > tests/data/test_keys.h
"""
import base64
import sys
import hashlib
import struct

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def hmac_of(alg, key, *parts):
    h = hmac.HMAC(key, alg)
    for p in parts:
        h.update(p)
    return h.finalize()


def ctr(key, iv, data):
    e = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return e.update(data) + e.finalize()


# A fixed 256-byte key2: keys[0] = bytes 0..127, keys[1] = 128..255, each
# cipher[64] | hmac[64].
KEY2 = b"".join(hashlib.sha256(b"layervpn key2 %d" % i).digest()
                for i in range(8))
assert len(KEY2) == 256


def keys(k):
    return KEY2[128 * k:128 * k + 64], KEY2[128 * k + 64:128 * k + 128]


CS = bytes.fromhex("0102030405060708")   # client session id
SS = bytes.fromhex("a1a2a3a4a5a6a7a8")   # server session id
TIME = 0x65000000


def tls_auth(alg, k, pid, t, plain):
    """plain = byte0|sid|rest -> byte0|sid|HMAC|pid|time|rest."""
    L = alg.digest_size
    _, hk = keys(k)
    pt = struct.pack(">II", pid, t)
    mac = hmac_of(alg, hk[:L], pt, plain[:9], plain[9:])
    return plain[:9] + mac + pt + plain[9:]


def tls_crypt(k, pid, t, plain):
    """plain = byte0|sid|rest -> byte0|sid|pid|time|tag|CTR(rest)."""
    ck, hk = keys(k)
    head = plain[:9] + struct.pack(">II", pid, t)
    tag = hmac_of(hashes.SHA256(), hk[:32], head, plain[9:])
    return head + tag + ctr(ck[:32], tag[:16], plain[9:])


def c_array(name, b):
    # A string literal exactly as long as the bytes (no NUL): data, not
    # code, and sizeof() is the length.
    lines = []
    for i in range(0, len(b), 16):
        lines.append('    "' + "".join("\\x%02x" % x for x in b[i:i + 16]) +
                     '"')
    return "static const uint8_t %s[%d] V_BYTES =\n%s;" % (name, len(b),
                                                         "\n".join(lines))


def static_pem(key2):
    h = key2.hex()
    body = "\n".join(h[i:i + 32] for i in range(0, len(h), 32))
    return ("#\n# 2048 bit OpenVPN static key\n#\n"
            "-----BEGIN OpenVPN Static key V1-----\n" + body +
            "\n-----END OpenVPN Static key V1-----\n")


def c_string(name, s, attr=""):
    out = ["static const char %s[]%s =" % (name, attr)]
    for line in s.splitlines(True):
        out.append('    "%s"' % line.replace("\n", "\\n"))
    return "\n".join(out) + ";"


# Unwrapped packets.
reset_client = bytes([0x38]) + CS + b"\x00" + struct.pack(">I", 0)
ctl_client = (bytes([0x20]) + CS + b"\x01" + struct.pack(">I", 0) + SS +
              struct.pack(">I", 1) + b"hello, tls-wrap")
reset_server = (bytes([0x40]) + SS + b"\x01" + struct.pack(">I", 0) + CS +
                struct.pack(">I", 0))
ack_client = bytes([0x28]) + CS + b"\x02" + struct.pack(">II", 1, 0) + SS

vec = []
# tls-auth, client key-direction 1: signs with keys[1].hmac (bytes 192..),
# the server (direction 0) signs with keys[0].hmac (bytes 64..).
vec.append(c_array("v_auth_sha1_reset_client",
                   tls_auth(hashes.SHA1(), 1, 1, TIME, reset_client)))
vec.append(c_array("v_auth_sha256_ctl_client",
                   tls_auth(hashes.SHA256(), 1, 2, TIME, ctl_client)))
vec.append(c_array("v_auth_sha1_reset_server",
                   tls_auth(hashes.SHA1(), 0, 1, TIME + 5, reset_server)))
# tls-auth without direction: both ways keys[0].
vec.append(c_array("v_auth_sha512_nodir_ack",
                   tls_auth(hashes.SHA512(), 0, 1, TIME, ack_client)))
# tls-crypt: the client encrypts with keys[1] (128.., 192..), the server with
# keys[0] (0.., 64..).
vec.append(c_array("v_crypt_ctl_client", tls_crypt(1, 1, TIME, ctl_client)))
vec.append(c_array("v_crypt_reset_server",
                   tls_crypt(0, 1, TIME + 5, reset_server)))

# tls-crypt-v2: a client key Kc (= KEY2) wrapped by a server key, as
# OpenVPN's tls_crypt_v2_wrap_client_key does:
#   WKc = T | AES-256-CTR(Ke, T[0..15], Kc | metadata) | len
#   T = HMAC-SHA256(Ka, len | Kc | metadata)
srv = b"".join(hashlib.sha256(b"layervpn v2 server %d" % i).digest()
               for i in range(4))
ke, ka = srv[:32], srv[64:96]
metadata = b"\x00" + b"layervpn-test"
wl = 32 + len(KEY2) + len(metadata) + 2
net_len = struct.pack(">H", wl)
t = hmac_of(hashes.SHA256(), ka, net_len, KEY2, metadata)
wkc = t + ctr(ke, t[:16], KEY2 + metadata) + net_len
assert len(wkc) == wl
raw = KEY2 + wkc
b64 = base64.b64encode(raw).decode()
v2pem = ("-----BEGIN OpenVPN tls-crypt-v2 client key-----\n" +
         "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)) +
         "\n-----END OpenVPN tls-crypt-v2 client key-----\n")
reset_v3 = bytes([0x50]) + CS + b"\x00" + struct.pack(">I", 0)
# early negotiation: the first replay id is 0x0f000001
vec.append(c_array("v_crypt_v2_reset_v3",
                   tls_crypt(1, 0x0f000001, TIME, reset_v3) + wkc))
vec.append(c_array("v_wkc", wkc))



def c_bytes(name, b):
    # A brace-initialized array: no attribute needed, usable from any file.
    lines = []
    for i in range(0, len(b), 12):
        lines.append("    " + " ".join("0x%02x," % x for x in b[i:i + 12]))
    return ("static const uint8_t %s[%d]%s = {\n%s\n};"
            % (name, len(b), UNUSED, "\n".join(lines)))


UNUSED = " __attribute__((unused))"
if sys.argv[1:] == ["keys"]:
    print("/* generated by tests/vectors/tlswrap_vectors.py keys */")
    print("/* The fixed test keys shared by the Check suites and the fuzz")
    print(" * targets (which do not link tests/fakes.c): plain constants. */")
    print("#ifndef LVPN_TESTS_DATA_TEST_KEYS_H")
    print("#define LVPN_TESTS_DATA_TEST_KEYS_H")
    print("")
    print("#include <stdint.h>")
    print("")
    print("/* A 2048-bit OpenVPN static key (tls-auth, tls-crypt). */")
    print(c_string("test_static_pem", static_pem(KEY2), UNUSED))
    print("/* A tls-crypt-v2 client key: Kc (the same 256 bytes) || WKc. */")
    print(c_string("test_v2_pem", v2pem, UNUSED))
    print("/* The key2 both keys hold. */")
    print(c_bytes("test_key2", KEY2))
    print("")
    print("#endif")
    sys.exit(0)

print("/* generated by tests/vectors/tlswrap_vectors.py */")
print("#if defined(__has_attribute)")
print("#if __has_attribute(nonstring)")
print("#define V_BYTES __attribute__((nonstring))")
print("#endif")
print("#endif")
print("#ifndef V_BYTES")
print("#define V_BYTES")
print("#endif")
print("#define V_TIME 0x%08xu" % TIME)
print("/* test_static_pem, test_v2_pem, test_key2: tests/data/test_keys.h */")
print(c_array("v_reset_client", reset_client))
print(c_array("v_ctl_client", ctl_client))
print(c_array("v_reset_server", reset_server))
print(c_array("v_ack_client", ack_client))
print(c_array("v_reset_v3", reset_v3))
for v in vec:
    print(v)
