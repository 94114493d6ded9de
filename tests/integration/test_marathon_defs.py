"""conf/marathon/*.json checked against the rules of ../shared/MARATHON.md
(the same rules the Marathon test double enforces), and each app's role
checked by the real binary with the task environment Marathon would give
its container."""
import json
import subprocess

import pytest

from conftest import BIN, ROOT
from oracle import check_files, errors as oracle_errors

DEFS = ROOT / "conf" / "marathon"
ROLES = {"local", "jobmanager", "appmaster", "taskmanager", "standalone-job", "history-server"}
HC_FIELDS = {"protocol", "path", "portIndex", "port", "gracePeriodSeconds", "intervalSeconds", "timeoutSeconds",
             "maxConsecutiveFailures", "delaySeconds", "ignoreHttp1xx", "ipProtocol", "command"}
HC_PROTOCOLS = {"HTTP", "HTTPS", "TCP", "COMMAND", "MESOS_HTTP", "MESOS_HTTPS", "MESOS_TCP"}
RC_FIELDS = {"name", "protocol", "path", "portName", "intervalSeconds", "timeoutSeconds", "httpStatusCodesForReady",
             "preserveLastResponse"}
# The Marathon port names the supervisor maps, per role (README: Mesos/Marathon mapping).
NEEDED_PORTS = {"appmaster": {"rest", "rpc", "blob", "health"}, "jobmanager": {"rest", "rpc", "blob", "health"},
                "taskmanager": {"rpc", "data", "health"}}


def problems(app):
    p = []
    if not app.get("id", "").startswith("/"):
        p.append("id must be an absolute path")
    for key in ("cpus", "mem"):
        if not isinstance(app.get(key), (int, float)) or app[key] <= 0:
            p.append(f"{key} must be a positive number")
    if not isinstance(app.get("instances"), int) or app["instances"] < 0:
        p.append("instances must be an integer >= 0")
    c = app.get("container", {})
    if c.get("type") != "DOCKER" or not c.get("docker", {}).get("image"):
        p.append("container must be DOCKER with an image")
    if app.get("networks") != [{"mode": "container/bridge"}]:
        p.append("networks must be BRIDGE")
    ports = c.get("portMappings", [])
    names = [m.get("name") for m in ports]
    if not ports or None in names or len(set(names)) != len(names):
        p.append("every port mapping needs a unique name")
    for m in ports:
        if not all(isinstance(m.get(k), int) and m[k] >= 0 for k in ("containerPort", "hostPort")):
            p.append(f"port {m.get('name')}: containerPort and hostPort must be integers >= 0")
    checks = app.get("healthChecks", [])
    mesos = [h for h in checks if h.get("protocol", "HTTP").startswith("MESOS_")]
    if len(mesos) > 1 or (mesos and len(mesos) != len(checks)):
        p.append("at most one MESOS_* check, not mixed with Marathon-level checks")
    for h in checks:
        if set(h) - HC_FIELDS:
            p.append(f"unknown health check fields {set(h) - HC_FIELDS}")
        if h.get("protocol", "HTTP") not in HC_PROTOCOLS:
            p.append(f"unknown protocol {h.get('protocol')}")
        if "port" in h and "portIndex" in h:
            p.append("send port or portIndex, not both")
        idx = h.get("portIndex", 0 if "port" not in h else None)
        if idx is not None and not 0 <= idx < len(ports):
            p.append(f"portIndex {idx} addresses no port mapping")
        elif idx is not None and ports[idx].get("name") != "health":
            p.append("the health check must ask the port named health")
        for k in ("gracePeriodSeconds", "intervalSeconds", "timeoutSeconds", "maxConsecutiveFailures", "delaySeconds"):
            if k in h and (not isinstance(h[k], int) or h[k] < 0):
                p.append(f"{k} must be an integer >= 0")
        if h.get("path", "/") != "/health":
            p.append("the health check must ask /health")
    ready = app.get("readinessChecks", [])
    if len(ready) > 1:
        p.append("at most one readiness check")
    for r in ready:
        if set(r) - RC_FIELDS:
            p.append(f"unknown readiness fields {set(r) - RC_FIELDS}")
        if r.get("portName") not in names:
            p.append("readiness portName must name a port")
        if not 0 < r.get("timeoutSeconds", 10) < r.get("intervalSeconds", 30):
            p.append("readiness timeoutSeconds must be > 0 and < intervalSeconds")
        if r.get("path") != "/ready" or r.get("protocol", "HTTP") not in ("HTTP", "HTTPS"):
            p.append("readiness must ask /ready over HTTP(S)")
    env = app.get("env", {})
    if not all(isinstance(v, str) for v in env.values()):
        p.append("env values must be strings")
    if "version" in app:
        p.append("version must not be sent with other fields")
    role = (app.get("args") or [None])[0]
    if role not in ROLES:
        p.append(f"args must start with a role, not {role!r}")
    missing = NEEDED_PORTS.get(role, set()) - set(names)
    if missing:
        p.append(f"ports the supervisor maps for {role} are missing: {missing}")
    if app.get("taskKillGracePeriodSeconds", 0) <= int(env.get("SUPERVISOR_STOP_TIMEOUT", "8")):
        p.append("taskKillGracePeriodSeconds must exceed SUPERVISOR_STOP_TIMEOUT")
    return p


