"""The supervisor as the real PID 1 of a new PID namespace. The kernel drops
signals for which PID 1 has no handler; ours are blocked and read from a
signalfd, which the kernel delivers."""
import signal
import subprocess
from pathlib import Path

from conftest import TESTCHILD, children_of, orphan_storm, signal_numbers, wait_for

UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc"]


def inner_supervisor(outer_pid):
    """The supervisor's pid as seen from here: the child of unshare."""
    (pid,) = wait_for(lambda: list(children_of(outer_pid)), what="supervisor under unshare")
    status = Path(f"/proc/{pid}/status").read_text()
    nspid = [line for line in status.splitlines() if line.startswith("NSpid:")][0].split()
    assert nspid[-1] == "1", f"not PID 1 in its namespace: {nspid}"
    return pid


def test_pid1_receives_and_forwards_signals(sup, tmp_path):
    out = tmp_path / "rec"
    s = sup(["--", TESTCHILD, "record", str(out)], {"SUPERVISOR_RESTART": "never"}, prefix=UNSHARE)
    pid = inner_supervisor(s.pid)
    wait_for(lambda: out.exists() and "ready" in out.read_text(), what="child ready")
    for signo in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGQUIT):
        subprocess.run(["kill", f"-{int(signo)}", str(pid)], check=True)
        wait_for(lambda: int(signo) in signal_numbers(out), what=f"{signo.name} forwarded by PID 1")
    subprocess.run(["kill", "-TERM", str(pid)], check=True)
    assert s.wait() == 0
    assert signal_numbers(out)[-1] == signal.SIGTERM
    assert "pid1=true" in s.log()


def test_pid1_reaps_orphans(sup):
    s, pid = orphan_storm(sup, 200, prefix=UNSHARE, reaper=lambda s: inner_supervisor(s.pid))
    subprocess.run(["kill", "-TERM", str(pid)], check=True)
    assert s.wait() == 128 + signal.SIGTERM
