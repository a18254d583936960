#!/usr/bin/env python3
"""Start-up timing driver for bench/startup.sh (runs inside the client netns).

    startup_driver.py SPEC.json

SPEC: {"runs": N, "outdir": DIR, "timeout": S, "pattern": "...",
       "clients": [{"name": ..., "argv": [...], "env": {...}}, ...]}

Starts the clients alternately (A B A B ...), each `runs` times. Per start it
reports the wall time from just before fork to the moment the pattern line
arrives on the client's stdout/stderr pipe, and the client's CPU time at that
moment: the sum over its threads of /proc/PID/task/*/schedstat's first field
(nanoseconds on the CPU, precise, unlike the 10 ms ticks of /proc/PID/stat),
its peak RSS so far (VmHWM, kB) and its minor faults so far (a
MADV_POPULATE_READ counts one per page it maps, as a fault would).
The client is then stopped with SIGTERM. Prints one JSON line per start on
stdout; the shell makes the table.
"""
import json
import os
import select
import signal
import subprocess
import sys
import time


def task_cpu_ns(pid):
    """Sum of sum_exec_runtime over the live threads of pid, or None."""
    total = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total, len(tids)


def stat_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    f = s[s.rindex(")") + 2:].split()
    return int(f[11]) + int(f[12])


def mem_at_line(pid):
    """VmHWM (peak resident kB so far) and minor faults so far."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    out["hwm_kb"] = int(line.split()[1])
        with open("/proc/%d/stat" % pid) as f:
            out["minflt"] = int(f.read().rsplit(")", 1)[1].split()[7])
    except (OSError, ValueError, IndexError):
        pass
    return out


def one_start(client, outdir, idx, timeout, pattern):
    env = dict(os.environ)
    env.update(client.get("env", {}))
    log_path = os.path.join(outdir, "%s-%d.log" % (client["name"], idx))
    r, w = os.pipe()
    t0 = time.monotonic_ns()
    proc = subprocess.Popen(client["argv"], stdin=subprocess.DEVNULL,
                            stdout=w, stderr=w, env=env, close_fds=True)
    os.close(w)
    buf = b""
    res = {"name": client["name"], "run": idx, "pid": proc.pid}
    deadline = t0 + int(timeout * 1e9)
    found = False
    pat = pattern.encode()
    while True:
        left = (deadline - time.monotonic_ns()) / 1e9
        if left <= 0:
            break
        rd, _, _ = select.select([r], [], [], left)
        if not rd:
            break
        chunk = os.read(r, 65536)
        if not chunk:
            break
        # search only the new bytes plus a pattern-length tail
        tail = len(buf) - len(pat) if len(buf) > len(pat) else 0
        buf += chunk
        if pat in buf[tail:]:
            t1 = time.monotonic_ns()
            cpu = task_cpu_ns(proc.pid)
            ticks = stat_ticks(proc.pid)
            mem = mem_at_line(proc.pid)
            found = True
            res["wall_ms"] = (t1 - t0) / 1e6
            if cpu is not None:
                res["cpu_ms"] = cpu[0] / 1e6
                res["threads"] = cpu[1]
            if ticks is not None:
                res["stat_ticks"] = ticks
            res.update(mem)
            break
    res["ok"] = found
    try:
        proc.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        pass
    # drain until the client closes its end (it exits)
    end = time.monotonic() + 15
    while time.monotonic() < end:
        rd, _, _ = select.select([r], [], [], max(0.0, end - time.monotonic()))
        if not rd:
            break
        chunk = os.read(r, 65536)
        if not chunk:
            break
        buf += chunk
    os.close(r)
    ru = None
    end = time.monotonic() + 10
    while True:  # os.wait4, not proc.wait: it gives the rusage
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid != 0:
            proc.returncode = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() > end:
            proc.kill()
            _, status, ru = os.wait4(proc.pid, 0)
            proc.returncode = -9
            break
        time.sleep(0.01)
    res["exit"] = proc.returncode
    res["total_cpu_ms"] = (ru.ru_utime + ru.ru_stime) * 1000
    with open(log_path, "wb") as f:
        f.write(buf)
    return res


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    for i in range(1, spec["runs"] + 1):
        for c in spec["clients"]:
            res = one_start(c, spec["outdir"], i, spec["timeout"],
                            spec["pattern"])
            print(json.dumps(res), flush=True)
            # let the server notice the old client is gone (exit-notify)
            # and the machine settle; not part of any measurement
            time.sleep(spec.get("pause", 0.5))


if __name__ == "__main__":
    main()