def apps():
    out = [json.loads((DEFS / f).read_text()) for f in ("jobmanager.json", "taskmanager.json")]
    group = json.loads((DEFS / "group.json").read_text())
    return out + group["apps"], group


@pytest.mark.parametrize("index", range(4))
def test_app_follows_marathons_rules(index):
    app = apps()[0][index]
    assert problems(app) == [], app["id"]


def test_group_holds_both_apps_with_their_dependency():
    _, group = apps()
    ids = [a["id"] for a in group["apps"]]
    assert ids == ["/flink/jobmanager", "/flink/taskmanager"]
    assert all(i.startswith(group["id"] + "/") for i in ids)
    for a in group["apps"]:
        assert set(a.get("dependencies", [])) <= set(ids)
    singles = [json.loads((DEFS / f).read_text()) for f in ("jobmanager.json", "taskmanager.json")]
    assert [{k: v for k, v in a.items() if k != "dependencies"} for a in group["apps"]] == singles


def test_the_validator_catches_what_marathon_rejects():
    app = json.loads((DEFS / "jobmanager.json").read_text())
    app["healthChecks"][0]["portIndex"] = 9
    app["readinessChecks"][0]["portName"] = "nope"
    app["version"] = "2026-01-01T00:00:00.000Z"
    found = problems(app)
    assert any("portIndex 9" in x for x in found) and any("portName" in x for x in found)
    assert any("version" in x for x in found)


def task_env(app, without=("FLINK_ZK_QUORUM",)):
    """What Marathon gives the app's container on agent-3.dc, less the
    variables named (no ZooKeeper here: the rest must be valid on its own)."""
    env = {k: v for k, v in app["env"].items() if k not in without}
    env.update({"FLINK_HOME": str(ROOT / "build" / "flink"), "HOST": "agent-3.dc", "MESOS_TASK_ID": "x.1",
                "MARATHON_APP_ID": app["id"], "MARATHON_APP_RESOURCE_CPUS": f"{app['cpus']:.1f}",
                "MARATHON_APP_RESOURCE_MEM": f"{app['mem']:.1f}", "PATH": "/usr/bin:/bin"})
    for i, m in enumerate(app["container"]["portMappings"]):
        host = 31000 + i
        env[f"PORT{i}"] = env[f"PORT_{m['name'].upper()}"] = str(host)
        env[f"PORT_{m['containerPort'] or host}"] = str(host)
    return env


@pytest.mark.parametrize("name", ["appmaster.json", "jobmanager.json", "taskmanager.json"])
def test_role_checks_out_with_the_task_environment(name):
    app = json.loads((DEFS / name).read_text())
    out = subprocess.run([str(BIN), "--print-config"] + app["args"], env=task_env(app), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "# from: mesos" in out.stdout


@pytest.mark.parametrize("name", ["appmaster.json", "jobmanager.json", "taskmanager.json", "group.json"])
def test_what_we_ship_passes_marathons_own_rules_without_a_warning(name):
    """The oracle (../shared/oracle): Marathon 1.10's types and validators and
    the 1.7 schema; also as DC/OS starts Marathon."""
    for extra in ([], ["--dcos"]):
        code, out = check_files(DEFS / name, extra=extra)
        assert code == 0, out


def test_the_oracle_can_fail_on_what_we_ship():
    app = json.loads((DEFS / "jobmanager.json").read_text())
    app["healthChecks"][0]["portIndex"] = 9
    found = oracle_errors(json.dumps(app), partial=False)
    assert any(path == "/healthChecks(0)/portIndex" for path, _ in found), found
