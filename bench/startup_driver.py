#!/usr/bin/env python3
"""Start-up timing driver of bench/startup.sh and bench/bench.sh.

    startup_driver.py spec OUT RUNS OUTDIR PATTERN TIMEOUT CLIENT...
        write a SPEC.json; each CLIENT is NAME NENV (KEY VALUE)*NENV NARGV
        ARGV..., so any argument may hold spaces
    startup_driver.py run SPEC.json           (inside the client netns)
    startup_driver.py summary RESULTS NAME
        one line: NAME's median wall ms, median CPU ms ("-" if none) and
        fastest-slowest wall ms; fails if any start of NAME failed
    startup_driver.py table RESULTS A B
        startup.sh's table: every start of A and B, then the medians and
        their ratios (A/B); fails if any start failed

SPEC: {"runs": N, "outdir": DIR, "timeout": S, "pattern": "...",
       "pause": S, "clients": [{"name": ..., "argv": [...], "env": {...},
                                "poll_ms": MS}, ...]}

A client's output goes to a pipe. By default the driver waits on it with
select(), so every write the client makes wakes the driver: exact to the
line, and on the client's CPU where `apart` pins both, a cost per line
(OpenVPN writes 36 lines before the line, layervpn 15). A client with
"poll_ms" is read every MS ms instead, so its writes wake nothing, and the
line is seen up to MS ms late. Read every 1 ms, the ratios came out 0.01-0.05
higher than the default's (doc/performance.md, runs 335-336), about 0.01 of
it the late sight itself; the default stays the exact one.

`run` starts the clients alternately (A B A B ...), each `runs` times. Per
start it reports the wall time from just before fork to the moment the
pattern line arrives on the client's stdout/stderr pipe, and the client's CPU
time at that moment: the sum over its threads of /proc/PID/task/*/schedstat's
first field (nanoseconds on the CPU, precise, unlike the 10 ms ticks of
/proc/PID/stat), its peak RSS so far (VmHWM, kB) and its minor faults so far
(a MADV_POPULATE_READ counts one per page it maps, as a fault would).
The client is then stopped with SIGTERM. Prints one JSON line per start on
stdout (RESULTS, for summary and table).
"""
import json
import os
import select
import signal
import statistics
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
    poll_s = client.get("poll_ms", 0) / 1000.0
    if poll_s > 0:
        os.set_blocking(r, False)
    while True:
        left = (deadline - time.monotonic_ns()) / 1e9
        if left <= 0:
            break
        if poll_s > 0:
            time.sleep(poll_s)
            try:
                chunk = os.read(r, 65536)
            except BlockingIOError:
                continue
        else:
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


def run(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    for i in range(1, spec["runs"] + 1):
        for c in spec["clients"]:
            res = one_start(c, spec["outdir"], i, spec["timeout"],
                            spec["pattern"])
            print(json.dumps(res), flush=True)
            # let the server notice the old client is gone (exit-notify)
            # and the machine settle; not part of any measurement
            time.sleep(spec.get("pause", 0.5))


def write_spec(out, runs, outdir, pattern, timeout, words):
    clients = []
    while words:  # NAME NENV (KEY VALUE)*NENV NARGV ARGV...
        name = words[0]
        try:
            nenv = int(words[1])
            env = dict(zip(words[2:2 + 2 * nenv:2], words[3:3 + 2 * nenv:2]))
            words = words[2 + 2 * nenv:]
            n = int(words[0])
        except (IndexError, ValueError):
            sys.exit("startup_driver: client %s: want NAME NENV (KEY VALUE)"
                     "*NENV NARGV ARGV..." % name)
        if nenv < 0 or len(env) != nenv or n < 1 or n > len(words) - 1:
            sys.exit("startup_driver: client %s: NENV %d, NARGV %d, %d words"
                     " left" % (name, nenv, n, len(words) - 1))
        clients.append({"name": name, "argv": words[1:1 + n], "env": env})
        words = words[1 + n:]
    if not clients:
        sys.exit("startup_driver: spec: no client")
    os.makedirs(outdir, exist_ok=True)
    with open(out, "w") as f:
        json.dump({"runs": int(runs), "outdir": outdir,
                   "timeout": int(timeout), "pattern": pattern,
                   "pause": 0.5, "clients": clients}, f)


def load_results(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def median(rows, name, key):
    v = [r[key] for r in rows
         if r["name"] == name and r.get("ok") and key in r]
    return statistics.median(v) if v else None


def failed(rows, names):
    return [r for r in rows if r["name"] in names and not r.get("ok")]


def summary(path, name):
    rows = load_results(path)
    mine = [r for r in rows if r["name"] == name]
    bad = failed(rows, (name,))
    if bad or not mine:
        sys.exit("%s: start(s) %s did not reach the line"
                 % (name, [r["run"] for r in bad]))
    w = [r["wall_ms"] for r in mine]
    c = median(rows, name, "cpu_ms")
    print("%.1f %s %.1f-%.1f" % (median(rows, name, "wall_ms"),
                                 "-" if c is None else "%.1f" % c,
                                 min(w), max(w)))


def table(path, a, b):
    rows = load_results(path)
    by = {}
    for r in rows:
        by.setdefault(r["run"], {})[r["name"]] = r

    def f(r, k):
        if r is None:
            return "-"
        if not r.get("ok"):
            return "FAIL"
        return "%.1f" % r[k] if k in r else "-"

    print("%-5s %28s   %28s" % ("", a, b))
    print("%-5s %9s %9s %8s   %9s %9s %8s" % (
        "run", "wall ms", "CPU ms", "all ms", "wall ms", "CPU ms", "all ms"))
    for i in sorted(by):
        x, y = by[i].get(a), by[i].get(b)
        print("%-5d %9s %9s %8s   %9s %9s %8s" % (
            i, f(x, "wall_ms"), f(x, "cpu_ms"), f(x, "total_cpu_ms"),
            f(y, "wall_ms"), f(y, "cpu_ms"), f(y, "total_cpu_ms")))
    print()
    print("%-22s %9s %9s %7s" % ("median", a, b, "ratio"))
    for k, label in (("wall_ms", "wall ms to tunnel"),
                     ("cpu_ms", "CPU ms to tunnel"),
                     ("total_cpu_ms", "CPU ms whole life"),
                     ("hwm_kb", "peak kB at the line"),
                     ("minflt", "minor faults to it")):
        x, y = median(rows, a, k), median(rows, b, k)
        ratio = "%.2f" % (x / y) if x is not None and y else "-"
        print("%-22s %9s %9s %7s" % (
            label, "-" if x is None else "%.1f" % x,
            "-" if y is None else "%.1f" % y, ratio))
    bad = failed(rows, (a, b))
    if bad:
        print("FAILED starts: %s" % ", ".join(
            "%s#%d" % (r["name"], r["run"]) for r in bad))
        sys.exit(1)


USAGE = ("usage: startup_driver.py spec OUT RUNS OUTDIR PATTERN TIMEOUT "
         "CLIENT... | run SPEC | summary RESULTS NAME | table RESULTS A B")


def main(argv):
    cmd, args = (argv[0], argv[1:]) if argv else ("", [])
    if cmd == "spec" and len(args) >= 5:
        write_spec(args[0], args[1], args[2], args[3], args[4], args[5:])
    elif cmd == "run" and len(args) == 1:
        run(args[0])
    elif cmd == "summary" and len(args) == 2:
        summary(args[0], args[1])
    elif cmd == "table" and len(args) == 3:
        table(args[0], args[1], args[2])
    else:
        sys.exit(USAGE)


if __name__ == "__main__":
    main(sys.argv[1:])
