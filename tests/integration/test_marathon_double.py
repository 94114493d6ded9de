"""The Marathon test double checked against ../shared/MARATHON.md, so that the
supervisor's Marathon client, tested against the double, is tested against
Marathon's documented behaviour: defaults, partial updates, no-op writes,
deployment locks, validation, authentication, the failure injections, and
the tasks it runs as real processes (environment, replacement and launch
delay, kills, scaling, upgrades, shutdown)."""
import base64
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import ROOT, alive, free_port, wait_for
from marathon_double import READ_ONLY, InvalidApp, MarathonDouble, command_launcher

DOUBLE = Path(__file__).with_name("marathon_double.py")
TM_ID = "/flink/taskmanager"
HC = {"protocol": "HTTP", "path": "/health", "portIndex": 2}
RC = {"portName": "health", "path": "/ready"}
TASKMANAGER = {
    "id": TM_ID, "instances": 2, "cpus": 2, "mem": 4096, "args": ["taskmanager"],
    "container": {"type": "DOCKER", "docker": {"image": "flink-appliance:latest"},
                  "portMappings": [{"name": "rpc", "containerPort": 6122, "hostPort": 0},
                                   {"name": "data", "containerPort": 6121, "hostPort": 0},
                                   {"name": "health", "containerPort": 8558, "hostPort": 0}]},
    "networks": [{"mode": "container/bridge"}], "env": {"ROLE": "taskmanager"}, "labels": {"role": "taskmanager"},
}
VERSION = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Lets a test see a 307 instead of following it."""

    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass
class Reply:
    status: int
    headers: object
    body: bytes

    def json(self):
        return json.loads(self.body)


def call(base, method, path, body=None, data=None, headers=None, content_type="application/json", opener=OPENER):
    """One request; any status comes back as a Reply, never as an exception."""
    if body is not None:
        data = json.dumps(body).encode()
    all_headers = dict(headers or {})
    if data is not None:
        all_headers["Content-Type"] = content_type
    request = urllib.request.Request(base + path, data=data, method=method, headers=all_headers)
    try:
        with opener.open(request, timeout=5) as r:
            return Reply(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        with e:
            return Reply(e.code, e.headers, e.read())


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def double():
    with MarathonDouble() as d:
        d.add_app({**TASKMANAGER, "healthChecks": [HC], "readinessChecks": [RC]})
        yield d


def get_app(d, app_id=TM_ID):
    reply = call(d.url, "GET", "/v2/apps" + app_id)
    assert reply.status == 200, reply.body
    return reply.json()["app"]


def put(d, body, query="", app_id=TM_ID, method="PUT"):
    return call(d.url, method, f"/v2/apps{app_id}{query}", body)


# -- basics ------------------------------------------------------------------

def test_ping_and_info(double):
    reply = call(double.url, "GET", "/ping")
    assert (reply.status, reply.body) == (200, b"pong")
    assert reply.headers["Content-Type"].startswith("text/plain")
    info = call(double.url, "GET", "/v2/info").json()
    assert info["name"] == "marathon" and info["version"] == "1.11.24" and info["elected"] is True
    assert info["leader"] == f"127.0.0.1:{double.port}" and info["frameworkId"]
    assert info["marathon_config"]["http_port"] == double.port


def test_get_fills_app_defaults_and_read_only_fields():
    with MarathonDouble() as d:
        d.add_app({"id": "bare", "cmd": "sleep 1000"})
        app = get_app(d, "/bare")
    assert app["id"] == "/bare"
    expected = {"instances": 1, "cpus": 1, "mem": 128, "disk": 0, "gpus": 0, "env": {}, "labels": {},
                "constraints": [], "healthChecks": [], "readinessChecks": [], "backoffSeconds": 1,
                "backoffFactor": 1.15, "maxLaunchDelaySeconds": 300, "killSelection": "YOUNGEST_FIRST",
                "requirePorts": False, "upgradeStrategy": {"minimumHealthCapacity": 1, "maximumOverCapacity": 1},
                "portDefinitions": [{"port": 10000, "protocol": "tcp", "name": "default", "labels": {}}],
                "tasks": [], "deployments": [], "tasksRunning": 0, "tasksStaged": 0, "tasksHealthy": 0,
                "tasksUnhealthy": 0}
    assert {k: app.get(k) for k in expected} == expected
    assert VERSION.fullmatch(app["version"])
    assert app["versionInfo"] == {"lastScalingAt": app["version"], "lastConfigChangeAt": app["version"]}


def test_get_fills_check_and_port_defaults(double):
    app = get_app(double)
    assert app["portDefinitions"] == [], "ports come from container.portMappings"
    assert app["container"]["portMappings"][0] == {"name": "rpc", "containerPort": 6122, "hostPort": 0,
                                                   "servicePort": 0, "protocol": "tcp", "labels": {}}
    assert app["healthChecks"] == [{"protocol": "HTTP", "path": "/health", "portIndex": 2, "gracePeriodSeconds": 300,
                                    "intervalSeconds": 60, "timeoutSeconds": 20, "maxConsecutiveFailures": 3,
                                    "ignoreHttp1xx": False, "ipProtocol": "IPv4"}]
    assert app["readinessChecks"] == [{"name": "readinessCheck", "protocol": "HTTP", "path": "/ready",
                                       "portName": "health", "intervalSeconds": 30, "timeoutSeconds": 10,
                                       "httpStatusCodesForReady": [200], "preserveLastResponse": False}]
    assert call(double.url, "GET", f"/v2/apps{TM_ID}?embed=app.tasks&embed=app.counts").status == 200
    assert "lastTaskFailure" not in app, "only once a task failed"


@pytest.mark.parametrize("check, present, absent", [
    ({}, {"protocol": "HTTP", "path": "/", "portIndex": 0, "ignoreHttp1xx": False, "ipProtocol": "IPv4"},
     ("delaySeconds", "port")),
    ({"protocol": "HTTPS", "port": 8443}, {"path": "/", "port": 8443, "ignoreHttp1xx": False},
     ("portIndex", "delaySeconds")),
    ({"protocol": "TCP"}, {"portIndex": 0, "ipProtocol": "IPv4"}, ("path", "ignoreHttp1xx", "delaySeconds")),
    ({"protocol": "COMMAND", "command": {"value": "true"}}, {"delaySeconds": 15},
     ("path", "portIndex", "ignoreHttp1xx", "ipProtocol")),
    ({"protocol": "MESOS_HTTP"}, {"path": "/", "portIndex": 0, "delaySeconds": 15}, ("ignoreHttp1xx",)),
    ({"protocol": "MESOS_TCP", "portIndex": 1}, {"portIndex": 1, "delaySeconds": 15}, ("path", "ignoreHttp1xx")),
])
def test_health_check_defaults_per_protocol(double, check, present, absent):
    assert put(double, {"healthChecks": [check]}).status == 200
    filled = get_app(double)["healthChecks"][0]
    assert {k: filled.get(k) for k in present} == present
    assert {"gracePeriodSeconds": 300, "intervalSeconds": 60, "timeoutSeconds": 20,
            "maxConsecutiveFailures": 3}.items() <= filled.items()
    assert not set(absent) & set(filled)


def test_unknown_app_is_404(double):
    reply = call(double.url, "GET", "/v2/apps/nope")
    assert reply.status == 404 and reply.json() == {"message": "App '/nope' does not exist"}
    assert call(double.url, "GET", "/v2/apps/flink/nope/versions").status == 404
    assert put(double, {"instances": 1}, app_id="/flink/nope", method="PATCH").status == 404
    assert "/flink/nope" not in [a["id"] for a in call(double.url, "GET", "/v2/apps").json()["apps"]]


# -- writes ------------------------------------------------------------------

@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_partial_update_replaces_sent_fields_and_keeps_the_rest(method):
    with MarathonDouble() as d:
        d.add_app({**TASKMANAGER, "healthChecks": [HC, {"protocol": "TCP", "portIndex": 0}]})
        before = get_app(d)
        reply = put(d, {"healthChecks": [{**HC, "intervalSeconds": 30}], "env": {"NEW": "1"}}, method=method)
        assert reply.status == 200, reply.body
        after = get_app(d)
    assert reply.json()["version"] == after["version"] != before["version"]
    assert [c["intervalSeconds"] for c in after["healthChecks"]] == [30], "the array is replaced, not merged"
    assert after["env"] == {"NEW": "1"}, "objects are replaced wholesale"
    for kept in ("instances", "cpus", "mem", "args", "container", "labels", "networks"):
        assert after[kept] == before[kept]


def test_put_without_partial_update_replaces_the_definition(double):
    reply = put(double, {"cmd": "sleep 1", "instances": 3}, query="?partialUpdate=false")
    assert reply.status == 200, reply.body
    app = get_app(double)
    assert app["cmd"] == "sleep 1" and app["instances"] == 3
    assert app["env"] == {} and app["healthChecks"] == [] and "args" not in app and "container" not in app


def test_version_bumps_only_on_change(double):
    v0 = get_app(double)["version"]
    noop = put(double, {"instances": 2, "healthChecks": [HC]})
    assert noop.status == 200 and noop.json()["version"] == v0 and noop.json()["deploymentId"]
    spelled_out = {**HC, "gracePeriodSeconds": 300, "intervalSeconds": 60, "timeoutSeconds": 20,
                   "maxConsecutiveFailures": 3, "ignoreHttp1xx": False, "ipProtocol": "IPv4"}
    assert put(double, {"healthChecks": [spelled_out]}, method="PATCH").json()["version"] == v0
    assert double.changes(TM_ID) == 0 and len(double.writes(TM_ID)) == 2

    v1 = put(double, {"healthChecks": [{**HC, "timeoutSeconds": 5}]}).json()["version"]
    assert VERSION.fullmatch(v1) and v1 > v0
    assert get_app(double)["version"] == v1
    assert put(double, {"healthChecks": [{**HC, "timeoutSeconds": 5}]}).json()["version"] == v1
    v2 = put(double, {"instances": 5}).json()["version"]
    assert v2 > v1 and double.changes() == double.changes(TM_ID) == 2 and len(double.writes()) == 5
    assert get_app(double)["versionInfo"] == {"lastScalingAt": v2, "lastConfigChangeAt": v1}


def test_put_creates_a_missing_app_with_201():
    with MarathonDouble() as d:
        reply = put(d, {"cmd": "sleep 1000", "instances": 1}, app_id="/flink/new")
        assert reply.status == 201, reply.body
        assert VERSION.fullmatch(reply.json()["version"]) and reply.json()["deploymentId"]
        assert reply.headers["Location"] == "/v2/apps/flink/new"
        assert get_app(d, "/flink/new")["version"] == reply.json()["version"]
        assert d.changes("/flink/new") == 1
        assert put(d, {"cmd": "sleep 1"}, app_id="/flink/Bad_Name").status == 422


def test_post_creates_and_refuses_a_duplicate():
    with MarathonDouble() as d:
        created = call(d.url, "POST", "/v2/apps", {"id": "flink/posted", "cmd": "sleep 1000"})
        assert created.status == 201 and created.json()["id"] == "/flink/posted"
        duplicate = call(d.url, "POST", "/v2/apps", {"id": "/flink/posted", "cmd": "sleep 1"})
        assert duplicate.status == 409
        assert call(d.url, "POST", "/v2/apps", {"cmd": "sleep 1"}).status == 422, "id is required"
        assert [r.status for r in d.writes("/flink/posted")] == [201, 409]
        assert get_app(d, "/flink/posted")["cmd"] == "sleep 1000"


# What Marathon's own validators reject and this double models no rule for:
# the oracle (../shared/oracle) decides.
ORACLE_ONLY = [
    ("one-character cmd", {"id": "/flink/a", "cmd": "x"}, "/cmd"),
    ("unknown constraint operator", {"id": "/flink/a", "cmd": "sleep 1", "constraints": [["hostname", "NOPE"]]},
     "/constraints(0)"),
    ("reserved id segment", {"id": "/flink/restart", "cmd": "sleep 1"}, "/id"),
]


@pytest.mark.parametrize("what, body, path", ORACLE_ONLY, ids=[case[0] for case in ORACLE_ONLY])
def test_what_marathons_validators_reject_gets_422(what, body, path):
    with MarathonDouble() as d:
        for method, url in (("POST", "/v2/apps"), ("PUT", f"/v2/apps{body['id']}")):
            reply = call(d.url, method, url, body)
            assert reply.status == 422, f"{what} ({method}): {reply.status} {reply.body}"
            assert path in [x["path"] for x in reply.json()["details"]], reply.json()
        with pytest.raises(InvalidApp):
            d.add_app(body)
        assert call(d.url, "GET", f"/v2/apps{body['id']}").status == 404


def test_version_alone_rolls_back(double):
    v0 = get_app(double)["version"]
    v1 = put(double, {"env": {"CHANGED": "1"}}).json()["version"]
    assert call(double.url, "GET", f"/v2/apps{TM_ID}/versions").json() == {"versions": [v1, v0]}
    rolled = put(double, {"version": v0})
    assert rolled.status == 200 and rolled.json()["version"] > v1
    assert get_app(double)["env"] == TASKMANAGER["env"]
    assert put(double, {"version": "2001-01-01T00:00:00.000Z"}).status == 404
    assert put(double, {"version": v0}, app_id="/flink/nope").status == 404


# -- deployments ---------------------------------------------------------------

def test_writes_get_409_while_deploying_and_succeed_after():
    with MarathonDouble(deploy_seconds=0.5) as d:
        d.add_app({**TASKMANAGER, "healthChecks": [HC]})
        first = put(d, {"instances": 3})
        assert first.status == 200
        assert get_app(d)["deployments"] == [{"id": first.json()["deploymentId"]}]
        assert call(d.url, "GET", "/v2/deployments").json()[0]["affectedApps"] == [TM_ID]

        locked = put(d, {"instances": 4})
        assert locked.status == 409
        deployment = first.json()["deploymentId"]
        assert locked.json() == {
            "message": "App is locked by one or more deployments. Override with the option '?force=true'. "
                       f"View details at '/v2/deployments/{deployment}'.",
            "deployments": [{"id": deployment}]}
        assert put(d, {"instances": 3}, method="PATCH").status == 409, "even a no-op waits for the deployment"
        assert get_app(d)["instances"] == 3

        statuses = []
        wait_for(lambda: statuses.append(put(d, {"instances": 4}).status) or statuses[-1] == 200, timeout=5,
                 interval=0.05, what="the deployment to end")
        assert set(statuses[:-1]) <= {409}
        assert get_app(d)["instances"] == 4 and d.changes() == 2
        assert not any(r.forced for r in d.writes())


def test_force_is_honoured_and_recorded(double):
    deployment = double.lock(TM_ID, 60)
    assert get_app(double)["deployments"] == [{"id": deployment}]
    assert put(double, {"instances": 7}).status == 409
    forced = put(double, {"instances": 7}, query="?force=true")
    assert forced.status == 200 and get_app(double)["instances"] == 7
    assert [r.status for r in double.writes(TM_ID) if r.forced] == [200]
    double.lock(TM_ID, 0)
    assert get_app(double)["deployments"] == [] and put(double, {"instances": 1}).status == 200


# -- validation ----------------------------------------------------------------

INVALID = [
    ("unknown top-level field", {"healthcheck": [HC]}, "/healthcheck"),
    ("unknown health check field", {"healthChecks": [{**HC, "interval": 5}]}, "/healthChecks(0)/interval"),
    ("unknown readiness field", {"readinessChecks": [{**RC, "timeout": 5}]}, "/readinessChecks(0)/timeout"),
    ("string for an integer", {"healthChecks": [{**HC, "intervalSeconds": "30"}]}, "/healthChecks(0)/intervalSeconds"),
    ("negative integer", {"healthChecks": [{**HC, "gracePeriodSeconds": -1}]}, "/healthChecks(0)/gracePeriodSeconds"),
    ("fraction for an integer", {"healthChecks": [{**HC, "timeoutSeconds": 2.5}]}, "/healthChecks(0)/timeoutSeconds"),
    ("boolean for an integer", {"instances": True}, "/instances"),
    ("negative instances", {"instances": -1}, "/instances"),
    ("string for a number", {"cpus": "1"}, "/cpus"),
    ("non-string env value", {"env": {"A": 1}}, "/env/A"),
    ("array for an object", {"env": []}, "/env"),
    ("object for an array", {"healthChecks": {}}, "/healthChecks"),
    ("number for a string", {"healthChecks": [{**HC, "path": 5}]}, "/healthChecks(0)/path"),
    ("version with other fields", {"version": "2020-01-01T00:00:00.000Z", "instances": 3}, "/"),
    ("portIndex beyond portMappings", {"healthChecks": [{**HC, "portIndex": 3}]}, "/healthChecks(0)/portIndex"),
    ("port and portIndex", {"healthChecks": [{**HC, "port": 8558}]}, "/healthChecks(0)"),
    ("unknown protocol", {"healthChecks": [{**HC, "protocol": "GRPC"}]}, "/healthChecks(0)/protocol"),
    ("protocol in lower case", {"healthChecks": [{**HC, "protocol": "http"}]}, "/healthChecks(0)/protocol"),
    ("COMMAND without command", {"healthChecks": [{"protocol": "COMMAND"}]}, "/healthChecks(0)"),
    ("two MESOS_* checks", {"healthChecks": [{"protocol": "MESOS_HTTP", "portIndex": 2},
                                             {"protocol": "MESOS_TCP", "portIndex": 0}]}, "/healthChecks"),
    ("two readiness checks", {"readinessChecks": [RC, {**RC, "name": "again"}]}, "/readinessChecks"),
    ("readiness portName unknown", {"readinessChecks": [{**RC, "portName": "web"}]}, "/readinessChecks(0)/portName"),
    ("readiness portName missing", {"readinessChecks": [{"path": "/ready"}]}, "/readinessChecks(0)/portName"),
    ("readiness timeout = interval", {"readinessChecks": [{**RC, "timeoutSeconds": 30}]},
     "/readinessChecks(0)/timeoutSeconds"),
    ("readiness timeout 0", {"readinessChecks": [{**RC, "timeoutSeconds": 0}]}, "/readinessChecks(0)/timeoutSeconds"),
    ("readiness default timeout > interval", {"readinessChecks": [{**RC, "intervalSeconds": 5}]},
     "/readinessChecks(0)/timeoutSeconds"),
    ("readiness over TCP", {"readinessChecks": [{**RC, "protocol": "TCP"}]}, "/readinessChecks(0)/protocol"),
    ("id of another app", {"id": "/flink/jobmanager", "instances": 1}, "/id"),
] + [(f"read-only {field}", {field: 0}, f"/{field}") for field in READ_ONLY]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("what, body, path", INVALID, ids=[case[0] for case in INVALID])
def test_invalid_bodies_get_422_with_details(double, method, what, body, path):
    before = get_app(double)
    reply = put(double, body, method=method)
    assert reply.status == 422, f"{what}: {reply.status} {reply.body}"
    answer = reply.json()
    assert answer["message"] == "Object is not valid"
    assert path in [d["path"] for d in answer["details"]], answer
    assert all(d["errors"] and all(isinstance(e, str) and e for e in d["errors"]) for d in answer["details"])
    assert get_app(double) == before and double.changes() == 0
    assert double.requests[-2].status == 422


def test_validation_applies_to_the_resulting_app(double):
    """A partial update may break a check it did not send."""
    shrunk = {**TASKMANAGER["container"], "portMappings": TASKMANAGER["container"]["portMappings"][:2]}
    reply = put(double, {"container": shrunk})
    assert reply.status == 422
    assert [d["path"] for d in reply.json()["details"]] == ["/healthChecks(0)/portIndex",
                                                            "/readinessChecks(0)/portName"]
    with MarathonDouble() as d:
        d.add_app({"id": "/portless", "cmd": "sleep 1", "portDefinitions": []})
        reply = put(d, {"healthChecks": [{"protocol": "TCP"}]}, app_id="/portless")
        assert reply.status == 422, "the default portIndex 0 must address a port too"
        assert put(d, {"healthChecks": [{"protocol": "TCP", "port": 8080}]}, app_id="/portless").status == 200


@pytest.mark.parametrize("data", [b"{", b"[1]", b'"app"', b"", b'{"instances": NaN}', b"\xff\xfe{}"])
def test_bad_json_gets_400(double, data):
    reply = call(double.url, "PUT", f"/v2/apps{TM_ID}", data=data)
    assert reply.status == 400 and reply.json()["message"] == "Invalid JSON" and reply.json()["details"]
    assert double.requests[-1].status == 400 and double.requests[-1].body == data


def test_a_body_needs_a_json_content_type(double):
    reply = call(double.url, "PUT", f"/v2/apps{TM_ID}", {"instances": 3}, content_type="text/plain")
    assert reply.status == 415
    connection = http.client.HTTPConnection("127.0.0.1", double.port, timeout=5)
    connection.putrequest("PATCH", f"/v2/apps{TM_ID}")
    connection.putheader("Content-Length", "16")
    connection.endheaders(b'{"instances": 3}')
    assert connection.getresponse().status == 415
    connection.close()
    assert call(double.url, "PUT", f"/v2/apps{TM_ID}", {"instances": 3},
                content_type="application/json; charset=utf-8").status == 200


def test_add_app_validates():
    d = MarathonDouble()
    with pytest.raises(InvalidApp) as raised:
        d.add_app({**TASKMANAGER, "healthChecks": [{**HC, "portIndex": 9}]})
    assert raised.value.details[0]["path"] == "/healthChecks(0)/portIndex"
    with pytest.raises(InvalidApp):
        d.add_app({"cmd": "sleep 1"})
    assert d.add_app({"id": "flink/x", "cmd": "sleep 1"})["id"] == "/flink/x"


def test_the_shipped_marathon_definitions_are_accepted():
    d = MarathonDouble()
    for path in sorted((ROOT / "conf" / "marathon").glob("*.json")):
        document = json.loads(path.read_text())
        for app in document.get("apps", [document]):
            assert d.add_app(app)["id"] == app["id"], path


# -- HTTP ----------------------------------------------------------------------

def test_oversized_body_gets_413(double):
    connection = http.client.HTTPConnection("127.0.0.1", double.port, timeout=5)
    body = b'{"env": {"A": "' + b"x" * (1 << 20) + b'"}}'
    try:
        connection.request("PUT", f"/v2/apps{TM_ID}", body, {"Content-Type": "application/json"})
        status = connection.getresponse().status
    except (BrokenPipeError, ConnectionResetError):
        status = double.requests[-1].status  # it answered and hung up while the body was still going out
    assert status == 413 and double.requests[-1].status == 413
    connection.close()


def test_expect_100_continue(double):
    body = json.dumps({"instances": 6}).encode()
    with socket.create_connection(("127.0.0.1", double.port), timeout=5) as s:
        s.sendall(f"PUT /v2/apps{TM_ID} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode())
        interim = s.recv(100)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        s.sendall(body)
        assert s.recv(100).startswith(b"HTTP/1.1 200")
    with socket.create_connection(("127.0.0.1", double.port), timeout=5) as s:
        s.sendall(f"PUT /v2/apps{TM_ID} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {2 << 20}\r\nExpect: 100-continue\r\n\r\n".encode())
        assert s.recv(100).startswith(b"HTTP/1.1 413"), "refused before the body is sent"
    assert get_app(double)["instances"] == 6


def test_chunked_body_and_keep_alive(double):
    connection = http.client.HTTPConnection("127.0.0.1", double.port, timeout=5)
    connection.request("GET", f"/v2/apps{TM_ID}")
    assert connection.getresponse().read() and connection.sock is not None
    sock = connection.sock
    chunks = [b'{"instan', b'ces": 9}']
    connection.request("PUT", f"/v2/apps{TM_ID}", iter(chunks), {"Content-Type": "application/json"},
                       encode_chunked=True)
    reply = connection.getresponse()
    assert reply.status == 200, reply.read()
    reply.read()
    connection.request("GET", f"/v2/apps{TM_ID}")
    assert json.loads(connection.getresponse().read())["app"]["instances"] == 9
    assert connection.sock is sock, "one connection served all three requests"
    assert double.requests[-2].body == b"".join(chunks)
    connection.close()


def test_stop_drops_connections_and_start_resumes(double):
    connection = http.client.HTTPConnection("127.0.0.1", double.port, timeout=5)
    connection.request("GET", "/ping")
    connection.getresponse().read()
    url = double.url
    double.stop()
    started = time.monotonic()
    with pytest.raises((OSError, http.client.HTTPException)):
        connection.request("GET", "/ping")
        connection.getresponse()
    assert time.monotonic() - started < 2
    connection.close()
    double.start()
    assert double.url == url and get_app(double)["id"] == TM_ID


def test_requests_are_recorded_with_their_status(double):
    put(double, {"instances": 3}, query="?force=false")
    put(double, {"instances": "3"})
    call(double.url, "GET", "/ping")
    ok, invalid, ping = double.requests[-3:]
    assert (ok.method, ok.path, ok.query, ok.status, ok.app_id) == ("PUT", f"/v2/apps{TM_ID}", {"force": "false"},
                                                                   200, TM_ID)
    assert ok.headers["content-type"] == "application/json" and ok.json() == {"instances": 3}
    assert not ok.forced
    assert (invalid.status, ping.status, ping.method, ping.body) == (422, 200, "GET", b"")
    assert [r.status for r in double.writes(TM_ID)] == [200, 422] and double.writes("/other") == []


# -- authentication ------------------------------------------------------------

def test_basic_auth_on_every_path():
    with MarathonDouble(credentials=("marathon", "s3cret")) as d:
        d.add_app(TASKMANAGER)
        for path in ("/ping", f"/v2/apps{TM_ID}", "/v2/info"):
            refused = call(d.url, "GET", path)
            assert refused.status == 401, path
            assert refused.headers["WWW-Authenticate"] == 'Basic realm="Mesosphere Marathon"'
            assert call(d.url, "GET", path, headers=basic("marathon", "s3cret")).status == 200, path
        assert call(d.url, "GET", "/ping", headers=basic("marathon", "wrong")).status == 401
        assert call(d.url, "GET", "/ping", headers={"Authorization": "Basic !!!"}).status == 401
        assert call(d.url, "GET", "/ping", headers={"Authorization": "token=s3cret"}).status == 401
        assert put(d, {"instances": 5}).status == 401
        assert get_app_with(d, basic("marathon", "s3cret"))["instances"] == 2
        assert d.requests[-2].status == 401 and d.changes() == 0


def get_app_with(d, headers):
    return call(d.url, "GET", f"/v2/apps{TM_ID}", headers=headers).json()["app"]


def test_token_auth_and_rotation():
    with MarathonDouble(token="first") as d:
        d.add_app(TASKMANAGER)
        refused = call(d.url, "GET", "/ping")
        assert refused.status == 401 and "basic" not in refused.headers.get("WWW-Authenticate", "").lower()
        assert call(d.url, "GET", "/ping", headers={"Authorization": "token=first"}).status == 200
        assert call(d.url, "GET", "/ping", headers={"Authorization": "Bearer first"}).status == 401
        assert call(d.url, "PUT", f"/v2/apps{TM_ID}", {"instances": 4},
                    headers={"Authorization": "token=first"}).status == 200
        d.token = "second"
        assert call(d.url, "GET", "/ping", headers={"Authorization": "token=first"}).status == 401
        assert get_app_with(d, {"Authorization": "token=second"})["instances"] == 4


# -- injected trouble ----------------------------------------------------------

def test_redirect_to_another_marathon(double):
    with MarathonDouble() as leader:
        leader.add_app({**TASKMANAGER, "instances": 8})
        double.redirect_to(leader.url)
        reply = call(double.url, "GET", f"/v2/apps{TM_ID}?embed=app.tasks")
        assert reply.status == 307
        assert reply.headers["Location"] == f"{leader.url}/v2/apps{TM_ID}?embed=app.tasks"
        assert put(double, {"instances": 1}).status == 307
        assert call(double.url, "GET", "/ping").status == 200, "only /v2 is redirected"
        followed = call(double.url, "GET", f"/v2/apps{TM_ID}", opener=urllib.request.build_opener())
        assert followed.json()["app"]["instances"] == 8
        double.redirect_to(None)
        assert get_app(double)["instances"] == 2 and double.changes() == 0


def test_fail_next(double):
    double.fail_next(503, {"message": "no leader"}, count=2, headers={"Retry-After": "1"})
    first, second = call(double.url, "GET", "/ping"), put(double, {"instances": 5})
    assert (first.status, second.status) == (503, 503)
    assert first.json() == {"message": "no leader"} and first.headers["Retry-After"] == "1"
    assert get_app(double)["instances"] == 2, "the failed write changed nothing"
    double.fail_next(200, raw=b'{"app": {"id": ')
    truncated = call(double.url, "GET", f"/v2/apps{TM_ID}")
    assert (truncated.status, truncated.body) == (200, b'{"app": {"id": ')
    double.fail_next(500)
    double.fail_next(409)
    assert [call(double.url, "GET", "/ping").status for _ in range(3)] == [500, 409, 200]
    assert [r.status for r in double.requests] == [503, 503, 200, 200, 500, 409, 200]


# -- by hand ---------------------------------------------------------------------

def test_main_serves_the_given_apps():
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(DOUBLE), "--port", str(port), "--credentials", "u:p",
                             "--app", str(ROOT / "conf" / "marathon" / "group.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: call_or_none(base, "/ping") == 200, timeout=10, what="the double to serve")
        for app_id in ("/flink/jobmanager", "/flink/taskmanager"):
            reply = call(base, "GET", f"/v2/apps{app_id}", headers=basic("u", "p"))
            assert reply.status == 200 and reply.json()["app"]["id"] == app_id
    finally:
        proc.terminate()
        proc.wait(5)
        proc.stdout.close()


def call_or_none(base, path):
    try:
        return call(base, "GET", path, headers=basic("u", "p")).status
    except OSError:
        return None


# -- running tasks -----------------------------------------------------------------
# The double's launcher runs TASK, a stand-in for a TaskManager: it writes its
# environment to $MESOS_SANDBOX/env.json (atomically, so a test never reads
# half of it), then waits, bounded, for the test to write an exit status into
# $MESOS_SANDBOX/exit. IGNORE_TERM=1 makes it ignore SIGTERM (so only the
# SIGKILL after the grace period ends it); GRANDCHILD=1 has it start a child
# in its process group. MARKER, in every command line, finds what is left.

MARKER = f"marathon-double-test-task-{os.getpid()}"
TASK = f"""# {MARKER}
import json, os, signal, subprocess, sys, time
from pathlib import Path
if os.environ.get("IGNORE_TERM"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = None
if os.environ.get("GRANDCHILD"):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)  # {MARKER}"])
sandbox = Path(os.environ["MESOS_SANDBOX"])
(sandbox / "env.tmp").write_text(json.dumps({{**os.environ, "CHILD_PID": str(child.pid if child else 0)}}))
os.replace(sandbox / "env.tmp", sandbox / "env.json")
print("started", os.environ["MESOS_TASK_ID"], flush=True)
print("this goes to stderr", file=sys.stderr, flush=True)
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        sys.exit(int((sandbox / "exit").read_text()))
    except (FileNotFoundError, ValueError):
        time.sleep(0.02)
