"""Health-check registration on the supervisor's own Marathon app, against
the Marathon API double (tests/integration/marathon_double.py), which
validates every body as MARATHON.md says Marathon does."""
import json
import signal
import socket
import time
from pathlib import Path

import pytest

from conftest import TESTCHILD, alive, free_port, wait_for
from test_health import get
from marathon_double import MarathonDouble
from oracle import errors as oracle_errors

APP = "/flink/jobmanager"


class CheckedDouble(MarathonDouble):
    """The double, and at the end every body the supervisor sent it held to
    Marathon's own rules (the oracle: --errors-only, --partial for PUT and
    PATCH), whatever the double answered (its fail_next answers included)."""

    def __exit__(self, exc_type, *rest):
        sent = [w for w in self.writes() if w.body]
        super().__exit__(exc_type, *rest)
        if exc_type is None:
            for w in sent:
                assert oracle_errors(w.body, partial=w.method != "POST") == [], (w.method, w.path, w.body)


def app_definition(with_health_port=True):
    mappings = [{"containerPort": 8081, "hostPort": 0, "name": "rest", "protocol": "tcp"}]
    if with_health_port:
        mappings.append({"containerPort": 8558, "hostPort": 0, "name": "health", "protocol": "tcp"})
    return {"id": APP, "instances": 1, "cpus": 1, "mem": 1024,
            "container": {"type": "DOCKER", "docker": {"image": "flink-appliance:latest"},
                          "portMappings": mappings},
            "networks": [{"mode": "container/bridge"}]}


@pytest.fixture
def marathon():
    with CheckedDouble() as m:
        m.add_app(app_definition())
        yield m


def start(sup, tmp_path, marathon_url, extra=None, child=None):
    ready = tmp_path / f"ready.{time.monotonic_ns()}"
    env = {"MARATHON_URL": marathon_url, "MARATHON_APP_ID": APP, "SUPERVISOR_HEALTH_PORT": str(free_port())}
    env.update(extra or {})
    s = sup(child or ["--", TESTCHILD, "record", str(ready)], env)
    s.health_port = int(env["SUPERVISOR_HEALTH_PORT"])
    s.ready_file = ready
    return s, ready


def registered(marathon):
    app = marathon.app(APP)
    return app["healthChecks"] and app["readinessChecks"] and app


def stop(s):
    """The child (testchild record) exits 0 on the forwarded SIGTERM, once
    it has its handler (it writes "ready" then)."""
    wait_for(lambda: s.ready_file.exists() and "ready" in s.ready_file.read_text(), timeout=20, what="the child ready")
    s.signal(signal.SIGTERM)
    assert s.wait() == 0


def test_registration_writes_once_and_the_body_is_valid(sup, tmp_path, marathon):
    s, ready = start(sup, tmp_path, marathon.url)
    s.wait_log("event=marathon.registered", timeout=20)
    wait_for(ready.exists, timeout=10, what="the child started, whatever Marathon does")
    app = registered(marathon)
    (check,) = app["healthChecks"]
    assert check["protocol"] == "HTTP" and check["path"] == "/health" and check["portIndex"] == 1
    assert (check["gracePeriodSeconds"], check["intervalSeconds"], check["timeoutSeconds"],
            check["maxConsecutiveFailures"]) == (300, 30, 10, 3)
    (rc,) = app["readinessChecks"]
    assert rc["path"] == "/ready" and rc["portName"] == "health" and rc["httpStatusCodesForReady"] == [200]
    writes = marathon.writes(APP)
    assert len(writes) == 1 and writes[0].status == 200 and marathon.changes(APP) == 1
    body = json.loads(writes[0].body)
    assert set(body) == {"healthChecks", "readinessChecks"}, "only the fields that differ are sent"
    assert writes[0].method in ("PATCH", "PUT") and not writes[0].forced
    assert writes[0].headers.get("Content-Type") == "application/json"
    metrics = get(s.health_port, "/metrics")[2]
    assert "flink_supervisor_marathon_registered 1" in metrics
    assert "flink_supervisor_marathon_writes_total 1" in metrics
    stop(s)


def test_a_second_start_with_matching_checks_writes_nothing(sup, tmp_path, marathon):
    s, _ = start(sup, tmp_path, marathon.url)
    s.wait_log("event=marathon.registered", timeout=20)
    stop(s)
    version = marathon.app(APP)["version"]
    before = len(marathon.requests)
    s, _ = start(sup, tmp_path, marathon.url)
    s.wait_log("event=marathon.checks_match", timeout=20)
    later = marathon.requests[before:]
    assert [r.method for r in later] == ["GET"]
    assert marathon.app(APP)["version"] == version and marathon.changes(APP) == 1
    stop(s)


