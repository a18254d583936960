#!/usr/bin/env python3
"""Runs a command on a fresh pseudo-terminal (its controlling terminal) and
types answers at its prompts, as a user would.

    pty_run.py PIDFILE LOG [PROMPT ANSWER]... -- COMMAND [ARG]...

Each PROMPT is waited for (a substring of the output since the previous
answer), then ANSWER and a newline are typed. Everything the command writes
goes to LOG. SIGTERM/SIGINT are passed on to the command. Exits with the
command's exit status (128+N when killed by signal N)."""
import os
import pty
import signal
import sys


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    pidfile, logpath, pairs, cmd = args[0], args[1], args[2:sep], args[sep + 1:]
    pairs = list(zip(pairs[0::2], pairs[1::2]))
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    with open(pidfile, "w") as f:
        f.write(str(pid))
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda n, _f: os.kill(pid, n))
    seen = b""
    with open(logpath, "ab", buffering=0) as log:
        while True:
            try:
                data = os.read(fd, 4096)
            except InterruptedError:
                continue
            except OSError:
                break  # EIO: the command closed the terminal
            if not data:
                break
            log.write(data)
            seen += data
            while pairs and pairs[0][0].encode() in seen:
                seen = seen[seen.index(pairs[0][0].encode()) +
                            len(pairs[0][0]):]
                os.write(fd, pairs[0][1].encode() + b"\n")
                pairs.pop(0)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))


if __name__ == "__main__":
    main()
