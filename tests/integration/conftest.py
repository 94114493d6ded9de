"""Harness for running the real flink-supervisor binary.

The pytest process makes itself a child subreaper, so every process a test
starts, orphans included, stays its descendant; the `sup` fixture kills and
reaps all of them when the test ends, also when it failed."""
import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from support import fake_flink_home, free_port, rest, wait_for  # noqa: E402,F401  (re-exported to the tests)
BIN = Path(os.environ.get("SUPERVISOR_BIN", ROOT / "build" / "flink-supervisor")).resolve()
TESTCHILD = str(ROOT / "build" / "testchild")
PR_SET_CHILD_SUBREAPER = 36

ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def proc_stat(pid):
    """(state, ppid, pgrp) of a process, or None when it is gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = data[data.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2])


def all_stats():
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = proc_stat(int(entry))
            if st:
                out[int(entry)] = st
    return out


def children_of(ppid):
    return {pid: st for pid, st in all_stats().items() if st[1] == ppid}


def descendants(root):
    stats = all_stats()
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, st in stats.items() if st[1] in frontier} - found
        found |= frontier
    return found


def alive(pid):
    st = proc_stat(pid)
    return st is not None and st[0] != "Z"


def orphan_storm(sup, n, prefix=None, reaper=lambda s: s.pid):
    """Starts the supervisor (under prefix) on `testchild orphans n` and
    waits until the reaper (the supervisor's pid as seen from here, given
    the run) has reaped every orphan: its one child left is the main one,
    alive. Returns the run and the reaper's pid."""
    s = sup(["--", TESTCHILD, "orphans", str(n)], {"SUPERVISOR_RESTART": "never"}, prefix=prefix)
    pid = reaper(s)
    wait_for(lambda: "orphaned" in s.stdout(), what="orphans created")
    wait_for(lambda: [st[0] != "Z" for st in children_of(pid).values()] == [True], timeout=20,
             what="every orphan reaped")
    return s, pid


def signal_numbers(path):
    """The signal numbers a `testchild record` wrote, after its ready line."""
    try:
        lines = Path(path).read_text().split()
    except FileNotFoundError:
        return []
    return [int(x) for x in lines if x.isdigit()]


class Supervisor:
    """One run of the binary, its stdout and stderr captured to files
    (stderr: a descriptor to send it to instead)."""

    def __init__(self, tmp_path, args, env=None, stdin=subprocess.DEVNULL, prefix=None, stderr=None):
        self.tmp = tmp_path
        self.out_path = tmp_path / f"out.{id(self)}"
        self.err_path = tmp_path / f"err.{id(self)}"
        # The health endpoint is off unless a test asks for it: supervisors
        # running side by side would otherwise contend for port 8558.
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SUPERVISOR_HEALTH_PORT": "0"}
        # The sanitizers' settings (the LeakSanitizer suppressions of make test-asan) go through.
        full_env.update({k: v for k, v in os.environ.items() if k in ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS")})
        full_env.update(env or {})
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen((prefix or []) + [str(BIN)] + list(args), env=full_env,
                                         stdin=stdin, stdout=out, stderr=err if stderr is None else stderr)
        self.pid = self.proc.pid

    def log(self):
        return self.err_path.read_text(errors="replace")

    def stdout(self):
        return self.out_path.read_text(errors="replace")

    def wait_log(self, text, timeout=10.0):
        return wait_for(lambda: text in self.log(), timeout, what=f"log line {text!r}")

    def signal(self, signo):
        os.kill(self.pid, signo)

    def wait(self, timeout=15.0):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"supervisor did not exit within {timeout}s; log:\n{self.log()}")


def reap_everything():
    me = os.getpid()
    for _ in range(50):
        pids = descendants(me)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        time.sleep(0.01)


@pytest.fixture
def sup(tmp_path):
    """sup(args, env) starts the supervisor; everything is killed afterwards."""
    started = []

    def start(args, env=None, **kw):
        s = Supervisor(tmp_path, args, env, **kw)
        started.append(s)
        return s

    yield start
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
    reap_everything()