def test_changed_settings_rewrite_only_what_differs(sup, tmp_path, marathon):
    s, _ = start(sup, tmp_path, marathon.url)
    s.wait_log("event=marathon.registered", timeout=20)
    stop(s)
    s, _ = start(sup, tmp_path, marathon.url, {"SUPERVISOR_CHECK_FAILURES": "5"})
    s.wait_log("event=marathon.registered", timeout=20)
    last = marathon.writes(APP)[-1]
    assert set(json.loads(last.body)) == {"healthChecks"}
    assert marathon.app(APP)["healthChecks"][0]["maxConsecutiveFailures"] == 5
    stop(s)


def test_waits_while_a_deployment_holds_the_app_and_retries_after_409(sup, tmp_path, marathon):
    marathon.lock(APP, 2.5)
    marathon.fail_next(409, {"message": "App is locked by one or more deployments. Override with the option '?force=true'.",
                             "deployments": [{"id": "x"}]}, methods=("PATCH", "PUT"))
    s, ready = start(sup, tmp_path, marathon.url)
    wait_for(ready.exists, timeout=10, what="the child running meanwhile")
    s.wait_log("event=marathon.registered", timeout=40)
    statuses = [w.status for w in marathon.writes(APP)]
    assert statuses[0] == 409 and statuses[-1] == 200 and statuses.count(200) == 1
    assert "event=marathon.locked" in s.log()
    assert not any(r.forced for r in marathon.requests)
    stop(s)


def test_many_instances_starting_together_cause_one_write(sup, tmp_path):
    with CheckedDouble(deploy_seconds=3.0) as marathon:
        marathon.add_app(app_definition())
        instances = [start(sup, tmp_path, marathon.url)[0] for _ in range(5)]
        for s in instances:
            wait_for(lambda: "event=marathon.registered" in s.log() or "event=marathon.checks_match" in s.log(),
                     timeout=60, what="each instance done with Marathon")
        assert marathon.changes(APP) == 1, [(w.method, w.status) for w in marathon.writes(APP)]
        assert not any(r.forced for r in marathon.requests)
        for s in instances:
            stop(s)


def test_basic_auth_and_credentials_never_logged(sup, tmp_path):
    with CheckedDouble(credentials=("flink", "s3cr3t-pw")) as marathon:
        marathon.add_app(app_definition())
        creds = tmp_path / "creds"
        creds.write_text("flink:s3cr3t-pw\n")
        s, _ = start(sup, tmp_path, marathon.url, {"MARATHON_CREDENTIALS_FILE": str(creds),
                                                   "SUPERVISOR_LOG_LEVEL": "debug"})
        s.wait_log("event=marathon.registered", timeout=20)
        assert all(r.status != 401 for r in marathon.requests)
        stop(s)
        assert "s3cr3t-pw" not in s.log() + s.stdout()


def test_401_is_one_clear_error_and_the_token_file_is_read_again(sup, tmp_path):
    with CheckedDouble(token="fresh-token-123") as marathon:
        marathon.add_app(app_definition())
        token = tmp_path / "token"
        token.write_text("expired-token-456\n")
        s, ready = start(sup, tmp_path, marathon.url, {"MARATHON_TOKEN_FILE": str(token),
                                                       "SUPERVISOR_LOG_LEVEL": "debug"})
        s.wait_log("event=marathon.unauthorized", timeout=20)
        wait_for(ready.exists, timeout=10, what="the child running regardless")
        denied = sum(r.status == 401 for r in marathon.requests)
        assert denied == 1, "no retry storm"
        token.write_text("fresh-token-123\n")
        s.wait_log("event=marathon.registered", timeout=30)
        assert sum(r.status == 401 for r in marathon.requests) <= 2
        assert marathon.writes(APP)[-1].headers.get("Authorization") == "token=fresh-token-123"
        stop(s)
        log = s.log() + s.stdout()
        assert "fresh-token-123" not in log and "expired-token-456" not in log


