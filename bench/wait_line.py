#!/usr/bin/env python3
"""Waits for a line in a growing log file, for bench/bench.sh's time to tunnel.

    wait_line.py LOG PATTERN TIMEOUT_S READY_FILE PIDFILE

Creates READY_FILE once it is running (the shell starts the client after
that, so Python's own start is not in the figure), then reads LOG as it
grows, every millisecond, in this one process: no fork per poll, which is
what made the shell's grep/awk/date loop cost 10-20 ms a round on a 2-CPU
machine and made the figure coarse. Prints the wall-clock time (seconds
since the epoch, as `date +%s.%N`) at which PATTERN appeared, and exits 0;
exits 1 after TIMEOUT_S without it, 2 when the client (its PID: PIDFILE,
once the shell wrote it) ended without it.
"""
import os
import sys
import time


def gone(pidfile, pid):
    """The client's PID once known, or -1 when it ended (a zombie too)."""
    if pid == 0:
        try:
            with open(pidfile) as f:
                pid = int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0
        if pid == 0:
            return 0
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return -1
    return -1 if state in ("Z", "X") else pid


def main():
    log, pattern, timeout, ready, pidfile = sys.argv[1:6]
    pat = pattern.encode()
    deadline = time.monotonic() + float(timeout)
    with open(ready, "w"):
        pass
    buf = b""
    off = 0
    fd = -1
    pid = 0
    polls = 0
    while time.monotonic() < deadline:
        polls += 1
        if polls % 10 == 0:
            pid = gone(pidfile, pid)
            if pid < 0:
                return 2
        if fd < 0:
            try:
                fd = os.open(log, os.O_RDONLY)
            except FileNotFoundError:
                time.sleep(0.001)
                continue
        chunk = os.pread(fd, 65536, off)
        if chunk:
            off += len(chunk)
            # keep a pattern-length tail: a line may arrive in two reads
            buf = buf[-len(pat):] + chunk
            if pat in buf:
                print("%.6f" % time.time())
                return 0
            continue
        time.sleep(0.001)
    return 1


if __name__ == "__main__":
    sys.exit(main())
