"""layervpn: an OpenVPN-protocol client from Python, over liblayers.

The C library (liblayers, loaded by its soname) runs on a libuv loop on its
own thread; every call from Python is handed to that thread, and the
library's callbacks (events, inside packets, log lines) come back through
thread-safe queues. No TUN device and no privilege are needed: inside IP
packets are sent with Client.send() and received with Client.recv().

    with layervpn.Client("client.ovpn") as c:
        c.start()
        c.wait_connected(timeout=15)   # raises layervpn.Error naming the cause
        c.tunnel_ipv4                  # "198.19.0.2"
        c.send(ip_packet_bytes)        # inject an inside packet
        c.recv(timeout=1.0)            # next inside packet, or None
        c.counters()                   # {"datachannel.rx_packets": ..., ...}
        c.stop()

Log lines go to the logging module's "layervpn" logger.
"""

import collections
import ctypes
import logging
import queue
import socket
import struct
import threading

__all__ = ["Client", "Error", "Event", "state_name", "version"]

_LIB_SONAME = "liblayers.so.0"
_UV_SONAME = "libuv.so.1"
_UV_ASYNC = 1  # uv_handle_type
_UV_RUN_DEFAULT = 0

_lib = ctypes.CDLL(_LIB_SONAME)
_uv = ctypes.CDLL(_UV_SONAME)

_vp = ctypes.c_void_p
_LOG_CB = ctypes.CFUNCTYPE(None, _vp, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p)
_EVENT_CB = ctypes.CFUNCTYPE(None, _vp, ctypes.c_int, ctypes.c_int)
_INSIDE_CB = ctypes.CFUNCTYPE(None, _vp, ctypes.POINTER(ctypes.c_uint8), ctypes.c_size_t)
_COUNTER_CB = ctypes.CFUNCTYPE(None, _vp, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint64)
_ASYNC_CB = ctypes.CFUNCTYPE(None, _vp)


def _proto(lib, name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_config_load = _proto(_lib, "lvpn_config_load", ctypes.c_int, ctypes.POINTER(_vp),
                      ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t)
_config_set = _proto(_lib, "lvpn_config_set", ctypes.c_int, _vp, ctypes.c_char_p,
                     ctypes.POINTER(ctypes.c_char_p), ctypes.c_char_p, ctypes.c_size_t)
_config_free = _proto(_lib, "lvpn_config_free", None, _vp)
_client_new = _proto(_lib, "lvpn_client_new", ctypes.c_int, ctypes.POINTER(_vp), _vp, _vp)
_set_log = _proto(_lib, "lvpn_client_set_log", None, _vp, _LOG_CB, _vp, ctypes.c_int)
_set_event = _proto(_lib, "lvpn_client_set_event_cb", None, _vp, _EVENT_CB)
_set_inside = _proto(_lib, "lvpn_client_set_inside_write", None, _vp, _INSIDE_CB)
_client_start = _proto(_lib, "lvpn_client_start", ctypes.c_int, _vp)
_client_stop = _proto(_lib, "lvpn_client_stop", None, _vp)
_client_close = _proto(_lib, "lvpn_client_close", ctypes.c_int, _vp, _vp)
_inside_input = _proto(_lib, "lvpn_client_inside_input", ctypes.c_int, _vp,
                       ctypes.c_char_p, ctypes.c_size_t)
_tunnel_ipv4 = _proto(_lib, "lvpn_client_tunnel_ipv4", ctypes.c_int, _vp,
                      ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(ctypes.c_uint32))
_client_state = _proto(_lib, "lvpn_client_state", ctypes.c_int, _vp)
_state_name = _proto(_lib, "lvpn_state_name", ctypes.c_char_p, ctypes.c_int)
_client_counters = _proto(_lib, "lvpn_client_counters", None, _vp, _COUNTER_CB, _vp)
_add_filter = _proto(_lib, "lvpn_client_add_inside_filter", ctypes.c_int, _vp,
                     ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t, ctypes.c_uint,
                     ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_uint32))
_remove_hook = _proto(_lib, "lvpn_client_remove_inside_hook", ctypes.c_int, _vp,
                      ctypes.c_uint32)
_hook_stats = _proto(_lib, "lvpn_client_inside_hook_stats", ctypes.c_int, _vp,
                     ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint64),
                     ctypes.POINTER(ctypes.c_uint64))