def test_marathon_down_the_child_starts_at_once(sup, tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    s, ready = start(sup, tmp_path, f"http://127.0.0.1:{port}")
    wait_for(ready.exists, timeout=5, what="the child started")
    s.wait_log("event=marathon.retry", timeout=10)
    assert alive(s.pid)
    stop(s)


def test_dns_failure_is_retried_and_the_child_is_unaffected(sup, tmp_path):
    s, ready = start(sup, tmp_path, "http://no-such-marathon.invalid:8080")
    wait_for(ready.exists, timeout=5, what="the child started")
    s.wait_log("event=marathon.retry", timeout=20)
    stop(s)


@pytest.mark.parametrize("reply", [
    {"status": 200, "raw": b"{not json"},
    {"status": 200, "body": {"app": {"healthChecks": "wrong type"}}},
    {"status": 200, "raw": b"[" * 100000},
    {"status": 200, "raw": b"{\"app\": {\"id\": \"" + b"x" * (3 << 20) + b"\"}}"},
    {"status": 503, "body": {"message": "no leader"}},
])
def test_bad_answers_are_logged_and_retried(sup, tmp_path, marathon, reply):
    marathon.fail_next(count=2, **reply)
    s, ready = start(sup, tmp_path, marathon.url)
    s.wait_log("event=marathon.registered", timeout=40)
    assert "event=marathon.retry" in s.log() or "event=marathon.bad_answer" in s.log()
    wait_for(ready.exists, timeout=10, what="the child running")
    assert marathon.changes(APP) == 1
    stop(s)


def test_redirect_to_the_leader_is_followed(sup, tmp_path, marathon):
    with CheckedDouble() as follower:
        follower.redirect_to(marathon.url)
        s, _ = start(sup, tmp_path, follower.url)
        s.wait_log("event=marathon.registered", timeout=20)
        assert marathon.changes(APP) == 1 and any(r.status == 307 for r in follower.requests)
        stop(s)


def test_app_without_a_health_port_is_one_error_and_no_write(sup, tmp_path):
    with CheckedDouble() as marathon:
        marathon.add_app(app_definition(with_health_port=False))
        s, ready = start(sup, tmp_path, marathon.url)
        s.wait_log("event=marathon.cannot_check", timeout=20)
        assert "no port named" in s.log() and marathon.writes(APP) == []
        wait_for(ready.exists, timeout=10, what="the child running")
        assert alive(s.pid)
        stop(s)


def test_mesos_http_checks_run_inside_the_container(sup, tmp_path, marathon):
    s, _ = start(sup, tmp_path, marathon.url, {"SUPERVISOR_CHECK_PROTOCOL": "MESOS_HTTP"})
    s.wait_log("event=marathon.registered", timeout=20)
    assert marathon.app(APP)["healthChecks"][0]["protocol"] == "MESOS_HTTP"
    stop(s)


@pytest.mark.parametrize("env, name", [
    ({"MARATHON_URL": "marathon.mesos:8080"}, "MARATHON_URL"),
    ({"MARATHON_URL": "http://m:8080", "MARATHON_APP_ID": "no-slash"}, "MARATHON_APP_ID"),
    ({"SUPERVISOR_READY_INTERVAL": "10", "SUPERVISOR_READY_TIMEOUT": "10"}, "SUPERVISOR_READY_TIMEOUT"),
    ({"SUPERVISOR_CHECK_PROTOCOL": "TCP"}, "SUPERVISOR_CHECK_PROTOCOL"),
])
def test_invalid_marathon_settings_exit_2_with_one_line(sup, env, name):
    s = sup(["--", "true"], {"MARATHON_APP_ID": APP, **env})
    assert s.wait() == 2
    lines = s.log().strip().splitlines()
    assert len(lines) == 1 and name in lines[0], lines


def example_apps():
    from conftest import ROOT
    apps = []
    for path in sorted((ROOT / "conf" / "marathon").glob("*.json")):
        doc = json.loads(path.read_text())
        apps += doc.get("apps", [doc])
    return apps


@pytest.mark.parametrize("app", example_apps(), ids=lambda a: a["id"])
def test_example_apps_already_carry_the_checks_the_supervisor_wants(sup, tmp_path, app):
    """conf/marathon: what the examples declare is what registration would
    write, so deploying them causes no second deployment."""
    with CheckedDouble() as marathon:
        marathon.add_app(app)
        s = sup(["--", TESTCHILD, "record", str(tmp_path / "rec")],
                {**app["env"], "MARATHON_URL": marathon.url, "MARATHON_APP_ID": app["id"],
                 "SUPERVISOR_HEALTH_PORT": str(free_port())})
        s.ready_file = tmp_path / "rec"
        s.wait_log("event=marathon.checks_match", timeout=20)
        assert marathon.writes() == []
        stop(s)


def test_a_body_marathon_would_refuse_fails_the_checked_double():
    from test_marathon_double import call
    with pytest.raises(AssertionError, match="intervalSeconds"):
        with CheckedDouble() as m:
            m.add_app(app_definition())
            body = {"healthChecks": [{"protocol": "HTTP", "intervalSeconds": "30"}]}
            reply = call(m.url, "PATCH", f"/v2/apps{APP}", body)
            assert reply.status == 422
