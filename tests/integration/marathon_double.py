"""A Marathon REST API test double (Python standard library only).

Marathon and Mesos cannot run here, so the supervisor's Marathon client is
tested against this server. It implements the `/v2` semantics written down in
../shared/MARATHON.md and nothing beyond them: definitions come back with
Marathon's defaults filled in, partial updates replace the fields they send,
a write that changes nothing bumps no version and starts no deployment, writes
to an app under deployment get 409, and bodies Marathon would refuse get 422
with `details` saying where. It is deliberately strict, so that a client that
passes here does not depend on leniency a real Marathon lacks.

Tests drive it through MarathonDouble: `requests` records every request with
the status it got, `writes()`/`changes()` count writes and real changes, and
`fail_next`, `redirect_to`, `lock` and a changeable `token` inject the
failures a client must survive.

Given a `launcher`, it also runs the apps' tasks as real processes on this
machine, the way Marathon has Mesos launch them: each with the environment of
MARATHON.md and a sandbox of its own, as many as `instances`, a crashed one
replaced after the app's launch delay (and named in `lastTaskFailure`), the
youngest (or oldest) killed on a scale-down, all replaced on a config change,
DELETE /v2/apps/{id}/tasks/{taskId} honoured. So an Application Master that
scales a TaskManager app through the REST API can be tested end to end.
Without a launcher nothing runs and every app shows `"tasks": []`.

By hand: python3 marathon_double.py --port 8080 --app conf/marathon/jobmanager.json
"""
import argparse
import base64
import copy
import email.message
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import oracle

MARATHON_VERSION = "1.11.24"
MAX_BODY = 1 << 20  # bytes; larger bodies get 413
SOCKET_TIMEOUT = 10.0  # seconds; a stalled client never holds a handler thread for long
WRITE_METHODS = ("PUT", "PATCH", "POST", "DELETE")
TICK = 0.1  # seconds between the reconciler's passes over the apps
BACKOFF_RESET = 10.0  # seconds a task must live for its app's count of consecutive failures to reset
DEFAULT_KILL_GRACE = 3  # Marathon's taskKillGracePeriodSeconds when the app sets none
SHUTDOWN_GRACE = 1.0  # seconds shutdown() gives each task between SIGTERM and SIGKILL

# ---------------------------------------------------------------------------
# Validation: a validator is f(value, path, errors) and appends (path, message)
# pairs; paths are spelled the way Marathon spells them: /healthChecks(0)/portIndex.
# ---------------------------------------------------------------------------


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _bounded(kind, test, lo, hi):
    def check(v, path, errors):
        if not test(v):
            errors.append((path, f"expected {kind}"))
        elif v < lo or (hi is not None and v > hi):
            errors.append((path, f"must be >= {lo}" if hi is None else f"must be between {lo} and {hi}"))
    return check


def _integer(lo=0, hi=None):
    return _bounded("an integer", _is_int, lo, hi)


def _number(lo=0, hi=None):
    return _bounded("a number", _is_number, lo, hi)


def _string(pattern=None, meaning=None):
    def check(v, path, errors):
        if not isinstance(v, str):
            errors.append((path, "expected a string"))
        elif pattern and not re.fullmatch(pattern, v):
            errors.append((path, f"must be {meaning}"))
    return check


def _enum(*choices):
    def check(v, path, errors):
        if v not in choices or not isinstance(v, str):
            errors.append((path, "must be one of " + ", ".join(choices)))
    return check


def _boolean(v, path, errors):
    if not isinstance(v, bool):
        errors.append((path, "expected a boolean"))


def _any_object(v, path, errors):
    if not isinstance(v, dict):
        errors.append((path, "expected an object"))


def _read_only(v, path, errors):
    errors.append((path, "is read-only: Marathon sets it, a definition must not carry it"))


def _array(item):
    def check(v, path, errors):
        if not isinstance(v, list):
            errors.append((path, "expected an array"))
            return
        for i, element in enumerate(v):
            item(element, f"{path}({i})", errors)
    return check


def _mapping(value):
    def check(v, path, errors):
        if not isinstance(v, dict):
            errors.append((path, "expected an object"))
            return
        for key, element in v.items():
            value(element, f"{path}/{key}", errors)
    return check


def _object(fields, required=()):
    """A JSON object with exactly these known fields: an unknown one is an error,
    as Marathon's strict RAML reader makes it."""
    def check(v, path, errors):
        if not isinstance(v, dict):
            errors.append((path, "expected an object"))
            return
        for key in required:
            if key not in v:
                errors.append((f"{path}/{key}", "is required"))
        for key, element in v.items():
            if key in fields:
                fields[key](element, f"{path}/{key}", errors)
            else:
                errors.append((f"{path}/{key}", "unknown field"))
    return check


