"""One full lifecycle under valgrind memcheck: no errors, nothing definitely
lost. Uses the plain (not sanitized) binary."""
import shutil
import signal

import pytest

from conftest import ROOT, TESTCHILD, signal_numbers, wait_for

VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite", "--child-silent-after-fork=yes", "--track-fds=no"]
PLAIN = str(ROOT / "build" / "flink-supervisor")


@pytest.fixture(autouse=True)
def plain_binary(monkeypatch):
    if not shutil.which("valgrind"):
        pytest.fail("valgrind is not installed: run tests/install-deps.sh")
    import conftest
    monkeypatch.setattr(conftest, "BIN", PLAIN)


def test_restart_forward_stop_escalate_under_valgrind(sup, tmp_path):
    from test_health import get
    from conftest import free_port
    port = free_port()
    out = tmp_path / "rec"
    # A child that fails once, then records signals and ignores TERM: covers
    # spawn, exit, backoff, restart, forwarding, stop and the SIGKILL deadline.
    script = (f'if [ -e {tmp_path}/once ]; then exec {TESTCHILD} record {out} ignore; fi; '
              f'touch {tmp_path}/once; exit 3')
    s = sup(["--", "sh", "-c", script],
            {"SUPERVISOR_BACKOFF_MIN_MS": "50", "SUPERVISOR_STOP_TIMEOUT": "1", "SUPERVISOR_HEALTH_PORT": str(port)},
            prefix=VALGRIND)
    wait_for(lambda: out.exists() and "ready" in out.read_text(), timeout=30, what="child ready")
    # The health endpoint too: requests, a 404, and a connection left open at exit.
    wait_for(lambda: get(port, "/health")[0] == 200, timeout=30, what="healthy")
    assert get(port, "/metrics")[0] == 200 and get(port, "/nope")[0] == 404
    import socket
    lingering = socket.create_connection(("127.0.0.1", port))
    s.signal(signal.SIGUSR1)
    wait_for(lambda: signal.SIGUSR1 in signal_numbers(out), timeout=10, what="USR1 forwarded")
    s.signal(signal.SIGTERM)
    code = s.wait(timeout=30)
    lingering.close()
    log = s.log()
    assert code == 128 + signal.SIGKILL, log
    assert "ERROR SUMMARY: 0 errors" in log, log
    assert "definitely lost: 0 bytes" in log or "no leaks are possible" in log, log


def test_crash_loop_give_up_under_valgrind(sup, tmp_path):
    s = sup(["--", TESTCHILD, "exit", "1"],
            {"SUPERVISOR_BACKOFF_MIN_MS": "10", "SUPERVISOR_MAX_RESTARTS": "2"}, prefix=VALGRIND)
    code = s.wait(timeout=30)
    assert code == 111, s.log()
    assert "ERROR SUMMARY: 0 errors" in s.log()


def test_marathon_registration_and_retries_under_valgrind(sup, tmp_path):
    """libcurl on the loop: a refused write (409), a malformed answer, the
    registration, then the stop with nothing left in flight."""
    from marathon_double import MarathonDouble
    from test_marathon import APP, app_definition
    from conftest import free_port
    with MarathonDouble() as marathon:
        marathon.add_app(app_definition())
        marathon.fail_next(200, raw=b"{not json")
        marathon.fail_next(409, {"message": "App is locked by one or more deployments."}, methods=("PATCH", "PUT"))
        out = tmp_path / "rec"
        s = sup(["--", TESTCHILD, "record", str(out)],
                {"SUPERVISOR_HEALTH_PORT": str(free_port()), "MARATHON_URL": marathon.url, "MARATHON_APP_ID": APP},
                prefix=VALGRIND)
        s.wait_log("event=marathon.registered", timeout=60)
        wait_for(lambda: out.exists() and "ready" in out.read_text(), timeout=30, what="child ready")
        s.signal(signal.SIGTERM)
        assert s.wait(timeout=30) == 0, s.log()
    log = s.log()
    assert "ERROR SUMMARY: 0 errors" in log, log
    assert "definitely lost: 0 bytes" in log or "no leaks are possible" in log, log


def test_job_client_commands_under_valgrind():
    """run-job through its POST, its polling, the timeout and the removal;
    list-jobs and stop-job: the client's requests, timers and JSON."""
    import subprocess
    from marathon_double import MarathonDouble

    with MarathonDouble() as double:
        def client(*args):
            run = subprocess.run(VALGRIND + [PLAIN, *args], capture_output=True, text=True, timeout=120)
            assert "ERROR SUMMARY: 0 errors" in run.stderr, run.stderr
            assert "definitely lost: 0 bytes" in run.stderr or "no leaks are possible" in run.stderr, run.stderr
            return run.returncode, run.stdout
        # No launcher: the JobManager never runs, so the deadline ends it.
        code, out = client("run-job", "--marathon", double.url, "--id", "/jobs/v", "--jar", "https://h/v.jar",
                           "--timeout", "2", "-Dhigh-availability.type=zookeeper",
                           "-Dhigh-availability.zookeeper.quorum=zk:2181", "--", "--n", "1")
        assert code == 6 and "removed the job cluster /jobs/v" in out, out
        assert double.app_ids() == []
        code, out = client("list-jobs", "--marathon", double.url)
        assert code == 0 and out.startswith("CLUSTER"), out
        code, out = client("stop-job", "--marathon", double.url, "--id", "/jobs/v")
        assert code == 4, out