"""
RUN_ID = "/flink/appmaster-taskmanagers"
TASK_ID = re.compile(r"flink_appmaster-taskmanagers\.instance-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\._app\.1")


def runnable(**fields):
    """A TaskManager app as an Application Master would create it; no launch
    delay unless a test wants one."""
    return {"id": RUN_ID, "cmd": "flink taskmanager", "instances": 1, "cpus": 0.5, "mem": 1024,
            "backoffSeconds": 0, **fields}


def marked_processes():
    """Live processes of TASK (or of its grandchild), by their command line."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes() if entry.isdigit() else b""
        except OSError:
            continue
        if MARKER.encode() in cmdline and alive(int(entry)):
            found.append(int(entry))
    return found


@pytest.fixture
def run_tasks():
    """Makes started doubles that run TASK; at the end each is shut down and
    no process of TASK may be left, whatever the test did."""
    made = []

    def make(**kwargs):
        d = MarathonDouble(launcher=command_launcher(lambda app: [sys.executable, "-c", TASK]), host="agent-1",
                           **kwargs)
        made.append(d)
        return d.start()
    yield make
    for d in made:
        d.shutdown()
    assert wait_for(lambda: not marked_processes(), timeout=2, what="no task left") is True


def read_env(task):
    try:
        return json.loads((Path(task["sandbox"]) / "env.json").read_text())
    except FileNotFoundError:
        return None


