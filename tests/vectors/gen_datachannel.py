#!/usr/bin/python3
"""Known answers for layers/datachannel_crypto.c and layers/kdf.c.

Everything here is computed independently of our C code: AES-GCM,
ChaCha20-Poly1305 and AES-CBC come from `cryptography` (OpenSSL), HMAC and the
TLS PRFs from Python's hmac/hashlib. The PRFs are cross-checked against the
published TLS 1.2 PRF test vector and, when available, `openssl kdf TLS1-PRF`.

The wire layouts follow OpenVPN 2.6 (crypto.c openvpn_encrypt_aead /
openvpn_encrypt_v1, ssl.c tls_prepend_opcode_v1/v2):
  AEAD: hdr | pid(4) | tag(16) | ct; nonce = pid || implicit_iv(8);
        AD = hdr || pid for P_DATA_V2, pid alone for P_DATA_V1.
  CBC:  hdr | HMAC(IV || ct) | IV(16) | AES-CBC-PKCS7(pid(4) || payload).

Run:  /usr/bin/python3 tests/vectors/gen_datachannel.py > /tmp/vectors.c
and paste the "(DC)" section into tests/check_datachannel_crypto.c and the
"(KDF)" section into tests/check_kdf.c, then run clang-format on both.
"""
import hashlib
import hmac
import shutil
import struct
import subprocess

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

# ---------------------------------------------------------------- inputs

# key2 as OpenVPN lays it out: keys[0] = {cipher[64], hmac[64]} (client to
# server), keys[1] likewise (server to client). Bytes 64..71 are the client's
# TX implicit IV; we plant the one seen in the lab capture (doc §6.2).
KEY2 = bytearray((i * 37 + 11) & 0xFF for i in range(256))
KEY2[64:72] = bytes.fromhex("3d78e7ece91fce52")
KEY2 = bytes(KEY2)

# Lab capture (doc §6.2): first client packet, AES-256-GCM, P_DATA_V2,
# peer-id 1, key_id 0, packet id 1.
LAB_AD = bytes.fromhex("4800000100000001")
LAB_IV = bytes.fromhex("00000001" "3d78e7ece91fce52")


def payload(n, seed):
    """Deterministic payload; byte 0 is 0x45 like an IPv4 header. The C test
    rebuilds it with the same formula."""
    return bytes([0x45] + [(i * seed + 1) & 0xFF for i in range(1, n)])


def slices(direction):
    """(cipher key area, hmac/implicit-IV area) for 'c2s' (keys[0]) or
    's2c' (keys[1])."""
    base = 0 if direction == "c2s" else 128
    return KEY2[base:base + 64], KEY2[base + 64:base + 128]


def header(key_id, peer_id):
    if peer_id is None:
        return bytes([(6 << 3) | key_id])
    return struct.pack(">I", (((9 << 3) | key_id) << 24) | peer_id)


AEAD = {
    "AES-128-GCM": (lambda k: AESGCM(k), 16),
    "AES-192-GCM": (lambda k: AESGCM(k), 24),
    "AES-256-GCM": (lambda k: AESGCM(k), 32),
    "CHACHA20-POLY1305": (lambda k: ChaCha20Poly1305(k), 32),
}
CBC = {"AES-128-CBC": 16, "AES-192-CBC": 24, "AES-256-CBC": 32}
MD = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256,
      "SHA384": hashlib.sha384, "SHA512": hashlib.sha512}


def wire_aead(cipher, direction, key_id, peer_id, pid, pt):
    mk, keylen = AEAD[cipher]
    ckey, hkey = slices(direction)
    hdr = header(key_id, peer_id)
    pidb = struct.pack(">I", pid)
    nonce = pidb + hkey[:8]
    ad = hdr + pidb if peer_id is not None else pidb
    out = mk(ckey[:keylen]).encrypt(nonce, pt, ad)
    ct, tag = out[:-16], out[-16:]
    return hdr + pidb + tag + ct, nonce, ad


def wire_cbc(cipher, auth, direction, key_id, peer_id, pid, pt, iv,
             raw=None, raw_ct=None):
    keylen = CBC[cipher]
    md = MD[auth]
    ckey, hkey = slices(direction)
    plain = struct.pack(">I", pid) + pt
    pad = 16 - len(plain) % 16
    plain += bytes([pad]) * pad
    if raw is not None:
        plain = raw
    enc = Cipher(algorithms.AES(ckey[:keylen]), modes.CBC(iv)).encryptor()
    ct = enc.update(plain) + enc.finalize()
    if raw_ct is not None:
        ct = raw_ct
    mac = hmac.new(hkey[:md().digest_size], iv + ct, md).digest()
    return header(key_id, peer_id) + mac + iv + ct