_strerror = _proto(_lib, "lvpn_strerror", ctypes.c_char_p, ctypes.c_int)
_err_name = _proto(_lib, "lvpn_err_name", ctypes.c_char_p, ctypes.c_int)
_version = _proto(_lib, "lvpn_version_string", ctypes.c_char_p)

_uv_loop_size = _proto(_uv, "uv_loop_size", ctypes.c_size_t)
_uv_handle_size = _proto(_uv, "uv_handle_size", ctypes.c_size_t, ctypes.c_int)
_uv_loop_init = _proto(_uv, "uv_loop_init", ctypes.c_int, _vp)
_uv_loop_close = _proto(_uv, "uv_loop_close", ctypes.c_int, _vp)
_uv_run = _proto(_uv, "uv_run", ctypes.c_int, _vp, ctypes.c_int)
_uv_async_init = _proto(_uv, "uv_async_init", ctypes.c_int, _vp, _vp, _ASYNC_CB)
_uv_async_send = _proto(_uv, "uv_async_send", ctypes.c_int, _vp)
_uv_close = _proto(_uv, "uv_close", None, _vp, _vp)

_EVENT_NAMES = {1: "PUSH_REPLY", 2: "CONNECTED", 3: "STOPPED", 4: "RESTARTING",
                5: "PUSH_UPDATE", 6: "AUTH_PENDING", 7: "INFO"}
_ESTOPPED = None  # looked up below


def version():
    """liblayers' version, "MAJOR.MINOR.PATCH"."""
    return _version().decode()


def state_name(state):
    """OpenVPN's name for a state number ("CONNECTED", ...)."""
    return _state_name(state).decode()


def _find_estopped():
    # the enum is generated from one table; find LVPN_ESTOPPED by name
    for code in range(-30000, -29900):
        if _err_name(code) == b"LVPN_ESTOPPED":
            return code
    raise ImportError("liblayers has no LVPN_ESTOPPED")


_ESTOPPED = _find_estopped()


class Error(Exception):
    """A liblayers error: `code` (negative), `name` ("LVPN_ECERT_EKU") and a
    message naming the cause."""

    def __init__(self, code, message=None):
        self.code = code
        self.name = _err_name(code).decode() if code else ""
        text = _strerror(code).decode() if code else ""
        super().__init__(message or text)


Event = collections.namedtuple("Event", "name err message")
Event.__doc__ = """A client event: name ("CONNECTED", "PUSH_REPLY", "RESTARTING",
"STOPPED"), err (0 or the error code) and its message."""

_LOG_LEVELS = [(0, logging.CRITICAL), (1, logging.ERROR), (3, logging.INFO)]


def _py_level(level):
    for verb, py in _LOG_LEVELS:
        if level <= verb:
            return py
    return logging.DEBUG