def started(d, count, app_id=RUN_ID, exclude=()):
    """Waits until the app has exactly `count` live tasks, none of them in
    exclude (ids), each past writing its env.json; returns them, oldest first,
    each with its "env"."""
    def ready():
        tasks = d.tasks(app_id)
        if len(tasks) != count or any(t["id"] in exclude for t in tasks):
            return None
        envs = [read_env(t) for t in tasks]
        return None if None in envs else [{**t, "env": env} for t, env in zip(tasks, envs)]
    return wait_for(ready, timeout=10, interval=0.02, what=f"{count} task(s) of {app_id} running")


def ids(d, app_id=RUN_ID):
    return [t["id"] for t in d.tasks(app_id)]


def view_of(task):
    """A task as GET lists it: without the inspection fields."""
    return {k: v for k, v in task.items() if k not in ("pid", "sandbox", "env")}


def end(task, status):
    """Has TASK exit with this status, as if it ended on its own."""
    (Path(task["sandbox"]) / "exit").write_text(str(status))


def gone(pid):
    wait_for(lambda: not alive(pid), timeout=5, what=f"process {pid} gone")


def holds(cond, seconds):
    """cond() stays true over `seconds`, several reconciler ticks: what must
    not happen (a launch, a kill) is seen not to."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert cond()
        time.sleep(0.02)


def seconds_between(earlier, later):
    parse = [datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc) for t in (earlier, later)]
    return (parse[1] - parse[0]).total_seconds()


def test_tasks_run_with_marathons_environment(run_tasks):
    d = run_tasks()
    mappings = TASKMANAGER["container"]["portMappings"] + [{"name": "metrics-http", "containerPort": 0, "hostPort": 0}]
    d.add_app({**TASKMANAGER, "container": {**TASKMANAGER["container"], "portMappings": mappings},
               "labels": {"role": "taskmanager", "flink.cluster-id": "c1"},
               "env": {"ROLE": "taskmanager", "HOST": "tm.internal"}})
    tasks = started(d, 2, TM_ID)
    app = get_app(d)
    assert app["tasks"] == [view_of(t) for t in tasks] and app["tasksRunning"] == 2
    assert (app["tasksStaged"], app["tasksHealthy"], app["tasksUnhealthy"]) == (0, 0, 0)
    assert "lastTaskFailure" not in app
    assert len({t["id"] for t in tasks}) == 2
    assert len({p for t in tasks for p in t["ports"]}) == 8, "no port twice, within a task or across"
    for task in tasks:
        env = task["env"]
        assert re.fullmatch(r"flink_taskmanager\.instance-[0-9a-f-]{36}\._app\.1", task["id"])
        assert (task["appId"], task["host"], task["state"], task["version"]) == (TM_ID, "agent-1", "TASK_RUNNING",
                                                                                app["version"])
        assert VERSION.fullmatch(task["stagedAt"]) and VERSION.fullmatch(task["startedAt"])
        assert re.fullmatch(r"[0-9a-f-]{36}-S\d+", task["slaveId"])
        assert alive(task["pid"]) and os.getpgid(task["pid"]) == task["pid"], "in a process group of its own"
        ports = [str(p) for p in task["ports"]]
        rpc, data, health, metrics = ports
        assert env.pop("CHILD_PID") == "0"
        env.pop("LC_CTYPE", None)  # Python's own locale coercion (PEP 538), not the double's
        assert env == {
            "MESOS_TASK_ID": task["id"], "MARATHON_APP_ID": TM_ID, "MARATHON_APP_VERSION": app["version"],
            "MARATHON_APP_DOCKER_IMAGE": "flink-appliance:latest",
            "MARATHON_APP_RESOURCE_CPUS": "2.0", "MARATHON_APP_RESOURCE_MEM": "4096.0",
            "MARATHON_APP_RESOURCE_DISK": "0.0", "MARATHON_APP_RESOURCE_GPUS": "0.0",
            "MARATHON_APP_LABELS": env["MARATHON_APP_LABELS"],
            "MARATHON_APP_LABEL_ROLE": "taskmanager", "MARATHON_APP_LABEL_FLINK_CLUSTER_ID": "c1",
            "PORT0": rpc, "PORT1": data, "PORT2": health, "PORT3": metrics, "PORT": rpc, "PORTS": ",".join(ports),
            "PORT_RPC": rpc, "PORT_DATA": data, "PORT_HEALTH": health, "PORT_METRICS-HTTP": metrics,
            "PORT_6122": rpc, "PORT_6121": data, "PORT_8558": health, f"PORT_{metrics}": metrics,
            "HOST": "tm.internal", "MESOS_SANDBOX": task["sandbox"], "ROLE": "taskmanager",
        }, "the app's env (HOST here) overrides Marathon's"
        assert sorted(env["MARATHON_APP_LABELS"].split(" ")) == ["FLINK_CLUSTER_ID", "ROLE"]
        assert Path(task["sandbox"]).is_dir()
        log = d.task_log(task["id"])
        assert f"started {task['id']}\n" in log and "this goes to stderr" in log
    listed = call(d.url, "GET", "/v2/apps?embed=app.tasks&embed=app.counts&embed=app.deployments"
                                "&embed=app.lastTaskFailure").json()["apps"]
    assert [t["id"] for t in listed[0]["tasks"]] == [t["id"] for t in tasks]


def test_host_networking_ports_and_an_app_without_labels(run_tasks):
    d = run_tasks()
    d.add_app(runnable())
    (task,) = started(d, 1)
    env, (port,) = task["env"], task["ports"]
    assert TASK_ID.fullmatch(task["id"]) and env["MESOS_TASK_ID"] == task["id"]
    assert (env["PORT0"], env["PORT"], env["PORTS"]) == (str(port),) * 3
    assert env["PORT_DEFAULT"] == env["PORT_10000"] == str(port), "named, and keyed by the service port"
    assert env["MARATHON_APP_LABELS"] == "" and not [k for k in env if k.startswith("MARATHON_APP_LABEL_")]
    assert "MARATHON_APP_DOCKER_IMAGE" not in env
    assert (env["MARATHON_APP_RESOURCE_CPUS"], env["MARATHON_APP_RESOURCE_MEM"]) == ("0.5", "1024.0")


def test_an_ended_task_is_replaced_a_failure_after_the_launch_delay(run_tasks):
    """Delays: backoffSeconds * backoffFactor^(k-1), capped: 1 s, then 2 s
    (not 3). A status-0 end is no failure and waits for nothing."""
    d = run_tasks()
    d.add_app(runnable(backoffSeconds=1, backoffFactor=3, maxLaunchDelaySeconds=2))
    (first,) = started(d, 1)
    end(first, 0)
    (second,) = started(d, 1, exclude={first["id"]})
    assert "lastTaskFailure" not in get_app(d, RUN_ID), "TASK_FINISHED is not a failure"

    end(second, 3)
    (third,) = started(d, 1, exclude={second["id"]})
    failure = get_app(d, RUN_ID)["lastTaskFailure"]
    assert failure == {"appId": RUN_ID, "host": "agent-1", "message": "Command exited with status 3",
                       "state": "TASK_FAILED", "taskId": second["id"], "timestamp": failure["timestamp"],
                       "version": second["version"], "slaveId": second["slaveId"]}
    assert VERSION.fullmatch(failure["timestamp"])
    assert 0.99 <= seconds_between(failure["timestamp"], third["stagedAt"]) < 1.9
    assert not alive(second["pid"])

    d.kill_task(third["id"], signal.SIGKILL)
    (fourth,) = started(d, 1, exclude={third["id"]})
    failure = get_app(d, RUN_ID)["lastTaskFailure"]
    assert (failure["taskId"], failure["message"], failure["state"]) == (third["id"], "Command killed by signal 9",
                                                                         "TASK_FAILED")
    assert 1.99 <= seconds_between(failure["timestamp"], fourth["stagedAt"]) < 2.9, "capped at 2 s"
    assert len({first["id"], second["id"], third["id"], fourth["id"]}) == 4


def test_a_launch_that_fails_is_a_failed_task():
    d = MarathonDouble(launcher=command_launcher(lambda app: ["/nonexistent/taskmanager"]))
    with d:
        d.add_app(runnable(backoffSeconds=60))
        failure = wait_for(lambda: d.app(RUN_ID).get("lastTaskFailure"), timeout=5, what="the failed launch")
        assert failure["state"] == "TASK_FAILED" and failure["message"].startswith("Failed to launch: ")
        assert TASK_ID.fullmatch(failure["taskId"]) and d.tasks(RUN_ID) == []
        holds(lambda: d.app(RUN_ID)["lastTaskFailure"] == failure, 0.3)  # the 60 s delay holds the next one back


def test_delete_a_task_with_scale(run_tasks):
    d = run_tasks(deploy_seconds=0.5)
    d.add_app(runnable(instances=2))
    a, b = started(d, 2)
    v0 = get_app(d, RUN_ID)["version"]
    reply = call(d.url, "DELETE", f"/v2/apps{RUN_ID}/tasks/{a['id']}?scale=true")
    assert reply.status == 200 and set(reply.json()) == {"deploymentId", "version"}, reply.body
    app = get_app(d, RUN_ID)
    assert app["instances"] == 1 and app["version"] == reply.json()["version"] > v0
    assert app["versionInfo"] == {"lastScalingAt": app["version"], "lastConfigChangeAt": v0}
    assert app["deployments"] == [{"id": reply.json()["deploymentId"]}]
    assert app["tasks"] == [view_of(b)]
    gone(a["pid"])

    locked = call(d.url, "DELETE", f"/v2/apps{RUN_ID}/tasks/{b['id']}?scale=true")
    assert locked.status == 409 and locked.json()["deployments"] == [{"id": reply.json()["deploymentId"]}]
    unknown = call(d.url, "DELETE", f"/v2/apps{RUN_ID}/tasks/{a['id']}?scale=true")
    assert unknown.status == 404 and unknown.json() == {"message": f"Task '{a['id']}' does not exist"}
    assert call(d.url, "DELETE", f"/v2/apps/flink/nope/tasks/{b['id']}").json() == {
        "message": "App '/flink/nope' does not exist"}
    assert call(d.url, "GET", f"/v2/apps{RUN_ID}/tasks/{b['id']}").status == 405
    wait_for(lambda: not get_app(d, RUN_ID)["deployments"], timeout=5, what="the deployment to end")
    holds(lambda: ids(d) == [b["id"]] and alive(b["pid"]), 0.3)

    forced = call(d.url, "DELETE", f"/v2/apps{RUN_ID}/tasks/{b['id']}?scale=true&force=true&wipe=true")
    assert forced.status == 200 and get_app(d, RUN_ID)["instances"] == 0
    gone(b["pid"])
    assert d.tasks(RUN_ID) == [] and d.changes(RUN_ID) == 2
    assert [(r.method, r.status) for r in d.writes(RUN_ID)] == [("DELETE", 200), ("DELETE", 409), ("DELETE", 404),
                                                                ("DELETE", 200)]


def test_delete_a_task_without_scale_replaces_it(run_tasks):
    d = run_tasks()
    d.add_app(runnable())
    (a,) = started(d, 1)
    v0 = get_app(d, RUN_ID)["version"]
    reply = call(d.url, "DELETE", f"/v2/apps{RUN_ID}/tasks/{a['id']}")
    assert reply.status == 200 and reply.json() == {"task": view_of(a)}
    gone(a["pid"])
    (b,) = started(d, 1, exclude={a["id"]})
    app = get_app(d, RUN_ID)
    assert (app["version"], app["instances"], d.changes()) == (v0, 1, 0)
    assert "lastTaskFailure" not in app, "a kill is TASK_KILLED, no failure"


def test_a_kill_escalates_to_sigkill_after_the_grace_period(run_tasks):
    d = run_tasks()
    d.add_app(runnable(env={"IGNORE_TERM": "1"}, taskKillGracePeriodSeconds=1))
    (a,) = started(d, 1)
    asked = time.monotonic()
    assert call(d.url, "DELETE", f"/v2/apps{RUN_ID}/tasks/{a['id']}").status == 200
    assert time.monotonic() - asked < 0.5, "the grace period is not waited out on the request"
    assert alive(a["pid"]), "SIGTERM is ignored"
    assert ids(d) == [], "a killed task is no longer listed"
    holds(lambda: ids(d) == [], 0.3)  # its replacement waits for it to end
    gone(a["pid"])
    assert time.monotonic() - asked >= 0.9
    started(d, 1, exclude={a["id"]})


@pytest.mark.parametrize("selection", [None, "YOUNGEST_FIRST", "OLDEST_FIRST"])
def test_scaling_down_kills_per_kill_selection(run_tasks, selection):
    d = run_tasks()
    d.add_app(runnable(instances=3, **({"killSelection": selection} if selection else {})))
    tasks = started(d, 3)
    assert [t["stagedAt"] for t in tasks] == sorted(t["stagedAt"] for t in tasks), "oldest first"
    assert put(d, {"instances": 1}, app_id=RUN_ID, method="PATCH").status == 200
    keep, *killed = tasks if selection != "OLDEST_FIRST" else tasks[::-1]
    wait_for(lambda: ids(d) == [keep["id"]], timeout=5, what="the reconciler to scale down")
    for task in killed:
        gone(task["pid"])
    assert alive(keep["pid"])
    assert put(d, {"instances": 2}, app_id=RUN_ID).status == 200
    assert keep["id"] in [t["id"] for t in started(d, 2)]


def test_a_config_change_replaces_every_task(run_tasks):
    d = run_tasks()
    d.add_app(runnable(instances=2, env={"GENERATION": "1"}))
    old = started(d, 2)
    noop = put(d, {"env": {"GENERATION": "1"}}, app_id=RUN_ID)
    assert noop.status == 200 and ids(d) == [t["id"] for t in old], "a no-op write restarts nothing"
    v1 = put(d, {"env": {"GENERATION": "2"}}, app_id=RUN_ID, method="PATCH").json()["version"]
    new = started(d, 2, exclude={t["id"] for t in old})
    for task in old:
        gone(task["pid"])
    assert [(t["env"]["GENERATION"], t["env"]["MARATHON_APP_VERSION"], t["version"]) for t in new] == [
        ("2", v1, v1)] * 2
    assert get_app(d, RUN_ID)["versionInfo"]["lastConfigChangeAt"] == v1


def test_delete_an_app_kills_its_tasks_and_post_starts_them(run_tasks):
    d = run_tasks()
    d.add_app(runnable(instances=2))
    tasks = started(d, 2)
    reply = call(d.url, "DELETE", f"/v2/apps{RUN_ID}")
    assert reply.status == 200 and set(reply.json()) == {"deploymentId", "version"}
    assert call(d.url, "GET", f"/v2/apps{RUN_ID}").status == 404
    for task in tasks:
        gone(task["pid"])
    assert call(d.url, "DELETE", f"/v2/apps{RUN_ID}").status == 404
    assert d.changes(RUN_ID) == 1 and [r.status for r in d.writes(RUN_ID)] == [200, 404]

    created = call(d.url, "POST", "/v2/apps", runnable(instances=1))
    assert created.status == 201, created.body
    (task,) = started(d, 1)
    assert task["env"]["MARATHON_APP_VERSION"] == created.json()["version"]


def test_stop_leaves_tasks_running_and_start_serves_them_again(run_tasks):
    d = run_tasks()
    d.add_app(runnable(instances=2))
    a, b = started(d, 2)
    url = d.url
    d.stop()
    with pytest.raises(OSError):
        call(url, "GET", "/ping")
    d.kill_task(a["id"], signal.SIGKILL)  # a crash while Marathon is away
    gone(a["pid"])
    wait_for(lambda: ids(d) == [b["id"]], timeout=5, what="the agent to reap the crashed task")
    holds(lambda: ids(d) == [b["id"]], 0.4)  # no Marathon, no replacement
    assert alive(b["pid"])
    d.start()
    app = get_app(d, RUN_ID)
    assert app["lastTaskFailure"]["taskId"] == a["id"]
    tasks = started(d, 2, exclude={a["id"]})
    assert tasks[0]["id"] == b["id"] and tasks[0]["pid"] == b["pid"]


def test_shutdown_ends_every_process_thread_and_sandbox(run_tasks):
    d = run_tasks()
    d.add_app(runnable(instances=2, env={"IGNORE_TERM": "1", "GRANDCHILD": "1"}, taskKillGracePeriodSeconds=60))
    tasks = started(d, 2)
    assert put(d, {"instances": 1}, app_id=RUN_ID).status == 200  # one task is being killed, slowly
    pids = [t["pid"] for t in tasks] + [int(t["env"]["CHILD_PID"]) for t in tasks]
    assert all(alive(pid) for pid in pids)
    root = Path(tasks[0]["sandbox"]).parent
    asked = time.monotonic()
    d.shutdown()
    assert time.monotonic() - asked < 5
    for pid in pids:
        gone(pid)
        try:
            os.waitpid(pid, os.WNOHANG)  # an orphaned grandchild came to this (subreaper) process
        except ChildProcessError:
            pass
    assert not root.exists()
    assert not [t for t in threading.enumerate() if t.name.startswith(f"marathon-double-{d.port}")]
    with pytest.raises(KeyError):
        d.task_log(tasks[0]["id"])
    d.shutdown()