# (name, cipher, auth, direction, key_id, peer_id or None for V1, pid,
#  payload length, payload seed, CBC IV or None)
IV_A = bytes(range(0xA0, 0xB0))
IV_B = bytes.fromhex("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
CASES = [
    ("lab_aes256gcm_v2_c2s", "AES-256-GCM", "SHA1", "c2s", 0, 1, 1, 60, 3,
     None),
    ("aes256gcm_v2_s2c", "AES-256-GCM", "SHA1", "s2c", 0, 1, 1, 60, 5, None),
    ("aes256gcm_v1_c2s", "AES-256-GCM", "SHA1", "c2s", 3, None, 77, 41, 7,
     None),
    ("aes128gcm_v2_c2s", "AES-128-GCM", "SHA1", "c2s", 1, 0x00ABCDEF, 2, 33,
     11, None),
    ("aes128gcm_v1_s2c", "AES-128-GCM", "SHA1", "s2c", 2, None, 9, 17, 13,
     None),
    ("aes192gcm_v2_s2c", "AES-192-GCM", "SHA1", "s2c", 0, 5, 3, 20, 17, None),
    ("chacha_v2_c2s", "CHACHA20-POLY1305", "SHA1", "c2s", 0, 7, 1, 70, 19,
     None),
    ("chacha_v1_s2c", "CHACHA20-POLY1305", "SHA1", "s2c", 4, None, 1000, 1,
     23, None),
    ("aes256cbc_sha256_v2_c2s", "AES-256-CBC", "SHA256", "c2s", 0, 1, 1, 45,
     29, IV_A),
    ("aes256cbc_sha256_v2_s2c", "AES-256-CBC", "SHA256", "s2c", 0, 1, 2, 28,
     31, IV_B),  # pid || payload = 32 bytes: a whole block of padding
    ("aes128cbc_sha1_v1_c2s", "AES-128-CBC", "SHA1", "c2s", 1, None, 3, 50,
     37, IV_B),
    ("aes128cbc_sha1_v1_s2c", "AES-128-CBC", "SHA1", "s2c", 1, None, 4, 12,
     41, IV_A),
    ("aes192cbc_sha512_v2_s2c", "AES-192-CBC", "SHA512", "s2c", 6, 0x123456,
     8, 64, 43, IV_A),
    # Authentic packets carrying packet id 0, which is never valid.
    ("pid0_aes128gcm_v2_s2c", "AES-128-GCM", "SHA1", "s2c", 0, 2, 0, 30, 3,
     None),
    ("pid0_aes256cbc_sha256_v1_s2c", "AES-256-CBC", "SHA256", "s2c", 0, None,
     0, 30, 3, IV_A),
]

# Authentic (correct HMAC) AES-256-CBC/SHA256 P_DATA_V1 key_id 0 server
# packets whose decrypted content is malformed: (name, raw CBC plaintext
# or, for "unaligned", raw ciphertext, expected error).
RAW_CBC = [
    ("no_packet_id", bytes([16]) * 16, "LVPN_EPROTO"),
    ("pad_zero", bytes(range(1, 16)) + b"\x00", "LVPN_EAUTH"),
    ("pad_17", bytes(15) + b"\x11", "LVPN_EAUTH"),
    ("pad_inconsistent", b"\x00\x00\x00\x07" + bytes(9) + b"\x03\x02\x03",
     "LVPN_EAUTH"),
    ("unaligned", None, "LVPN_EAUTH"),
]

# ---------------------------------------------------------------- PRFs


def p_hash(md, secret, seed, n):
    out, a = b"", seed
    while len(out) < n:
        a = hmac.new(secret, a, md).digest()
        out += hmac.new(secret, a + seed, md).digest()
    return out[:n]


def tls1_prf(secret, label, seed, n):
    """RFC 2246 PRF: P_MD5(S1) XOR P_SHA1(S2), halves overlapping when odd."""
    half = (len(secret) + 1) // 2
    s1, s2 = secret[:half], secret[len(secret) - half:]
    a = p_hash(hashlib.md5, s1, label + seed, n)
    b = p_hash(hashlib.sha1, s2, label + seed, n)
    return bytes(x ^ y for x, y in zip(a, b))


def tls12_prf(md, secret, label, seed, n):
    return p_hash(md, secret, label + seed, n)


def openssl_prf(digest, secret, label, seed, n):
    """`openssl kdf TLS1-PRF` as a third implementation (None if absent)."""
    exe = shutil.which("openssl")
    if exe is None:
        return None
    out = subprocess.run(
        [exe, "kdf", "-keylen", str(n), "-kdfopt", "digest:" + digest,
         "-kdfopt", "hexsecret:" + secret.hex(),
         "-kdfopt", "hexseed:" + (label + seed).hex(), "TLS1-PRF"],
        check=True, capture_output=True, text=True).stdout
    return bytes.fromhex(out.strip().replace(":", ""))


def self_check():
    # Published TLS 1.2 PRF (SHA-256) test vector (IETF TLS WG list).
    got = tls12_prf(hashlib.sha256,
                    bytes.fromhex("9bbe436ba940f017b17652849a71db35"),
                    b"test label",
                    bytes.fromhex("a0ba9f936cda311827a6f796ffd5198c"), 16)
    assert got.hex() == "e3f229ba727be17b8d122620557cd453", got.hex()
    sec, seed = bytes(range(48)), bytes(range(100, 177))
    for digest, fn in (("MD5-SHA1", lambda: tls1_prf(sec, b"x", seed, 100)),
                       ("SHA256", lambda: tls12_prf(hashlib.sha256, sec, b"x",
                                                    seed, 100)),
                       ("SHA384", lambda: tls12_prf(hashlib.sha384, sec, b"x",
                                                    seed, 100))):
        ref = openssl_prf(digest, sec, b"x", seed, 100)
        assert ref is None or ref == fn(), digest


EKM_LABEL = b"EXPORTER-OpenVPN-datakeys"
MS = bytes(range(0x10, 0x40))                       # 48
CR = bytes(range(0x40, 0x60))                       # 32
SR = bytes(range(0x60, 0x80))                       # 32
PRE_MASTER = bytes((i * 5 + 1) & 0xFF for i in range(48))
C_RANDOM1 = bytes((i * 3 + 0x21) & 0xFF for i in range(32))
S_RANDOM1 = bytes((i * 11 + 0x07) & 0xFF for i in range(32))
C_RANDOM2 = bytes((i * 13 + 0x55) & 0xFF for i in range(32))
S_RANDOM2 = bytes((i * 17 + 0x99) & 0xFF for i in range(32))
C_SID = bytes.fromhex("0102030405060708")
S_SID = bytes.fromhex("f1e2d3c4b5a69788")

# ---------------------------------------------------------------- output


def c_hex(b, indent=6):
    h = b.hex()
    if not h:
        return '""'
    parts = [h[i:i + 64] for i in range(0, len(h), 64)]
    pad = " " * indent
    return ("\n" + pad).join('"%s"' % p for p in parts)


def main():
    self_check()
    print("/* ---- generated by tests/vectors/gen_datachannel.py (DC) ---- */")
    print("static const char key2_hex[] =\n    %s;" % c_hex(KEY2, 4))
    print("static const dc_vector_t dc_vectors[] = {")
    for (name, cipher, auth, d, kid, peer, pid, n, seed, iv) in CASES:
        pt = payload(n, seed)
        if iv is None:
            wire, nonce, ad = wire_aead(cipher, d, kid, peer, pid, pt)
            if name.startswith("lab_"):
                assert nonce == LAB_IV and ad == LAB_AD, (nonce.hex(), ad.hex())
        else:
            wire = wire_cbc(cipher, auth, d, kid, peer, pid, pt, iv)
        print('    {"%s", "%s", "%s", %d, %d, 0x%xu, %du, %d, %d,\n'
              '     %s,\n     %s},' %
              (name, cipher, auth, 1 if d == "c2s" else 0, kid,
               0xFFFFFF if peer is None else peer, pid, n, seed,
               "NULL" if iv is None else '"%s"' % iv.hex(), c_hex(wire, 5)))
    print("};")
    print("static const dc_raw_vector_t dc_raw_cbc[] = {")
    for name, raw, err in RAW_CBC:
        if raw is None:
            wire = wire_cbc("AES-256-CBC", "SHA256", "s2c", 0, None, 0, b"",
                            IV_A, raw_ct=bytes(range(20)))
        else:
            wire = wire_cbc("AES-256-CBC", "SHA256", "s2c", 0, None, 0, b"",
                            IV_A, raw=raw)
        print('    {"%s", %s,\n     %s},' % (name, err, c_hex(wire, 5)))
    print("};")

    print("/* ---- generated by tests/vectors/gen_datachannel.py (KDF) ---- */")
    for name, md in (("sha256", hashlib.sha256), ("sha384", hashlib.sha384)):
        out = tls12_prf(md, MS, EKM_LABEL, CR + SR, 256)
        print("static const char ekm_%s_hex[] =\n    %s;" %
              (name, c_hex(out, 4)))
    out = tls1_prf(MS, EKM_LABEL, CR + SR, 256)
    print("static const char ekm_tls1_hex[] =\n    %s;" % c_hex(out, 4))
    master = tls1_prf(PRE_MASTER, b"OpenVPN master secret",
                      C_RANDOM1 + S_RANDOM1, 48)
    key2 = tls1_prf(master, b"OpenVPN key expansion",
                    C_RANDOM2 + S_RANDOM2 + C_SID + S_SID, 256)
    print("static const char openvpn_prf_master_hex[] =\n    %s;" %
          c_hex(master, 4))
    print("static const char openvpn_prf_key2_hex[] =\n    %s;" %
          c_hex(key2, 4))


if __name__ == "__main__":
    main()