class Client:
    """One OpenVPN client, with its own loop thread and host inside I/O.

    `options` override the file, as on OpenVPN's command line:
    Client("c.ovpn", options={"verb": "4", "remote": ["198.18.0.1", "1194"]}).
    `on_event(event)` is called on the loop thread for every Event; keep it
    short. `verb` sets the library's log verbosity (default: the config's).
    """

    def __init__(self, config, options=None, on_event=None, verb=None,
                 logger=None):
        self._log = logger or logging.getLogger("layervpn")
        self._on_event = on_event
        self._verb = -1 if verb is None else int(verb)
        self._cfg = _vp()
        err = ctypes.create_string_buffer(512)
        rc = _config_load(ctypes.byref(self._cfg), str(config).encode(), err, 512)
        if rc != 0:
            raise Error(rc, err.value.decode() or None)
        for name, args in (options or {}).items():
            if isinstance(args, str):
                args = [args]
            argv = (ctypes.c_char_p * (len(args) + 1))(*[a.encode() for a in args], None)
            rc = _config_set(self._cfg, name.encode(), argv, err, 512)
            if rc != 0:
                _config_free(self._cfg)
                self._cfg = None
                raise Error(rc, err.value.decode() or None)
        self._cond = threading.Condition()
        self._commands = collections.deque()
        self._packets = queue.Queue()
        self._events = queue.Queue()
        self._thread = None
        self._client = _vp()
        self._connected = False
        self._stopped = False
        self._err = 0
        self._last_restart = 0
        self._async_open = False
        self._final_counters = {}
        # ctypes callbacks must outlive every call from C
        self._cb_log = _LOG_CB(self._log_cb)
        self._cb_event = _EVENT_CB(self._event_cb)
        self._cb_inside = _INSIDE_CB(self._inside_cb)
        self._cb_async = _ASYNC_CB(self._async_cb)

    # ---- lifecycle ----

    def start(self):
        """Start the loop thread and connect. Raises Error if the
        configuration cannot work."""
        if self._thread is not None:
            raise Error(0, "already started")
        ready = threading.Event()
        result = []
        self._thread = threading.Thread(target=self._run, args=(ready, result),
                                        name="layervpn-loop", daemon=True)
        self._thread.start()
        ready.wait()
        if result[0] != 0:
            self._thread.join()
            raise Error(result[0], result[1] if len(result) > 1 else None)

    def stop(self, timeout=None):
        """Stop in order (exit notification, ...) and wait for the loop
        thread to finish."""
        if self._thread is None:
            return
        self._call_soon(lambda: _client_stop(self._client))
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def close(self):
        """stop(), then free the configuration."""
        self.stop()
        if self._cfg:
            _config_free(self._cfg)
            self._cfg = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def wait_connected(self, timeout=None):
        """Wait until the tunnel is up. Raises Error naming the cause when the
        client stopped, or on timeout (with the last failure, if any)."""
        with self._cond:
            self._cond.wait_for(lambda: self._connected or self._stopped, timeout)
            if self._connected:
                return
            if self._stopped:
                raise Error(self._err or _ESTOPPED)
            why = ""
            if self._last_restart:
                why = ": last attempt: " + _strerror(self._last_restart).decode()
            raise Error(0, "not connected within %s s%s" % (timeout, why))

    # ---- inside I/O ----

    def send(self, packet):
        """Send one IP packet into the tunnel (from the loop thread, soon)."""
        data = bytes(packet)
        self._call_soon(lambda: self._send_now(data))

    def recv(self, timeout=None):
        """The next IP packet from the tunnel, or None after `timeout` s."""
        try:
            return self._packets.get(timeout=timeout)
        except queue.Empty:
            return None

    # ---- inside-packet hooks ----

    def add_inside_filter(self, rules, inbound=True, outbound=True):
        """Add the built-in filter hook (rules as `layervpn --inside-filter`:
        "deny icmp", "allow tcp port 80 net 198.18.0.0/15", "default deny");
        returns its id. Raises layervpn.Error naming a bad rule."""
        raw = [r.encode() for r in rules]
        dirs = (1 if outbound else 0) | (2 if inbound else 0)
        if not dirs:
            raise ValueError("a filter needs a direction")

        def add():
            arr = (ctypes.c_char_p * max(len(raw), 1))(*raw)
            err = ctypes.create_string_buffer(300)
            hid = ctypes.c_uint32()
            rc = _add_filter(self._client, arr, len(raw), dirs, err, len(err),
                             ctypes.byref(hid))
            return (rc, err.value.decode(errors="replace"), hid.value)
        rc, msg, hid = self._call(add, (_ESTOPPED, "", 0))
        if rc != 0:
            raise Error(rc, msg or None)
        return hid

    def remove_inside_hook(self, hook_id):
        """Remove a hook added by add_inside_filter()."""
        rc = self._call(lambda: _remove_hook(self._client, hook_id), _ESTOPPED)
        if rc != 0:
            raise Error(rc)

    def inside_hook_stats(self, hook_id):
        """(seen, dropped) packets of a hook."""
        def get():
            s, d = ctypes.c_uint64(), ctypes.c_uint64()
            rc = _hook_stats(self._client, hook_id, ctypes.byref(s), ctypes.byref(d))
            return (rc, s.value, d.value)
        rc, seen, dropped = self._call(get, (_ESTOPPED, 0, 0))
        if rc != 0:
            raise Error(rc)
        return seen, dropped

    # ---- observation ----

    @property
    def tunnel_ipv4(self):
        """The tunnel address the server pushed ("198.19.0.2"), or None."""
        def get():
            a, m = ctypes.c_uint32(), ctypes.c_uint32()
            if _tunnel_ipv4(self._client, ctypes.byref(a), ctypes.byref(m)) != 0:
                return None
            return socket.inet_ntoa(struct.pack("=I", a.value))
        return self._call(get, None)

    @property
    def state(self):
        """OpenVPN's name for the client's state ("CONNECTED", ...)."""
        if self._thread is None:
            return "INITIAL"
        return self._call(lambda: state_name(_client_state(self._client)), "EXITING")

    def counters(self):
        """Every layer's counters as {"layer.name": value}; after the client
        stopped, the values at the time it stopped."""
        return self._call(self._counters_now, None) or dict(self._final_counters)

    def events(self, timeout=None):
        """Iterate over events until STOPPED (or until none came for
        `timeout` s)."""
        while True:
            try:
                ev = self._events.get(timeout=timeout)
            except queue.Empty:
                return
            yield ev
            if ev.name == "STOPPED":
                return

    # ---- the loop thread ----

    def _run(self, ready, result):
        loop = ctypes.create_string_buffer(_uv_loop_size())
        async_h = ctypes.create_string_buffer(_uv_handle_size(_UV_ASYNC))
        self._loop, self._async = loop, async_h
        rc = _uv_loop_init(loop)
        if rc == 0:
            rc = _uv_async_init(loop, async_h, self._cb_async)
            if rc != 0:
                _uv_loop_close(loop)
        if rc != 0:
            result.append(rc)
            ready.set()
            return
        with self._cond:
            self._async_open = True
        rc = _client_new(ctypes.byref(self._client), loop, self._cfg)
        if rc == 0:
            _set_log(self._client, self._cb_log, None, self._verb)
            _set_event(self._client, self._cb_event)
            _set_inside(self._client, self._cb_inside)
            rc = _client_start(self._client)
            if rc != 0:
                result.extend([rc, self._last_fatal or None])
                self._finish()
        else:
            result.append(rc)
            self._close_async()
        if not result:
            result.append(0)
        ready.set()
        _uv_run(loop, _UV_RUN_DEFAULT)
        _uv_loop_close(loop)
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    _last_fatal = ""

    def _async_cb(self, handle):
        while True:
            try:
                fn = self._commands.popleft()
            except IndexError:
                return
            fn()

    def _call_soon(self, fn):
        with self._cond:
            if not self._async_open:
                return False
            self._commands.append(fn)
            _uv_async_send(self._async)
            return True

    def _call(self, fn, default):
        """Run fn on the loop thread and return its result (default when the
        loop is gone)."""
        done = threading.Event()
        box = [default]

        def run():
            try:
                box[0] = fn()
            finally:
                done.set()
        if threading.current_thread() is self._thread:
            return fn()
        if not self._call_soon(run):
            return default
        while not done.wait(0.1):
            if not self._thread.is_alive():
                break
        return box[0]

    def _send_now(self, data):
        if self._stopped or not self._client:
            return
        rc = _inside_input(self._client, data, len(data))
        if rc != 0:
            self._log.debug("inside packet not sent: %s", _strerror(rc).decode())

    def _counters_now(self):
        out = {}

        def cb(ud, layer, name, value):
            out["%s.%s" % (layer.decode(), name.decode())] = value
        ccb = _COUNTER_CB(cb)
        _client_counters(self._client, ccb, None)
        return out

    def _close_async(self):
        with self._cond:
            if not self._async_open:
                return
            self._async_open = False
        _uv_close(self._async, None)

    def _finish(self):
        self._final_counters = self._counters_now()
        _client_close(self._client, None)
        self._close_async()

    # ---- callbacks from liblayers (loop thread) ----

    def _log_cb(self, ud, level, layer, msg):
        text = msg.decode(errors="replace")
        if level == 0:
            self._last_fatal = text
        self._log.log(_py_level(level), "%s", text, extra={"layer": layer.decode()})

    def _event_cb(self, client, ev, err):
        name = _EVENT_NAMES.get(ev, str(ev))
        event = Event(name, err, _strerror(err).decode() if err else "")
        with self._cond:
            if name == "CONNECTED":
                self._connected = True
            elif name == "RESTARTING":
                self._connected = False
                self._last_restart = err
            elif name == "STOPPED":
                self._connected = False
                self._err = err
            self._cond.notify_all()
        self._events.put(event)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:  # never let it unwind into C
                self._log.exception("layervpn on_event callback failed")
        if name == "STOPPED":
            self._finish()
            with self._cond:
                self._stopped = True
                self._cond.notify_all()

    def _inside_cb(self, client, pkt, length):
        self._packets.put(ctypes.string_at(pkt, length))