ID_SEGMENT = r"(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])"
APP_ID = rf"/?{ID_SEGMENT}(/{ID_SEGMENT})*"
PORT_NAME = r"[a-z0-9-]+"
HC_PROTOCOLS = ("HTTP", "HTTPS", "TCP", "COMMAND", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP")
PORT_PROTOCOLS = ("tcp", "udp", "udp,tcp", "tcp,udp")
READ_ONLY = ("tasks", "deployments", "tasksRunning", "tasksStaged", "tasksHealthy", "tasksUnhealthy", "versionInfo",
             "lastTaskFailure", "readinessCheckResults", "taskStats")


def _env_value(v, path, errors):
    if not isinstance(v, str):
        _object({"secret": _string()}, required=("secret",))(v, path, errors)


def _constraint(v, path, errors):
    if not (isinstance(v, list) and 2 <= len(v) <= 3 and all(isinstance(x, str) for x in v)):
        errors.append((path, "expected [field, operator] or [field, operator, value], all strings"))


def _unreachable(v, path, errors):
    if v != "disabled":
        _object({"inactiveAfterSeconds": _integer(), "expungeAfterSeconds": _integer()})(v, path, errors)


_LABELS = _mapping(_string())
_PORT = _integer(0, 65535)
_PORT_MAPPING = _object({
    "containerPort": _PORT, "hostPort": _PORT, "servicePort": _PORT, "protocol": _enum(*PORT_PROTOCOLS),
    "name": _string(PORT_NAME, "lower-case letters, digits and dashes"), "labels": _LABELS,
    "networkNames": _array(_string())})
_PORT_DEFINITION = _object({
    "port": _PORT, "protocol": _enum(*PORT_PROTOCOLS),
    "name": _string(PORT_NAME, "lower-case letters, digits and dashes"), "labels": _LABELS}, required=("port",))
_DOCKER = _object({
    "image": _string(), "forcePullImage": _boolean, "privileged": _boolean,
    "parameters": _array(_object({"key": _string(), "value": _string()}, required=("key", "value"))),
    "pullConfig": _any_object, "credential": _any_object}, required=("image",))
_CONTAINER = _object({
    "type": _enum("DOCKER", "MESOS"), "docker": _DOCKER, "portMappings": _array(_PORT_MAPPING),
    "volumes": _array(_any_object), "linuxInfo": _any_object})
_HEALTH_CHECK = _object({
    "protocol": _enum(*HC_PROTOCOLS), "path": _string(), "portIndex": _integer(), "port": _PORT,
    "gracePeriodSeconds": _integer(), "intervalSeconds": _integer(), "timeoutSeconds": _integer(),
    "maxConsecutiveFailures": _integer(), "delaySeconds": _integer(), "ignoreHttp1xx": _boolean,
    "ipProtocol": _enum("IPv4", "IPv6"), "command": _object({"value": _string()}, required=("value",))})
_READINESS_CHECK = _object({
    "name": _string(), "protocol": _enum("HTTP", "HTTPS"), "path": _string(), "portName": _string(),
    "intervalSeconds": _integer(), "timeoutSeconds": _integer(),
    "httpStatusCodesForReady": _array(_integer(100, 999)), "preserveLastResponse": _boolean}, required=("portName",))
APP_FIELDS = {
    "id": _string(APP_ID, "a path of lower-case names such as /flink/taskmanager"),
    "cmd": _string(), "args": _array(_string()), "user": _string(), "env": _mapping(_env_value),
    "instances": _integer(), "cpus": _number(), "mem": _number(), "disk": _number(), "gpus": _integer(),
    "executor": _string(), "constraints": _array(_constraint),
    "fetch": _array(_object({"uri": _string(), "extract": _boolean, "executable": _boolean, "cache": _boolean,
                             "destPath": _string()}, required=("uri",))),
    "portDefinitions": _array(_PORT_DEFINITION), "requirePorts": _boolean,
    "backoffSeconds": _integer(), "backoffFactor": _number(1), "maxLaunchDelaySeconds": _integer(),
    "container": _CONTAINER, "healthChecks": _array(_HEALTH_CHECK), "readinessChecks": _array(_READINESS_CHECK),
    "dependencies": _array(_string()),
    "upgradeStrategy": _object({"minimumHealthCapacity": _number(0, 1), "maximumOverCapacity": _number(0, 1)}),
    "labels": _LABELS, "acceptedResourceRoles": _array(_string()), "residency": _any_object,
    "secrets": _any_object, "taskKillGracePeriodSeconds": _integer(),
    "killSelection": _enum("YOUNGEST_FIRST", "OLDEST_FIRST"), "unreachableStrategy": _unreachable,
    "networks": _array(_object({"mode": _enum("host", "container/bridge", "container"), "name": _string(),
                                "labels": _LABELS})),
    "tty": _boolean, "role": _string(), "executorResources": _any_object, "check": _any_object,
    "version": _string(),
    **{field: _read_only for field in READ_ONLY},
}


def _structure_errors(body, new_app):
    """Unknown fields, wrong types, read-only fields, and `version` mixed with
    other fields. new_app: the body is a whole new definition (POST, add_app),
    which needs an id and cannot be a rollback."""
    errors = []
    _object(APP_FIELDS, required=("id",) if new_app else ())(body, "", errors)
    if "version" in body and new_app:
        errors.append(("/version", "a new app cannot name a version; `version` alone in a PUT is a rollback"))
    elif "version" in body and set(body) - {"version", "id"}:
        errors.append(("/", "The 'version' field may only be combined with the 'id' field."))
    return errors


def _ports(app):
    """The app's ports in Marathon's order: container.portMappings when
    non-empty, else portDefinitions (MARATHON.md, PORT0..PORTn)."""
    return app.get("container", {}).get("portMappings") or app["portDefinitions"]


def _semantic_errors(app):
    """Rules that need the whole resulting (normalised) app: a partial update
    may break a check it did not send, e.g. by shrinking portMappings."""
    errors = []
    ports = _ports(app)
    names = [p["name"] for p in ports if "name" in p]
    if len(set(names)) != len(names):
        where = "/container/portMappings" if app.get("container", {}).get("portMappings") else "/portDefinitions"
        errors.append((where, "port names must be unique"))
    for i, check in enumerate(app["healthChecks"]):
        at = f"/healthChecks({i})"
        command = check["protocol"] == "COMMAND"
        if "port" in check and "portIndex" in check:
            errors.append((at, "send port or portIndex, not both"))
        elif not command and "portIndex" in check and check["portIndex"] >= len(ports):
            errors.append((f"{at}/portIndex", f"must address an element of container.portMappings (else "
                           f"portDefinitions); the app has {len(ports)} port(s)"))
        if command and "command" not in check:
            errors.append((f"{at}/command", "is required for COMMAND checks"))
        elif not command and "command" in check:
            errors.append((f"{at}/command", "is only for COMMAND checks"))
    if sum(c["protocol"].startswith("MESOS_") for c in app["healthChecks"]) > 1:
        errors.append(("/healthChecks", "at most one MESOS_* health check per app"))
    if len(app["readinessChecks"]) > 1:
        errors.append(("/readinessChecks", "at most one readiness check per app"))
    for i, check in enumerate(app["readinessChecks"]):
        at = f"/readinessChecks({i})"
        if check["portName"] not in names:
            errors.append((f"{at}/portName", f"must name a port of the app (one of {names})"))
        if not 0 < check["timeoutSeconds"] < check["intervalSeconds"]:
            errors.append((f"{at}/timeoutSeconds", "must be > 0 and < intervalSeconds"))
    return errors


def _details(errors):
    """Marathon's `details`: one entry per path, its messages in order."""
    grouped = {}
    for path, message in errors:
        grouped.setdefault(path or "/", []).append(message)
    return [{"path": path, "errors": messages} for path, messages in grouped.items()]


class InvalidApp(ValueError):
    """add_app() got a definition Marathon would reject; .details as in a 422."""

    def __init__(self, errors):
        self.details = _details(errors)
        super().__init__(f"invalid app definition: {self.details}")


# ---------------------------------------------------------------------------
# Normalisation: the definition as GET returns it, every default filled in.
# Comparing normalised definitions is how a no-op write is recognised.
# ---------------------------------------------------------------------------

APP_DEFAULTS = {
    "instances": 1, "cpus": 1, "mem": 128, "disk": 0, "gpus": 0, "executor": "", "env": {}, "labels": {},
    "constraints": [], "fetch": [], "dependencies": [], "healthChecks": [], "readinessChecks": [],
    "backoffSeconds": 1, "backoffFactor": 1.15, "maxLaunchDelaySeconds": 300, "requirePorts": False,
    "killSelection": "YOUNGEST_FIRST", "networks": [{"mode": "host"}], "secrets": {}, "role": "*",
    "unreachableStrategy": {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0},
}
UPGRADE_DEFAULTS = {"minimumHealthCapacity": 1, "maximumOverCapacity": 1}
READINESS_DEFAULTS = {"name": "readinessCheck", "protocol": "HTTP", "path": "/", "intervalSeconds": 30,
                      "timeoutSeconds": 10, "httpStatusCodesForReady": [200], "preserveLastResponse": False}
# Marathon's service port for an app that names no ports: one port, 10000 from its pool.
DEFAULT_PORT_DEFINITIONS = [{"port": 10000, "protocol": "tcp", "name": "default", "labels": {}}]


def _absolute(app_id):
    """Marathon's PathId: a leading slash, no empty segments."""
    return "/" + "/".join(segment for segment in app_id.split("/") if segment)


def _health_check_defaults(check):
    """MARATHON.md's defaults; each only for the protocols it applies to.
    ipProtocol goes on every check that connects to a port (all but COMMAND)."""
    protocol = check.get("protocol", "HTTP")
    out = {"protocol": protocol, "gracePeriodSeconds": 300, "intervalSeconds": 60, "timeoutSeconds": 20,
           "maxConsecutiveFailures": 3}
    if protocol in ("HTTP", "HTTPS", "MESOS_HTTP", "MESOS_HTTPS"):
        out["path"] = "/"
    if protocol in ("HTTP", "HTTPS"):
        out["ignoreHttp1xx"] = False
    if protocol == "COMMAND" or protocol.startswith("MESOS_"):
        out["delaySeconds"] = 15
    if protocol != "COMMAND":
        out["ipProtocol"] = "IPv4"
        if "port" not in check and "portIndex" not in check:
            out["portIndex"] = 0
    out.update(check)
    return out


def _normalise(definition):
    """A structurally valid definition with every default filled in.
    Idempotent, so normalise(current + sent fields) compares with current."""
    app = copy.deepcopy(definition)
    app["id"] = _absolute(app["id"])
    for key, value in APP_DEFAULTS.items():
        app.setdefault(key, copy.deepcopy(value))
    app["upgradeStrategy"] = {**UPGRADE_DEFAULTS, **app.get("upgradeStrategy", {})}
    bridge = any(n.get("mode") == "container/bridge" for n in app["networks"])
    if "container" in app:
        container = {"type": "DOCKER", "volumes": [], "portMappings": [], **app["container"]}
        if "docker" in container:
            container["docker"] = {"forcePullImage": False, "privileged": False, "parameters": [],
                                   **container["docker"]}
        container["portMappings"] = [
            {"containerPort": 0, **({"hostPort": 0} if bridge else {}), "servicePort": 0, "protocol": "tcp",
             "labels": {}, **m} for m in container["portMappings"]]
        app["container"] = container
    if "portDefinitions" not in app:
        mapped = app.get("container", {}).get("portMappings")
        app["portDefinitions"] = [] if mapped else copy.deepcopy(DEFAULT_PORT_DEFINITIONS)
    app["portDefinitions"] = [{"protocol": "tcp", "labels": {}, **p} for p in app["portDefinitions"]]
    app["healthChecks"] = [_health_check_defaults(c) for c in app["healthChecks"]]
    app["fetch"] = [{"extract": True, "executable": False, "cache": False, **f} for f in app["fetch"]]
    app["readinessChecks"] = [{**READINESS_DEFAULTS, **c} for c in app["readinessChecks"]]
    return app


# ---------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------


@dataclass
class Request:
    """One request as the double saw it, with the status it answered.
    headers is an email.message.Message: lookups ignore case."""
    method: str
    path: str
    query: dict
    headers: email.message.Message
    body: bytes = b""
    status: int = 0
    app_id: "str | None" = None
    at: float = field(default_factory=time.time)  # when it came (the benchmarks time decisions by it)

    def json(self):
        return json.loads(self.body)

    @property
    def forced(self):
        return self.query.get("force") == "true"


class _App:
    """An app: its normalised definition, version history and deployment;
    with a launcher also its live tasks (oldest first) and the launch delay
    that its consecutive failures built up."""

    def __init__(self, definition, version):
        self.definition = definition
        self.version = version
        self.last_scaling = self.last_config = version
        self.history = {version: copy.deepcopy(definition)}
        self.changes = 0
        self.deployment_id = None
        self.locked_until = 0.0
        self.tasks = {}  # task id -> _Task, in launch order
        self.failures = 0  # consecutive task failures, for the launch delay
        self.launch_at = 0.0  # time.monotonic() before which no task is launched
        self.last_failure = None  # lastTaskFailure, once there was one

    def deployment(self):
        """The id of the deployment holding the app, or None once it expired."""
        return self.deployment_id if time.monotonic() < self.locked_until else None

    def lock(self, seconds):
        self.deployment_id = str(uuid.uuid4())
        self.locked_until = time.monotonic() + seconds
        return self.deployment_id


class _Task:
    """A launched task: its process, its host ports and what GET shows of it.
    Once the double kills it (a DELETE, a scale-down, an upgrade) it leaves
    its app for the double's dying list, so its end is TASK_KILLED, never a
    failure; kill_at: when SIGKILL follows that kill's SIGTERM."""

    def __init__(self, task_id, app, host, agent_id, ports, process, sandbox):
        self.id = task_id
        self.app_id = app.definition["id"]
        self.version = app.version
        self.host, self.agent_id, self.ports = host, agent_id, ports
        self.process, self.sandbox = process, sandbox
        self.staged_at = self.started_at = _timestamp()
        self.born = time.monotonic()
        self.kill_at = None
        self.sigkilled = False
        self.finished = False
        try:
            self.own_group = os.getpgid(process.pid) == process.pid
        except ProcessLookupError:
            self.own_group = False

    def view(self):
        """The task as GET /v2/apps/{id} lists it. The double runs no health
        checks, so there are no healthCheckResults."""
        return {"id": self.id, "appId": self.app_id, "host": self.host, "ports": list(self.ports),
                "state": "TASK_RUNNING", "stagedAt": self.staged_at, "startedAt": self.started_at,
                "version": self.version, "slaveId": self.agent_id}

    def signal(self, signo):
        """To its whole process group, as Mesos destroys a container with all
        the task started; to the process alone if the launcher gave it no group
        of its own. Never after finish(): the group id may be reused by then."""
        if self.finished:
            return
        try:
            if self.own_group:
                os.killpg(self.process.pid, signo)
            elif self.process.poll() is None:
                self.process.send_signal(signo)
        except (ProcessLookupError, PermissionError):
            pass

    def finish(self):
        """The task's process has ended (and was reaped): what it left in its
        group goes with it, as the agent destroys the container."""
        self.signal(signal.SIGKILL)
        self.finished = True


def _timestamp():
    """Now, ISO-8601 UTC with milliseconds, as Marathon writes times."""
    return _iso(time.time_ns() // 1_000_000)


def _iso(ms):
    seconds, millis = divmod(ms, 1000)
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def _task_id(app_id):
    """Marathon's task id: the app path without its leading slash, slashes
    made `_`, then the instance: flink_taskmanager.instance-<uuid>._app.1."""
    return f"{app_id.lstrip('/').replace('/', '_')}.instance-{uuid.uuid4()}._app.1"


def _free_port(taken):
    """A port the kernel calls free now, not in `taken` (which gets it): no
    two ports of one task, nor of two live tasks, are the same."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in taken:
            taken.add(port)
            return port
    raise RuntimeError("no free port in 100 tries")


def _port_env(app, free):
    """(PORT0..n, PORT, PORTS, PORT_<n>, PORT_<NAME>; the task's host ports),
    as Marathon's EnvironmentHelper.portsEnv makes them. Each port of
    container.portMappings (else portDefinitions) gets its fixed host port or,
    when that is 0, a free one; a mapping with no hostPort at all (container
    networking) gets none, and PORTi is then its container port. PORT_<n> is
    keyed by the requested port (container port, else service port), by the
    host port when that is 0. The name is only upper-cased, as Marathon does:
    a `-` in it stays."""
    mappings = app.get("container", {}).get("portMappings")
    if mappings:
        requests = [(m.get("name"), m["containerPort"], m.get("hostPort")) for m in mappings]
    else:
        requests = [(p.get("name"), p["port"], p["port"] if app["requirePorts"] else 0)
                    for p in app["portDefinitions"]]
    env, host_ports = {}, []
    for i, (name, requested, host_port) in enumerate(requests):
        if host_port is None:
            port = requested or free()  # no host port: the container port, a random one for 0
        else:
            port = host_port or free()
            host_ports.append(port)
        env[f"PORT{i}"] = str(port)
        env[f"PORT_{requested or port}"] = str(port)
        if name:
            env[f"PORT_{name.upper()}"] = str(port)
    if requests:
        ports = [env[f"PORT{i}"] for i in range(len(requests))]
        env["PORT"], env["PORTS"] = ports[0], ",".join(ports)
    return env, host_ports


def _label_key(key):
    """MARATHON_APP_LABEL_<KEY>: runs of other characters than letters,
    digits and `_` become one `_`, upper-cased (EnvironmentHelper.escape)."""
    return re.sub(r"[^a-zA-Z0-9_]+", "_", key).upper()


def _task_env(app, version, task_id, host, sandbox, port_env):
    """The task's whole environment, MARATHON.md's table; the app's own env
    (its string values: secrets need Marathon's secrets feature) overrides it."""
    env = {"MESOS_TASK_ID": task_id, "MARATHON_APP_ID": app["id"], "MARATHON_APP_VERSION": version}
    container = app.get("container", {})
    if container.get("type") == "DOCKER" and container.get("docker", {}).get("image"):
        env["MARATHON_APP_DOCKER_IMAGE"] = container["docker"]["image"]
    for resource in ("cpus", "mem", "disk", "gpus"):
        env[f"MARATHON_APP_RESOURCE_{resource.upper()}"] = str(float(app[resource]))
    labels = {_label_key(key): value for key, value in app["labels"].items()}
    env["MARATHON_APP_LABELS"] = " ".join(labels)
    env.update({f"MARATHON_APP_LABEL_{key}": value for key, value in labels.items()})
    env.update(port_env)
    env["HOST"] = host
    env["MESOS_SANDBOX"] = str(sandbox)
    env.update({key: value for key, value in app["env"].items() if isinstance(value, str)})
    return env


def _exit_message(status):
    """Popen's returncode as the command executor words a task's end."""
    return f"Command exited with status {status}" if status >= 0 else f"Command killed by signal {-status}"


def _launch_delay(app, failures):
    """backoffSeconds * backoffFactor^(failures-1), capped by maxLaunchDelaySeconds
    (multiplied up step by step: a large factor must not overflow)."""
    delay, cap = float(app["backoffSeconds"]), app["maxLaunchDelaySeconds"]
    for _ in range(failures - 1):
        if delay >= cap:
            break
        delay *= app["backoffFactor"]
    return min(delay, cap)


def _fetch(uris, sandbox):
    """The Mesos fetcher's part for file:// and http(s):// URIs: each into
    the sandbox under its base name (or destPath). OSError when one fails."""
    for entry in uris:
        url = urlsplit(entry["uri"])
        target = sandbox / (entry.get("destPath") or Path(url.path).name)
        if url.scheme == "file":
            shutil.copyfile(unquote(url.path), target)
        elif url.scheme in ("http", "https"):
            with urllib.request.urlopen(entry["uri"], timeout=30) as r, open(target, "wb") as out:
                shutil.copyfileobj(r, out)
        else:
            raise OSError(f"{entry['uri']}: no fetcher plugin for scheme '{url.scheme}'")
        if entry.get("executable"):
            target.chmod(0o755)


def command_launcher(build_argv, extra_env=None):
    """A launcher that runs build_argv(app) (a list: the argv) in the task's
    sandbox as the command executor would: with exactly the task's
    environment (extra_env, e.g. PATH, overriding it), stdin from /dev/null,
    stdout and stderr into sandbox/stdout and sandbox/stderr, in a session
    (so a process group) of its own."""
    def launch(app, task_id, env, sandbox):
        argv = [str(arg) for arg in build_argv(app)]
        with open(sandbox / "stdout", "wb") as out, open(sandbox / "stderr", "wb") as err:
            return subprocess.Popen(argv, env={**env, **(extra_env or {})}, cwd=sandbox, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=err, start_new_session=True, close_fds=True)
    return launch


def _reply(status, payload=None, headers=None):
    return status, payload, headers or {}


def _with_oracle(text, partial, own):
    """Marathon's own rules (the oracle) and what this double models
    itself: a body either rejects is rejected, with the details of both."""
    errors = oracle.errors(text, partial)
    return errors + [e for e in own if e not in errors]


def _invalid(errors):
    return _reply(422, {"message": "Object is not valid", "details": _details(errors)})


def _no_app(app_id):
    return _reply(404, {"message": f"App '{app_id}' does not exist"})


def _reject_constant(name):
    """json.loads accepts NaN and Infinity; Marathon's JSON reader does not."""
    raise ValueError(f"{name} is not JSON")


def _parse_body(record):
    """(object, None) or (None, error reply): 415 without a JSON content type,
    400 unless the body is one JSON object."""
    media_type = record.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if record.body and media_type != "application/json":
        return None, _reply(415, {"message": f"Unsupported Media Type {media_type or '(none)'}: "
                                             "send Content-Type: application/json"})
    try:
        body = json.loads(record.body, parse_constant=_reject_constant)
    except ValueError as e:
        return None, _reply(400, {"message": "Invalid JSON", "details": [{"path": "/", "errors": [str(e)]}]})
    if not isinstance(body, dict):
        return None, _reply(400, {"message": "Invalid JSON",
                                  "details": [{"path": "/", "errors": ["expected a JSON object"]}]})
    return body, None


class MarathonDouble:
    """A Marathon leader on 127.0.0.1 serving the `/v2` API of MARATHON.md.

    credentials: (user, password) for HTTP basic auth on every path.
    token: a DC/OS token expected as `Authorization: token=<token>`; may be
    changed later (expiry, rotation). With neither, every request is let in.
    deploy_seconds: how long each changing write keeps the app in a deployment
    (GET shows it; writes meanwhile get 409 unless ?force=true).
    port: 0 picks a free port; the same port is kept across stop()/start().
    launcher: f(app, task_id, env, sandbox) -> a subprocess.Popen-like object
    (pid, poll(), send_signal(), kill(), wait(timeout)), started in a session
    of its own (the double signals its whole process group); see
    command_launcher(). With one, start() also starts the reconciler that
    runs the apps' tasks; without one nothing runs.
    host: the agent's hostname the tasks get as HOST (and GET shows).
    """

    def __init__(self, credentials=None, token=None, deploy_seconds=0.0, port=0, launcher=None, host="127.0.0.1"):
        self.credentials = tuple(credentials) if credentials else None
        self.token = token
        self.deploy_seconds = deploy_seconds
        self.port = port
        self.url = f"http://127.0.0.1:{port}" if port else None
        self.verbose = False
        self.framework_id = f"{uuid.uuid4()}-0000"
        self.launcher = launcher
        self.host = host
        self.agent_id = f"{uuid.uuid4()}-S0"
        self._lock = threading.RLock()
        self._apps = {}
        self._requests = []
        self._failures = []
        self._redirect = None
        self._last_version_ms = 0
        self._server = None
        self._thread = None
        self._dying = []  # tasks killed by the double, until their process ended
        self._groups = set()  # groups POSTed, until DELETEd
        self._deleted_changes = {}  # app id -> changes of apps DELETEd since (a DELETE counts as one)
        self._sandbox_root = None
        self._sandboxes = {}  # task id -> sandbox, also of tasks that ended, until shutdown()
        self._reconciler = None
        self._halt = None

    # -- lifecycle ----------------------------------------------------------

    def start(self):
        if self._server:
            raise RuntimeError("already started")
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.double = self
        self.port = server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"marathon-double-{self.port}", daemon=True)
        self._thread.start()
        if self.launcher and self._reconciler is None:
            self._halt = threading.Event()
            self._reconciler = threading.Thread(target=self._reconcile_forever, args=(self._halt,),
                                                name=f"marathon-double-{self.port}-reconciler", daemon=True)
            self._reconciler.start()
        return self

    def stop(self):
        """Stops serving and drops open connections, the way a Marathon that
        went away would; the apps stay, so start() again resumes. Tasks keep
        running, as on a cluster whose Marathon is gone: the agent's part goes
        on (an ended task is reaped, a kill escalates to SIGKILL), Marathon's
        waits (no launch, no scale-down) until start()."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.drop_connections()
        server.server_close()
        self._thread.join(SOCKET_TIMEOUT)

    def shutdown(self):
        """stop(), and everything the double started ends: the reconciler, then
        every task (SIGTERM to its process group, SIGKILL after SHUTDOWN_GRACE),
        and the sandboxes are removed. Bounded in time; idempotent."""
        self.stop()
        halt, reconciler = self._halt, self._reconciler
        self._halt = self._reconciler = None
        if reconciler:
            halt.set()
            reconciler.join(SOCKET_TIMEOUT)
        with self._lock:
            tasks = [t for app in self._apps.values() for t in app.tasks.values()] + self._dying
            for app in self._apps.values():
                app.tasks.clear()
            self._dying = []
            root, self._sandbox_root = self._sandbox_root, None
            self._sandboxes.clear()
        running = [t for t in tasks if t.process.poll() is None]
        for task in running:
            task.signal(signal.SIGTERM)
        deadline = time.monotonic() + SHUTDOWN_GRACE
        while any(t.process.poll() is None for t in running) and time.monotonic() < deadline:
            time.sleep(0.01)
        for task in tasks:
            task.signal(signal.SIGKILL)
            try:
                task.process.wait(SOCKET_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
            task.finish()
        if root:
            shutil.rmtree(root, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.shutdown()

    # -- set-up and inspection for tests --------------------------------------

    def add_app(self, definition):
        """Stores an app as if POSTed (validated, defaults filled in), without
        a deployment and without counting as a change. Returns app(id)."""
        definition = dict(definition)
        errors = _with_oracle(json.dumps(definition), False, _structure_errors(definition, new_app=True))
        if not errors:
            definition = _normalise(definition)
            errors = _semantic_errors(definition)
        if errors:
            raise InvalidApp(errors)
        with self._lock:
            replaced = self._apps.get(definition["id"])
            for task in list(replaced.tasks.values()) if replaced else ():
                self._kill(replaced, task)
            self._apps[definition["id"]] = _App(definition, self._next_version())
        return self.app(definition["id"])

    def app(self, app_id):
        """The app as GET /v2/apps/{id} returns it inside {"app": ...}."""
        with self._lock:
            return self._view(self._apps[_absolute(app_id)])

    @property
    def requests(self):
        with self._lock:
            return list(self._requests)

    def writes(self, app_id=None):
        """The PUT/PATCH/POST/DELETE requests (for app_id), whatever they answered."""
        wanted = _absolute(app_id) if app_id else None
        return [r for r in self.requests if r.method in WRITE_METHODS and wanted in (None, r.app_id)]

    def changes(self, app_id=None):
        """How many writes changed a definition (bumped its version, or
        deleted the app)."""
        wanted = _absolute(app_id) if app_id else None
        with self._lock:
            return (sum(a.changes for i, a in self._apps.items() if wanted in (None, i))
                    + sum(n for i, n in self._deleted_changes.items() if wanted in (None, i)))

    def tasks(self, app_id):
        """The app's live tasks, oldest first, as GET lists them, plus the
        process's "pid" and the "sandbox" directory."""
        with self._lock:
            return [{**t.view(), "pid": t.process.pid, "sandbox": str(t.sandbox)}
                    for t in self._apps[_absolute(app_id)].tasks.values()]

    def app_ids(self):
        """The ids of the apps there are now."""
        with self._lock:
            return sorted(self._apps)

    def launched(self, app_id):
        """The ids of every task launched for the app, live or ended, oldest
        first (also after the app was deleted, until shutdown())."""
        prefix = _task_id(app_id).split(".instance-")[0] + ".instance-"
        with self._lock:
            return [i for i in self._sandboxes if i.startswith(prefix)]

    def stdout(self, task_id):
        """What a task (live or ended) wrote to its sandbox's stdout alone."""
        with self._lock:
            sandbox = self._sandboxes[task_id]
        path = sandbox / "stdout"
        return path.read_text(errors="replace") if path.exists() else ""

    def task_log(self, task_id):
        """What a task (live or ended) wrote to its sandbox's stdout, then
        stderr. KeyError for a task never launched (or after shutdown())."""
        with self._lock:
            sandbox = self._sandboxes[task_id]
        return "".join((sandbox / name).read_text(errors="replace")
                       for name in ("stdout", "stderr") if (sandbox / name).exists())

    def kill_task(self, task_id, signo=signal.SIGKILL):
        """Sends signo to a live task's process group the way a crash (or the
        OOM killer) would: not a kill by Marathon, so if the task dies of it,
        that is a TASK_FAILED and it is replaced after the launch delay."""
        with self._lock:
            for app in self._apps.values():
                if task_id in app.tasks:
                    app.tasks[task_id].signal(signo)
                    return
        raise KeyError(task_id)

    def fail_next(self, status, body=None, count=1, headers=None, raw=None, methods=None):
        """The next `count` requests, whatever their path, get this reply:
        body (a dict, sent as JSON) or raw (bytes, sent as they are).
        methods (e.g. ("PATCH", "PUT")) limits it to requests of those methods."""
        payload = raw if raw is not None else body
        wanted = tuple(methods) if methods else None
        with self._lock:
            self._failures.extend([(wanted, _reply(status, payload, dict(headers or {})))] * count)

    def redirect_to(self, other_url):
        """Every /v2 request answers 307 to other_url (None: serve again)."""
        with self._lock:
            self._redirect = other_url.rstrip("/") if other_url else None

    def lock(self, app_id, seconds):
        """Puts the app into a deployment for `seconds`; returns its id."""
        with self._lock:
            return self._apps[_absolute(app_id)].lock(seconds)

    # -- request handling (called by _Handler) --------------------------------

    def _record(self, record):
        with self._lock:
            self._requests.append(record)

    def _handle(self, record, target):
        """The reply (status, payload, headers) to one request."""
        with self._lock:
            for i, (wanted, reply) in enumerate(self._failures):
                if wanted is None or record.method in wanted:
                    del self._failures[i]
                    return reply
            if self._redirect and (record.path == "/v2" or record.path.startswith("/v2/")):
                return _reply(307, None, {"Location": self._redirect + target})
            if not self._authorised(record.headers.get("Authorization", "")):
                if self.credentials:
                    return _reply(401, {"message": "Invalid username or password."},
                                  {"WWW-Authenticate": 'Basic realm="Mesosphere Marathon"'})
                return _reply(401, {"message": "Not authenticated: missing, invalid or expired token."},
                              {"WWW-Authenticate": "acsjwt"})
            return self._route(record)

    def _authorised(self, given):
        if self.credentials is None and self.token is None:
            return True
        if self.token is not None and given == f"token={self.token}":
            return True
        if self.credentials and given[:6].lower() == "basic ":
            try:
                user, _, password = base64.b64decode(given[6:].strip(), validate=True).decode().partition(":")
            except ValueError:
                return False
            return (user, password) == self.credentials
        return False

    def _route(self, record):
        method, path = record.method, record.path
        if path == "/ping":
            return _reply(200, "pong") if method == "GET" else _not_allowed()
        if path == "/v2/info":
            return _reply(200, self._info()) if method == "GET" else _not_allowed()
        if path == "/v2/deployments":
            return _reply(200, self._deployments()) if method == "GET" else _not_allowed()
        if path.rstrip("/") == "/v2/apps":
            if method == "GET":
                selector = record.query.get("label")
                return _reply(200, {"apps": [self._view(a) for a in self._apps.values()
                                             if _selected(a.definition["labels"], selector)]})
            return self._create(record) if method == "POST" else _not_allowed()
        if path.rstrip("/") == "/v2/groups" or path.startswith("/v2/groups/"):
            return self._group_request(record, _absolute(path[len("/v2/groups"):]))
        if not path.startswith("/v2/apps/"):
            return _reply(404, {"message": f"Not Found: {path}"})
        app_id, sub, task_id = _split_app_path(path)
        if sub == "versions":
            if method != "GET":
                return _not_allowed()
            if app_id not in self._apps:
                return _no_app(app_id)
            return _reply(200, {"versions": sorted(self._apps[app_id].history, reverse=True)})
        if sub == "tasks":
            return self._kill_request(record, app_id, task_id) if method == "DELETE" else _not_allowed()
        if method == "GET":
            return _reply(200, {"app": self._view(self._apps[app_id])}) if app_id in self._apps else _no_app(app_id)
        if method in ("PUT", "PATCH"):
            partial = method == "PATCH" or record.query.get("partialUpdate", "true") != "false"
            return self._update(record, app_id, partial, create=method == "PUT")
        if method == "DELETE":
            return self._destroy(record, app_id)
        return _not_allowed()

    def _create(self, record):
        body, error = _parse_body(record)
        if error:
            return error
        errors = _with_oracle(record.body, False, _structure_errors(body, new_app=True))
        if errors:
            return _invalid(errors)
        target = _normalise(body)
        errors = _semantic_errors(target)
        if errors:
            return _invalid(errors)
        if target["id"] in self._apps:
            return _reply(409, {"message": f"An app with id [{target['id']}] already exists."})
        app = self._add(target)
        return _reply(201, self._view(app), {"Location": f"/v2/apps{app.definition['id']}"})

    def _update(self, record, app_id, partial, create):
        """PUT and PATCH: validate, apply to the current definition, and deploy
        only when the normalised result differs."""
        body, error = _parse_body(record)
        if error:
            return error
        errors = _with_oracle(record.body, True, _structure_errors(body, new_app=False))
        if isinstance(body.get("id"), str) and _absolute(body["id"]) != app_id:
            errors.append(("/id", f"must be the app id of the path, {app_id}"))
        if errors:
            return _invalid(errors)
        current = self._apps.get(app_id)
        if current is None and (not create or "version" in body):
            return _no_app(app_id)
        if current is None:
            APP_FIELDS["id"](app_id, "/id", errors)
        if "version" in body:
            if body["version"] not in current.history:
                return _reply(404, {"message": f"App '{app_id}' does not exist in version {body['version']}"})
            target = copy.deepcopy(current.history[body["version"]])
        else:
            base = current.definition if current and partial else {}
            target = _normalise({**base, **body, "id": app_id})
        errors += _semantic_errors(target)
        if errors:
            return _invalid(errors)
        if current is None:
            app = self._add(target)
            return _reply(201, {"deploymentId": app.deployment_id, "version": app.version},
                          {"Location": f"/v2/apps{app_id}"})
        locked = _locked(current, record)
        if locked:
            return locked
        if target == current.definition:
            # Marathon's plan for an unchanged app has no steps: it is done at once.
            return _reply(200, {"deploymentId": str(uuid.uuid4()), "version": current.version})
        self._change(current, target)
        return _reply(200, {"deploymentId": current.deployment_id, "version": current.version})

    def _change(self, app, target):
        """A write changed the app: a new version and a deployment. A change of
        anything but instances is an upgrade, and Marathon replaces every task.
        Simplified: the old tasks are killed at once and the reconciler starts
        new ones as they end (Marathon's default upgradeStrategy would start
        the new ones first)."""
        old = app.definition
        scaling_only = {k for k in target.keys() | old.keys() if target.get(k) != old.get(k)} == {"instances"}
        app.definition = target
        app.version = self._next_version()
        app.last_scaling = app.version
        if not scaling_only:
            app.last_config = app.version
            app.failures, app.launch_at = 0, 0.0
            for task in list(app.tasks.values()):
                self._kill(app, task)
        app.history[app.version] = copy.deepcopy(target)
        app.changes += 1
        app.lock(self.deploy_seconds)

    def _kill_request(self, record, app_id, task_id):
        """DELETE /v2/apps/{id}/tasks/{taskId}: the task is killed; with
        ?scale=true instances goes down by one, a scaling change (locked like
        any other), else the reconciler replaces it. wipe is ignored."""
        app = self._apps.get(app_id)
        if app is None:
            return _no_app(app_id)
        task = app.tasks.get(task_id)
        if task is None:
            return _reply(404, {"message": f"Task '{task_id}' does not exist"})
        if record.query.get("scale") != "true":
            view = task.view()
            self._kill(app, task)
            return _reply(200, {"task": view})
        locked = _locked(app, record)
        if locked:
            return locked
        self._kill(app, task)
        self._change(app, {**app.definition, "instances": max(app.definition["instances"] - 1, 0)})
        return _reply(200, {"deploymentId": app.deployment_id, "version": app.version})

    def _group_apps(self, group_id):
        prefix = group_id.rstrip("/") + "/"
        return [a for i, a in self._apps.items() if i.startswith(prefix)]

    def _group_request(self, record, group_id):
        """/v2/groups[/{id}]: GET the group with its apps, POST a new group
        (409 when it exists: Marathon says to PUT a change), DELETE the group
        with every app in it. A group exists while an app is in it or since
        it was POSTed."""
        method = record.method
        exists = group_id == "/" or group_id in self._groups or bool(self._group_apps(group_id))
        if method == "GET":
            if not exists:
                return _reply(404, {"message": f"Group '{group_id}' does not exist"})
            return _reply(200, self._group_view(group_id))
        if method == "POST":
            return self._create_group(record, group_id)
        if method == "DELETE":
            if not exists or group_id == "/":
                return _reply(404, {"message": f"Group '{group_id}' does not exist"})
            apps = self._group_apps(group_id)
            for app in apps:
                locked = _locked(app, record)
                if locked:
                    return locked
            for app in apps:
                self._destroy(record, app.definition["id"])
            self._groups = {g for g in self._groups if g != group_id and not g.startswith(group_id + "/")}
            return _reply(200, {"deploymentId": str(uuid.uuid4()), "version": self._next_version()})
        return _not_allowed()

    def _create_group(self, record, path_id):
        body, error = _parse_body(record)
        if error:
            return error
        errors = oracle.errors(record.body, False)
        group_id = _absolute(body["id"]) if isinstance(body.get("id"), str) else path_id
        if group_id == "/":
            errors.append(("/id", "a new group needs an id"))
        apps = body.get("apps", [])
        definitions = []
        for i, app in enumerate(apps if isinstance(apps, list) else []):
            own = _structure_errors(app, new_app=True)
            errors += [(f"/apps({i}){where}", message) for where, message in own]
            if own or not isinstance(app.get("id"), str):
                continue
            full = app["id"] if app["id"].startswith("/") else f"{group_id}/{app['id']}"
            target = _normalise({**app, "id": full})
            if not target["id"].startswith(group_id + "/"):
                errors.append((f"/apps({i})/id", f"must be in the group {group_id}"))
            errors += [(f"/apps({i}){where}", message) for where, message in _semantic_errors(target)]
            definitions.append(target)
        if errors:
            return _invalid(errors)
        if group_id in self._groups or self._group_apps(group_id) or group_id in self._apps:
            return _reply(409, {"message": f"Group {group_id} is already created. Use PUT to change this group."})
        self._groups.add(group_id)
        for definition in definitions:
            self._add(definition)
        return _reply(201, {"deploymentId": str(uuid.uuid4()), "version": self._next_version()},
                      {"Location": f"/v2/groups{group_id}"})

    def _group_view(self, group_id):
        """The group as GET /v2/groups/{id} shows it: its own apps and,
        nested, its subgroups."""
        prefix = group_id.rstrip("/") + "/"
        own = [a for i, a in self._apps.items() if i.startswith(prefix) and "/" not in i[len(prefix):]]
        children = {prefix + i[len(prefix):].split("/")[0] for i in self._apps
                    if i.startswith(prefix) and "/" in i[len(prefix):]}
        children |= {g for g in self._groups if g.startswith(prefix) and "/" not in g[len(prefix):]}
        return {"id": group_id, "apps": [self._view(a) for a in own],
                "groups": [self._group_view(g) for g in sorted(children)], "pods": [], "dependencies": [],
                "version": _iso(self._last_version_ms)}

    def _destroy(self, record, app_id):
        """DELETE /v2/apps/{id}: the app goes, its tasks are killed."""
        app = self._apps.get(app_id)
        if app is None:
            return _no_app(app_id)
        locked = _locked(app, record)
        if locked:
            return locked
        for task in list(app.tasks.values()):
            self._kill(app, task)
        del self._apps[app_id]
        self._deleted_changes[app_id] = self._deleted_changes.get(app_id, 0) + app.changes + 1
        return _reply(200, {"deploymentId": str(uuid.uuid4()), "version": self._next_version()})

    def _add(self, definition):
        """A new app created by a write: a change, and a deployment."""
        app = _App(definition, self._next_version())
        app.changes = 1
        app.lock(self.deploy_seconds)
        self._apps[definition["id"]] = app
        return app

    def _next_version(self):
        """ISO-8601 UTC with milliseconds, strictly increasing."""
        ms = max(time.time_ns() // 1_000_000, self._last_version_ms + 1)
        self._last_version_ms = ms
        return _iso(ms)

    def _view(self, app):
        """The app as GET shows it, every embed included (the double always
        embeds tasks, counts, deployments and lastTaskFailure, whatever
        ?embed= asks for)."""
        out = copy.deepcopy(app.definition)
        deployment = app.deployment()
        tasks = [t.view() for t in app.tasks.values()]
        out.update({
            "version": app.version,
            "versionInfo": {"lastScalingAt": app.last_scaling, "lastConfigChangeAt": app.last_config},
            "tasks": tasks, "deployments": [{"id": deployment}] if deployment else [],
            "tasksRunning": len(tasks), "tasksStaged": 0, "tasksHealthy": 0, "tasksUnhealthy": 0,
        })
        if app.last_failure:
            out["lastTaskFailure"] = dict(app.last_failure)
        return out

    # -- running tasks (the reconciler thread, with a launcher) ----------------

    def _reconcile_forever(self, halt):
        """Every TICK, until shutdown() sets halt. A bug in a pass is printed
        once, not every tick, and the passes go on."""
        complained = False
        while not halt.is_set():
            try:
                self._tick()
            except Exception:  # noqa: BLE001  (the thread must not die silently)
                if not complained:
                    traceback.print_exc()
                    complained = True
            halt.wait(TICK)

    def _tick(self):
        with self._lock:
            now = time.monotonic()
            self._reap(now)
            if self._server is None:
                return  # Marathon is away: its scheduling waits, the agent's part (above) goes on
            for app in list(self._apps.values()):
                self._converge(app, now)

    def _reap(self, now):
        """The agent's part: a task whose process ended leaves its app (a
        non-zero status or a signal is a TASK_FAILED); a killed task that
        outlived its grace period gets SIGKILL."""
        for app in self._apps.values():
            for task in list(app.tasks.values()):
                status = task.process.poll()
                if status is None:
                    if now - task.born >= BACKOFF_RESET:
                        app.failures = 0
                    continue
                del app.tasks[task.id]
                task.finish()
                if status != 0:  # 0 is TASK_FINISHED: replaced, but no failure
                    self._failed(app, task.id, task.version, _exit_message(status), now)
        for task in list(self._dying):
            if task.process.poll() is not None:
                self._dying.remove(task)
                task.finish()
            elif now >= task.kill_at and not task.sigkilled:
                task.signal(signal.SIGKILL)
                task.sigkilled = True

    def _failed(self, app, task_id, version, message, now):
        app.failures += 1
        app.launch_at = now + _launch_delay(app.definition, app.failures)
        app.last_failure = {"appId": app.definition["id"], "host": self.host, "message": message,
                            "state": "TASK_FAILED", "taskId": task_id, "timestamp": _timestamp(),
                            "version": version, "slaveId": self.agent_id}

    def _converge(self, app, now):
        """Marathon's part: kill the excess per killSelection, or launch the
        missing, once the launch delay passed. A killed task still ending
        holds its place, as Marathon launches a replacement only once the
        kill is confirmed."""
        definition = app.definition
        live = list(app.tasks.values())
        excess = len(live) - definition["instances"]
        if excess > 0:
            oldest_first = definition["killSelection"] == "OLDEST_FIRST"
            for task in live[:excess] if oldest_first else live[-excess:]:
                self._kill(app, task)
            return
        ending = sum(t.app_id == definition["id"] for t in self._dying)
        for _ in range(definition["instances"] - len(live) - ending):
            if now < app.launch_at or not self._launch(app, now):
                break

    def _launch(self, app, now):
        """One new task: its sandbox, ports and environment, then the
        launcher. A launcher that raises is a failed task (with its delay)."""
        definition = app.definition
        task_id = _task_id(definition["id"])
        if self._sandbox_root is None:
            self._sandbox_root = Path(tempfile.mkdtemp(prefix="marathon-double-"))
        sandbox = self._sandbox_root / task_id
        sandbox.mkdir()
        self._sandboxes[task_id] = sandbox
        taken = {port for a in self._apps.values() for t in a.tasks.values() for port in t.ports}
        port_env, ports = _port_env(definition, lambda: _free_port(taken))
        env = _task_env(definition, app.version, task_id, self.host, sandbox, port_env)
        try:
            _fetch(definition["fetch"], sandbox)
        except OSError as e:
            self._failed(app, task_id, app.version, f"Failed to fetch all URIs for container '{task_id}': {e}", now)
            return False
        try:
            process = self.launcher(copy.deepcopy(definition), task_id, env, sandbox)
        except Exception as e:  # noqa: BLE001  (Mesos reports any launch error as a failed task)
            self._failed(app, task_id, app.version, f"Failed to launch: {e}", now)
            return False
        app.tasks[task_id] = _Task(task_id, app, self.host, self.agent_id, ports, process, sandbox)
        return True

    def _kill(self, app, task):
        """Marathon's kill: SIGTERM to the task's process group now, SIGKILL
        after the app's taskKillGracePeriodSeconds (sent by the reconciler, not
        the request thread). The task leaves the app at once; its end is no
        failure."""
        del app.tasks[task.id]
        task.kill_at = time.monotonic() + app.definition.get("taskKillGracePeriodSeconds", DEFAULT_KILL_GRACE)
        task.signal(signal.SIGTERM)
        self._dying.append(task)

    def _deployments(self):
        return [{"id": app.deployment(), "version": app.version, "affectedApps": [app_id], "affectedPods": [],
                 "steps": [], "currentActions": [], "currentStep": 1, "totalSteps": 1}
                for app_id, app in self._apps.items() if app.deployment()]

    def _info(self):
        return {"name": "marathon", "version": MARATHON_VERSION, "buildref": "marathon-double",
                "leader": f"127.0.0.1:{self.port}", "elected": True, "frameworkId": self.framework_id,
                "marathon_config": {"master": "zk://127.0.0.1:2181/mesos", "hostname": "127.0.0.1",
                                    "http_port": self.port, "mesos_role": "*", "task_launch_timeout": 300000},
                "zookeeper_config": {"zk": "zk://127.0.0.1:2181/marathon"},
                "http_config": {"http_port": self.port, "https_port": 8443}}


def _selected(labels, selector):
    """Marathon's label selector of GET /v2/apps?label=: KEY (has it) or KEY==VALUE."""
    if not selector:
        return True
    key, _, value = selector.partition("==")
    return key in labels and (not value or labels[key] == value)


def _split_app_path(path):
    """(app id, sub-resource, task id) of /v2/apps/{id}[/versions | /tasks/{taskId}]:
    the sub-resource is "", "versions" or "tasks" (with the task id); (None, "",
    None) without an id. Ids may hold slashes, even a segment `tasks`: only
    `/tasks/` and one more segment at the end make the task sub-resource,
    whatever the method, as Marathon's router prefers its more literal
    `{appId}/tasks/{taskId}` route (so GET there is 405 even when an app
    /a/tasks/b exists). Marathon drops empty segments."""
    rest = path[len("/v2/apps/"):].strip("/") if path.startswith("/v2/apps/") else ""
    if not rest:
        return None, "", None
    if rest.endswith("/versions"):
        return _absolute(rest[:-len("/versions")]), "versions", None
    task = re.fullmatch(r"(.+)/tasks/([^/]+)", rest)
    if task:
        return _absolute(task.group(1)), "tasks", task.group(2)
    return _absolute(rest), "", None


def _locked(app, record):
    """The 409 of a changing write to an app a deployment holds (None when
    free, or when the write says ?force=true)."""
    deployment = app.deployment()
    if not deployment or record.forced:
        return None
    return _reply(409, {
        "message": "App is locked by one or more deployments. Override with the option '?force=true'. "
                   f"View details at '/v2/deployments/{deployment}'.",
        "deployments": [{"id": deployment}]})


def _request_app_id(record):
    """The app a request is about, for writes(): from the path, or from the
    body of a POST /v2/apps; None when there is none (or it is unreadable)."""
    app_id, _, _ = _split_app_path(record.path)
    if app_id is None and record.method == "POST":
        try:
            body_id = json.loads(record.body).get("id")
        except (ValueError, AttributeError):
            body_id = None
        app_id = _absolute(body_id) if isinstance(body_id, str) else None
    return app_id


def _not_allowed():
    return _reply(405, {"message": "HTTP 405 Method Not Allowed"})


# ---------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------


class _BodyTooLarge(Exception):
    pass


class _Server(ThreadingHTTPServer):
    """Tracks its connections so stop() can drop keep-alive clients at once,
    and keeps clients' resets and timeouts out of the test output."""
    daemon_threads = True

    def __init__(self, *args):
        self.connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(*args)

    def drop_connections(self):
        with self.connections_lock:
            for connection in self.connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as libcurl uses it
    server_version = "marathon-double"
    timeout = SOCKET_TIMEOUT

    def setup(self):
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self):
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, fmt, *args):
        if self.server.double.verbose:
            super().log_message(fmt, *args)

    def handle_expect_100(self):
        """Refuses an oversized body before the client sends it."""
        if self._declared_length() > MAX_BODY:
            self._too_large(self._new_record())
            return False
        return super().handle_expect_100()

    def do_GET(self):
        record = self._new_record()
        try:
            if self._declared_length() > MAX_BODY:
                raise _BodyTooLarge
            record.body = self._read_body()
        except _BodyTooLarge:
            self._too_large(record)
            return
        except ValueError:
            self.close_connection = True
            self._send(record, *_reply(400, {"message": "Malformed request body framing"}))
            return
        record.app_id = _request_app_id(record)
        self._send(record, *self.server.double._handle(record, self.path))

    do_PUT = do_PATCH = do_POST = do_DELETE = do_GET

    def _new_record(self):
        url = urlsplit(self.path)
        return Request(self.command, unquote(url.path), dict(parse_qsl(url.query, keep_blank_values=True)),
                       self.headers)

    def _declared_length(self):
        """Content-Length as sent; an unparseable one is left to _read_body."""
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return 0

    def _read_body(self):
        """The body, framed by Content-Length or chunked (libcurl sends chunked
        for uploads of unknown size). ValueError on broken framing."""
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0:
                raise ValueError("negative Content-Length")
            return self.rfile.read(length)
        chunks, size = [], 0
        while True:
            length = int(self.rfile.readline(1024).split(b";")[0].strip(), 16)
            if length == 0:
                while self.rfile.readline(1024).strip():  # trailers, up to the blank line
                    pass
                return b"".join(chunks)
            size += length
            if size > MAX_BODY:
                raise _BodyTooLarge
            chunks.append(self.rfile.read(length))
            self.rfile.readline(1024)

    def _too_large(self, record):
        """413 and hang up: the unread body would otherwise be parsed as the next request."""
        self.close_connection = True
        self._send(record, 413, {"message": f"Request body larger than {MAX_BODY} bytes"},
                   {"Connection": "close"})

    def _send(self, record, status, payload, headers):
        """Records the request with its status, then answers. Recording first
        means a client that got its answer finds its request recorded."""
        if isinstance(payload, (dict, list)):
            data, content_type = json.dumps(payload).encode(), "application/json"
        elif isinstance(payload, str):
            data, content_type = payload.encode(), "text/plain; charset=utf-8"
        elif payload is None:
            data, content_type = b"", None
        else:
            data, content_type = payload, "application/json"
        record.status = status
        self.server.double._record(record)
        self.send_response(status)
        all_headers = {"Content-Type": content_type} if content_type else {}
        all_headers.update(headers)
        for name, value in all_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _definitions(path):
    """The apps of a JSON file: one app, or a group with `apps`."""
    with open(path) as f:
        document = json.load(f)
    return document["apps"] if "apps" in document else [document]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve a Marathon /v2 API test double on 127.0.0.1.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app", action="append", default=[], metavar="FILE.json",
                        help="an app definition, or a group with `apps`, to start with (repeatable)")
    parser.add_argument("--credentials", metavar="USER:PASSWORD", help="require HTTP basic auth")
    parser.add_argument("--token", help="require `Authorization: token=TOKEN` (DC/OS)")
    parser.add_argument("--deploy-seconds", type=float, default=0.0,
                        help="how long each change keeps the app in a deployment (409 on writes meanwhile)")
    args = parser.parse_args(argv)
    credentials = tuple(args.credentials.split(":", 1)) if args.credentials else None
    double = MarathonDouble(credentials, args.token, args.deploy_seconds, port=args.port)
    for path in args.app:
        for definition in _definitions(path):
            double.add_app(definition)
    double.verbose = True
    double.start()
    print(f"Marathon double serving on {double.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        double.shutdown()


if __name__ == "__main__":
    main()
