"""Signal forwarding to the child's process group, and the stop sequence."""
import os
import signal
import time
from pathlib import Path

import pytest

from conftest import TESTCHILD, alive, children_of, signal_numbers, wait_for

FORWARDED = [signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH]


def start_recorder(sup, tmp_path, env=None, ignore=False):
    out = tmp_path / "rec"
    args = ["--", TESTCHILD, "record", str(out)] + (["ignore"] if ignore else [])
    s = sup(args, {"SUPERVISOR_RESTART": "never", **(env or {})})
    wait_for(lambda: out.exists() and "ready" in out.read_text(), what="child ready")
    return s, out


@pytest.mark.parametrize("signo", FORWARDED, ids=lambda s: s.name)
def test_signal_is_forwarded_and_child_keeps_running(sup, tmp_path, signo):
    s, out = start_recorder(sup, tmp_path)
    s.signal(signo)
    wait_for(lambda: int(signo) in signal_numbers(out), what=f"{signo.name} at the child")
    assert s.proc.poll() is None
    s.signal(signal.SIGTERM)
    assert s.wait() == 0


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_stop_signal_is_forwarded_and_exit_status_is_the_childs(sup, tmp_path, signo):
    s, out = start_recorder(sup, tmp_path)
    s.signal(signo)
    assert s.wait() == 0
    assert signal_numbers(out) == [int(signo)]
    assert "event=supervisor.stopping reason=signal" in s.log()


def test_signals_reach_the_whole_process_group(sup, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    s = sup(["--", "sh", "-c", f'{TESTCHILD} record {a} & exec {TESTCHILD} record {b}'],
            {"SUPERVISOR_RESTART": "never"})
    wait_for(lambda: all(p.exists() and "ready" in p.read_text() for p in (a, b)), what="both ready")
    s.signal(signal.SIGUSR1)
    wait_for(lambda: signal.SIGUSR1 in signal_numbers(a) and signal.SIGUSR1 in signal_numbers(b),
             what="USR1 at both members of the group")
    s.signal(signal.SIGTERM)
    assert s.wait() == 0


def test_stop_escalates_to_sigkill_of_the_whole_group(sup, tmp_path):
    pids_file = tmp_path / "pids"
    s = sup(["--", TESTCHILD, "group", "3", str(pids_file)],
            {"SUPERVISOR_STOP_TIMEOUT": "1", "SUPERVISOR_RESTART": "always"})
    pids = wait_for(lambda: pids_file.exists() and len(pids_file.read_text().split()) == 4
                    and [int(p) for p in pids_file.read_text().split()], what="group pids")
    started = time.monotonic()
    s.signal(signal.SIGTERM)
    s.wait_log("event=supervisor.stopping")
    assert all(alive(p) for p in pids), "the group was killed before the grace period"
    assert s.wait() == 128 + signal.SIGKILL
    elapsed = time.monotonic() - started
    assert elapsed >= 1.0, f"SIGKILL came after {elapsed:.2f}s, before the 1s timeout"
    assert "event=child.stop_timeout" in s.log()
    wait_for(lambda: not any(alive(p) for p in pids), timeout=5, what="grandchildren gone")
    assert s.log().count("event=child.started") == 1, "restarted while stopping"


def test_second_sigterm_is_forwarded_but_keeps_the_grace_period(sup, tmp_path):
    s, out = start_recorder(sup, tmp_path, {"SUPERVISOR_STOP_TIMEOUT": "2"}, ignore=True)
    started = time.monotonic()
    s.signal(signal.SIGTERM)
    wait_for(lambda: signal_numbers(out) == [signal.SIGTERM], what="first TERM")
    s.signal(signal.SIGTERM)
    wait_for(lambda: signal_numbers(out) == [signal.SIGTERM] * 2, what="second TERM")
    assert s.wait() == 128 + signal.SIGKILL
    assert time.monotonic() - started >= 2.0


def test_leftover_group_members_are_killed_when_the_child_exits(sup, tmp_path):
    pidfile = tmp_path / "bg"
    s = sup(["--", "sh", "-c", f"sleep 1000 & echo $! > {pidfile}; exit 0"])
    assert s.wait() == 0
    pid = int(pidfile.read_text())
    wait_for(lambda: not alive(pid), timeout=5, what="background sleep killed")


def signal_mask(pid, field):
    """The signals in a mask line of /proc/<pid>/status (SigPnd, ShdPnd, SigIgn, SigCgt)."""
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith(field + ":"))
    bits = int(line.split()[1], 16)
    return {n for n in range(1, 65) if bits >> (n - 1) & 1}


def test_every_catchable_signal_reaches_the_child(sup, tmp_path):
    """The faults (sent with kill, as dumb-init's suite does), SIGPIPE and
    the terminal stops included: a supervisor that is not PID 1 used to die
    of them, leaving its child orphaned."""
    out = tmp_path / "rec"
    s = sup(["--", TESTCHILD, "recordall", str(out)], {"SUPERVISOR_RESTART": "never"})
    wait_for(lambda: out.exists() and "ready" in out.read_text(), what="child ready")
    sent = []
    for signo in range(1, 32):
        if signo in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            continue
        s.signal(signo)
        sent.append(signo)
        wait_for(lambda: signo in signal_numbers(out), timeout=5,
                 what=f"{signal.Signals(signo).name} at the child; log:\n{s.log()}")
        assert s.proc.poll() is None, f"the supervisor died of {signal.Signals(signo).name}"
    s.signal(signal.SIGTERM)
    assert s.wait() == 0
    assert signal_numbers(out) == sent + [signal.SIGTERM]


def test_a_sigpipe_of_its_own_is_not_forwarded(sup, tmp_path):
    """Its log goes to a pipe nobody reads any more: each line it writes
    raises SIGPIPE in the supervisor itself, which must not reach the child
    (the recorder keeps SIGPIPE's default action: it would die of it)."""
    out = tmp_path / "rec"
    r, w = os.pipe()
    os.close(r)
    s = sup(["--", TESTCHILD, "record", str(out)], {"SUPERVISOR_RESTART": "never", "SUPERVISOR_LOG_LEVEL": "debug"},
            stderr=w)
    os.close(w)
    wait_for(lambda: out.exists() and "ready" in out.read_text(), what="child ready")
    # Every forwarded signal is a debug line: a write to the broken pipe.
    # One at a time: pending signals of one kind merge into one.
    for n in range(1, 4):
        s.signal(signal.SIGUSR1)
        wait_for(lambda: signal_numbers(out).count(signal.SIGUSR1) == n, what=f"USR1 number {n} at the child")
    s.signal(signal.SIGTERM)
    assert s.wait() == 0, "the child died of the supervisor's own SIGPIPE"
    assert signal_numbers(out) == [signal.SIGUSR1] * 3 + [signal.SIGTERM]
