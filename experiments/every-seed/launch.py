"""Starts a screen's bench.py command detached, in a process group of its own, for watch.py to watch and stop.

    python experiments/every-seed/launch.py --name k1 [--after logs/j1.pid] -- .venv/bin/python bench.py ARGS...

The command's output goes to logs/NAME.log, its process group's id to logs/NAME.pid, and a line with the
command and its start time (UTC) to logs/launch.log. With --after, it first waits until the process group
in that pid file has ended (an earlier block still on the cores). A round's launch script is then this and
`exec watch.py ...`; the scripts of rounds 18 to 23 in results/every-seed/ each carried their own copy,
and those of rounds 30 to 33 one of the rule's check, which screen.sh and `paired.py --rule` now hold.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path


def start(cmd: list[str], log: Path, pidfile: Path) -> int:
    """Runs cmd in a new session (so a SIGINT to its group stops it and its workers, nothing else); returns its pid."""
    with open(log, "a") as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    pidfile.write_text(str(p.pid))
    return p.pid


def group_alive(pgid: int) -> bool:
    """Whether any process is left in process group pgid. A leader that is this process's own child (a
    watcher's --next run) is reaped first: unreaped, its zombie would count as alive."""
    try:
        os.waitpid(pgid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(pidfile: Path, poll: float = 10.0) -> None:
    """Returns once no process is left in the group whose id pidfile holds."""
    group = int(pidfile.read_text().strip())
    while group_alive(group):
        time.sleep(poll)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", required=True, help="logs/NAME.log and logs/NAME.pid")
    p.add_argument("--after", type=Path, help="a pid file: wait until that process group has ended")
    p.add_argument("--logs", type=Path, default=Path("logs"), help="folder for the log, pid file and launch.log")
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="-- then the command")
    args = p.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        p.error("no command: give it after --")
    if args.after:
        wait_for(args.after)
    args.logs.mkdir(parents=True, exist_ok=True)
    pid = start(cmd, args.logs / f"{args.name}.log", args.logs / f"{args.name}.pid")
    with open(args.logs / "launch.log", "a") as f:
        f.write(f"{' '.join(cmd)}  (pid {pid}, started {time.strftime('%H:%M:%S', time.gmtime())} UTC)\n")
    return pid


if __name__ == "__main__":
    main()
