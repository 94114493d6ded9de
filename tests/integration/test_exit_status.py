"""Exit status propagation: the child's code, 128+N for signal N, and the
codes for commands that cannot be started."""
import signal

from conftest import TESTCHILD, Supervisor, wait_for

NEVER = {"SUPERVISOR_RESTART": "never"}
# Signals 32 and 33 belong to glibc (thread cancellation, setxid): no program
# can change their disposition, so whatever the launcher set stays.
GLIBC_INTERNAL = (1 << 31) | (1 << 32)


def ignored(lines):
    return int(lines["SigIgn"], 16) & ~GLIBC_INTERNAL


def test_every_exit_code_is_propagated(tmp_path):
    for code in range(256):
        s = Supervisor(tmp_path, ["--", TESTCHILD, "exit", str(code)], NEVER)
        assert s.wait() == code, s.log()


def test_death_by_signal_is_128_plus_n(sup):
    for signo in (signal.SIGHUP, signal.SIGINT, signal.SIGKILL, signal.SIGSEGV, signal.SIGTERM,
                  signal.SIGUSR1, signal.SIGABRT):
        s = sup(["--", TESTCHILD, "kill", str(int(signo))], NEVER)
        assert s.wait() == 128 + signo, s.log()
        assert f"signal={signal.Signals(signo).name[3:]}" in s.log()


def test_missing_command_exits_127_without_restarting(sup):
    s = sup(["--", "/nonexistent/program"], {"SUPERVISOR_RESTART": "always"})
    assert s.wait() == 127
    log = s.log()
    assert "event=child.exec_failed" in log and "No such file or directory" in log
    assert log.count("event=child.started") == 1


def test_non_executable_command_exits_126(sup, tmp_path):
    script = tmp_path / "not-executable"
    script.write_text("#!/bin/sh\nexit 0\n")
    s = sup(["--", str(script)], {"SUPERVISOR_RESTART": "always"})
    assert s.wait() == 126
    assert "Permission denied" in s.log()


def test_command_is_found_in_path(sup):
    s = sup(["--", "sh", "-c", "exit 7"], NEVER)
    assert s.wait() == 7


def test_stdio_is_passed_through(sup, tmp_path):
    stdin = tmp_path / "in"
    stdin.write_text("hello from stdin\n")
    with open(stdin) as f:
        s = sup(["--", TESTCHILD, "stdio"], NEVER, stdin=f)
        assert s.wait() == 0
    assert s.stdout() == "hello from stdin\n"
    assert "err\n" in s.log()


def test_child_gets_clean_signal_state_and_no_leaked_fds(sup, tmp_path):
    # Started with default dispositions: whatever the test runner inherited
    # (a background job's ignored INT/QUIT) would rightly pass through.
    report = tmp_path / "status"
    s = sup(["--", TESTCHILD, "status", str(report)], NEVER, prefix=["env", "--default-signal"])
    assert s.wait() == 0
    lines = dict(line.split(":", 1) for line in report.read_text().splitlines())
    assert int(lines["SigBlk"], 16) == 0, "signal mask was not restored before exec"
    assert ignored(lines) == 0, "ignored dispositions leaked into the child"
    assert lines["fds"].split() == ["0", "1", "2"], "supervisor fds leaked into the child"


def test_inherited_ignored_signals_stay_ignored_in_the_child(sup, tmp_path):
    report = tmp_path / "status"
    s = sup(["--", TESTCHILD, "status", str(report)], NEVER,
            prefix=["env", "--default-signal", "--ignore-signal=USR1"])
    assert s.wait() == 0
    lines = dict(line.split(":", 1) for line in report.read_text().splitlines())
    assert ignored(lines) == 1 << (signal.SIGUSR1 - 1)


def test_child_runs_in_its_own_process_group(sup, tmp_path):
    from conftest import proc_stat, children_of
    out = tmp_path / "rec"
    s = sup(["--", TESTCHILD, "record", str(out)], NEVER)
    wait_for(lambda: out.exists() and "ready" in out.read_text(), what="child ready")
    (pid, st), = children_of(s.pid).items()
    assert st[2] == pid, "child is not the leader of its own process group"
    assert proc_stat(s.pid)[2] != pid
    s.signal(signal.SIGTERM)
    assert s.wait() == 0
