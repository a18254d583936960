"""The installed Python binding against a real OpenVPN 2.6 server.

Run by t_python.sh (as uid 65534, no capabilities, no TUN) with the
binding and liblayers from `make install DESTDIR=...`:
  LVPN_PY_CONFIG     a working client config
  LVPN_PY_WRONG_CA   the same with another CA
  LVPN_PY_TARGET     the server's tunnel address
  LVPN_PY_PREFIX     where the binding must have been imported from
"""

import logging
import os
import time
import struct
import tempfile
import unittest

import layervpn

CONFIG = os.environ.get("LVPN_PY_CONFIG")
WRONG_CA = os.environ.get("LVPN_PY_WRONG_CA")
TARGET = os.environ.get("LVPN_PY_TARGET", "198.19.0.1")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def echo_request(src, dst, ident, seq, payload=b"layervpn-python!" * 3):
    icmp = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), seq, 0, 64, 1, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + icmp


def echo_reply_seq(pkt, ident, src):
    """The sequence number if pkt is an echo reply to us from src, else None."""
    if len(pkt) < 28 or pkt[0] >> 4 != 4 or pkt[9] != 1:
        return None
    ihl = (pkt[0] & 15) * 4
    if pkt[12:16] != bytes(map(int, src.split("."))) or pkt[ihl] != 0:
        return None
    typ, code, _, rid, seq = struct.unpack("!BBHHH", pkt[ihl:ihl + 8])
    return seq if rid == ident else None


class Offline(unittest.TestCase):
    def test_imported_from_the_install(self):
        prefix = os.environ.get("LVPN_PY_PREFIX")
        if prefix:
            self.assertTrue(layervpn.__file__.startswith(prefix), layervpn.__file__)

    def test_version_and_state_names(self):
        self.assertRegex(layervpn.version(), r"^\d+\.\d+\.\d+$")
        self.assertEqual(layervpn.state_name(4), "CONNECTED")
        self.assertEqual(layervpn.state_name(9), "GET_CONFIG")
        self.assertEqual(layervpn.state_name(99), "?")

    def test_bad_config_names_file_and_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".ovpn") as f:
            f.write("client\nremote 198.18.0.1\nfrobnicate yes\n")
            f.flush()
            with self.assertRaises(layervpn.Error) as cm:
                layervpn.Client(f.name)
            self.assertIn("%s:3" % f.name, str(cm.exception))
            self.assertIn("frobnicate", str(cm.exception))
            self.assertEqual(cm.exception.name, "LVPN_EUNSUPPORTED")

    def test_bad_override(self):
        with tempfile.NamedTemporaryFile("w", suffix=".ovpn") as f:
            f.write("client\nremote 198.18.0.1\n")
            f.flush()
            with self.assertRaises(layervpn.Error):
                layervpn.Client(f.name, options={"proto": "carrier-pigeon"})


@unittest.skipUnless(CONFIG, "LVPN_PY_CONFIG not set (run by t_python.sh)")
class Online(unittest.TestCase):
    def test_ping_three_times_and_counters(self):
        events = []
        with self.assertLogs("layervpn", level="INFO") as logs:
            with layervpn.Client(CONFIG, on_event=events.append) as c:
                self.assertEqual(c.state, "INITIAL")
                c.start()
                c.wait_connected(timeout=30)
                self.assertEqual(c.state, "CONNECTED")
                src = c.tunnel_ipv4
                self.assertRegex(src, r"^198\.19\.0\.\d+$")
                ident = os.getpid() & 0xFFFF
                got = set()
                for seq in (1, 2, 3):
                    c.send(echo_request(src, TARGET, ident, seq))
                    while seq not in got:
                        pkt = c.recv(timeout=10)
                        self.assertIsNotNone(pkt, "no reply to echo %d" % seq)
                        s = echo_reply_seq(pkt, ident, TARGET)
                        if s is not None:
                            got.add(s)
                self.assertEqual(got, {1, 2, 3})
                counters = c.counters()
                self.assertGreaterEqual(counters["datachannel.rx_packets"], 3)
                self.assertGreaterEqual(counters["datachannel.tx_packets"], 3)
                c.stop()
                self.assertEqual(c.state, "EXITING")
                after = c.counters()  # the values when it stopped
                self.assertGreaterEqual(after["datachannel.rx_packets"], 3)
                self.assertIsNone(c.recv(timeout=0.1))
        self.assertTrue(any("Initialization Sequence Completed" in m for m in logs.output))
        names = [e.name for e in events]
        self.assertEqual(names[:2], ["PUSH_REPLY", "CONNECTED"], names)
        self.assertEqual(names[-1], "STOPPED")
        self.assertEqual(layervpn.Error(events[-1].err).name, "LVPN_ESTOPPED")
        print("ping: 3/3 replies through the tunnel from %s; datachannel rx %d tx %d"
              % (src, counters["datachannel.rx_packets"], counters["datachannel.tx_packets"]))

    def test_inside_filter_hook(self):
        with layervpn.Client(CONFIG) as c:
            c.start()
            c.wait_connected(timeout=30)
            src = c.tunnel_ipv4
            ident = (os.getpid() + 1) & 0xFFFF

            def ping(seq, timeout):
                c.send(echo_request(src, TARGET, ident, seq))
                end = time.monotonic() + timeout
                while time.monotonic() < end:
                    pkt = c.recv(timeout=max(0.05, end - time.monotonic()))
                    if pkt is not None and echo_reply_seq(pkt, ident, TARGET) == seq:
                        return True
                return False
            self.assertTrue(ping(1, 10))
            with self.assertRaises(layervpn.Error) as e:
                c.add_inside_filter(["deny icmp port 7"])
            self.assertIn("'port' needs tcp or udp", str(e.exception))
            hid = c.add_inside_filter(["deny icmp"])
            self.assertFalse(ping(2, 2))
            seen, dropped = c.inside_hook_stats(hid)
            self.assertGreaterEqual(dropped, 1)
            self.assertEqual(c.counters()["hooks.filter_dropped"], dropped)
            c.remove_inside_hook(hid)
            self.assertTrue(ping(3, 10))
            with self.assertRaises(layervpn.Error):
                c.inside_hook_stats(hid)
            print("filter hook: echo dropped (%d of %d seen), restored after removal"
                  % (dropped, seen))

    def test_events_iterator(self):
        c = layervpn.Client(CONFIG)
        try:
            c.start()
            names = []
            for ev in c.events(timeout=30):
                names.append(ev.name)
                if ev.name == "CONNECTED":
                    c.stop()
            self.assertEqual(names, ["PUSH_REPLY", "CONNECTED", "STOPPED"])
        finally:
            c.close()

    @unittest.skipUnless(WRONG_CA, "LVPN_PY_WRONG_CA not set")
    def test_wrong_ca_raises_naming_the_cause(self):
        logging.getLogger("layervpn").setLevel(logging.CRITICAL + 1)
        try:
            with layervpn.Client(WRONG_CA) as c:
                c.start()
                with self.assertRaises(layervpn.Error) as cm:
                    c.wait_connected(timeout=30)
                self.assertIn("not signed by a trusted CA", str(cm.exception))
                self.assertEqual(cm.exception.name, "LVPN_ECERT_UNTRUSTED")
        finally:
            logging.getLogger("layervpn").setLevel(logging.NOTSET)


if __name__ == "__main__":
    unittest.main()
