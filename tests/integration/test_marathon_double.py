"""The Marathon test double checked against ../shared/MARATHON.md, so that the
supervisor's Marathon client, tested against the double, is tested against
Marathon's documented behaviour: defaults, partial updates, no-op writes,
deployment locks, validation, authentication and the failure injections."""
import base64
import http.client
import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, free_port, wait_for
from marathon_double import READ_ONLY, InvalidApp, MarathonDouble

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
