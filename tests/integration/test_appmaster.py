"""The Application Master end to end: real JobManagers and TaskManagers
(make flink-dist), real ZooKeeper, and the Marathon double running every
task as a real process with the environment Marathon gives it. The
appmaster is started the way a user starts it: as the seed-shaped app
conf/marathon/appmaster.json, launched by "Marathon"."""
import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest

import oracle
from conftest import BIN, ROOT, reap_everything, rest, wait_for
from marathon_double import MarathonDouble, command_launcher
from test_flink import FLINK_HOME
from zkserver import ZooKeeper

SEED = ROOT / "conf" / "marathon" / "appmaster.json"
AM = "/flink/appmaster"
TM = AM + "-taskmanagers"
BROKEN = "flink-appliance:broken"
STREAM_JOB = ROOT / "tests" / "system" / "job" / "StreamJob.java"
# Idle TaskManagers go 5 s after their last slot is freed (Flink's key).
FAST = ["-Dresourcemanager.taskmanager-timeout=5 s", "-Djobmanager.memory.process.size=768m"]


def argv(app):
    """What the image runs: the supervisor with the app's args, or, for an
    image that cannot start, a command that fails at once."""
    if app["container"]["docker"]["image"] == BROKEN:
        return ["/bin/sh", "-c", "echo this image cannot start >&2; exit 1"]
    return [str(BIN)] + app.get("args", [])


@pytest.fixture
def cluster(tmp_path):
    zk = ZooKeeper(tmp_path).start()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "FLINK_HOME": str(FLINK_HOME),
           "FLINK_LOG_DIR": str(tmp_path)}
    env.update({k: v for k, v in os.environ.items() if k in ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS")})
    double = MarathonDouble(launcher=command_launcher(argv, env)).start()
    c = Cluster(tmp_path, zk, double)
    try:
        yield c
    finally:
        double.shutdown()
        zk.stop()
        reap_everything()


class Cluster:
    def __init__(self, tmp, zk, double):
        self.tmp, self.zk, self.double = tmp, zk, double

    def deploy(self, *args, instances=1):
        """The seed's app, pointed at this ZooKeeper and this Marathon."""
        app = json.loads(SEED.read_text())
        app["instances"] = instances
        del app["container"]["volumes"]
        # Every task runs on this one host: container ports equal to host ports.
        for m in app["container"]["portMappings"]:
            m["containerPort"] = 0
        app["args"] = [a.replace("master.mesos:2181", self.zk.hosts).replace("file:///flink-ha", f"file://{self.tmp}/ha")
                       for a in app["args"]] + FAST + list(args)
        app["env"]["MARATHON_URL"] = self.double.url
        app["env"]["FLINK_ZK_QUORUM"] = self.zk.hosts
        self.double.add_app(app)
        return app

    def tasks(self, app_id):
        try:
            return self.double.tasks(app_id)
        except KeyError:
            return []

    def port(self, task, name):
        names = ["rest", "rpc", "blob", "health"]
        return task["ports"][names.index(name)]

    def leader(self, timeout=120):
        """The appmaster task that leads, once its REST answers as leader."""
        def find():
            for t in self.tasks(AM):
                if "state=leading" in self.double.task_log(t["id"]):
                    return t
            return None
        return wait_for(find, timeout, 0.5, what="an appmaster leading")

    def taskmanagers(self, task):
        reply = rest(self.port(task, "rest"), "/taskmanagers")
        return reply["taskmanagers"] if reply else []

    def tm_app(self):
        try:
            return self.double.app(TM)
        except KeyError:
            return None

    def wait_registered(self, leader, n, timeout=180):
        return wait_for(lambda: len(self.taskmanagers(leader)) == n and self.taskmanagers(leader), timeout, 0.5,
                        what=f"{n} TaskManager(s) registered")

    def health(self, task):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port(task, 'health')}/health", timeout=5) as r:
            return json.loads(r.read())

    def writes(self):
        return [r for r in self.double.writes(TM)]


def compile_stream_job(out):
    dist = next((FLINK_HOME / "lib").glob("flink-dist*.jar"))
    subprocess.run(["javac", "-d", str(out / "classes"), "-cp", str(dist), str(STREAM_JOB)], check=True)
    subprocess.run(["jar", "cfe", str(out / "stream.jar"), "StreamJob", "-C", str(out / "classes"), "."], check=True)
    return out / "stream.jar"


def submit(c, leader, parallelism):
    """A detached endless job of the given parallelism (one slot sharing
    group: it needs that many slots). Returns its id."""
    jar = compile_stream_job(c.tmp)
    run = subprocess.run([str(FLINK_HOME / "bin" / "flink"), "run", "-d", "-m", f"127.0.0.1:{c.port(leader, 'rest')}",
                          "-p", str(parallelism), str(jar)],
                         env={**os.environ, "FLINK_LOG_DIR": str(c.tmp)}, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    jobs = rest(c.port(leader, "rest"), "/jobs/overview")["jobs"]
    return jobs[-1]["jid"]


def running(c, leader, jid):
    """Every subtask of the job runs (a vertex counts as RUNNING with one)."""
    job = rest(c.port(leader, "rest"), f"/jobs/{jid}")
    return job and job["state"] == "RUNNING" and all(
        n == 0 for v in job["vertices"] for state, n in v["tasks"].items() if state != "RUNNING")


def cancel(c, leader, jid):
    req = urllib.request.Request(f"http://127.0.0.1:{c.port(leader, 'rest')}/jobs/{jid}?mode=cancel", method="PATCH")
    urllib.request.urlopen(req, timeout=10).close()


def check_bodies(c):
    """Every write the appmasters sent: accepted, never forced, and within
    Marathon's own rules (the oracle), as a whole app or a partial update."""
    for r in c.double.requests:
        if r.method in ("POST", "PUT", "PATCH", "DELETE") and r.app_id == TM:
            assert r.status != 422, r.body
            assert not r.forced
            if r.body:
                assert oracle.errors(r.body.decode(), r.method != "POST") == [], r.body


# The default scheduler tells the need by the job's parallelism, the
# adaptive one by its resource requirements (it runs the job on fewer slots
# meanwhile, and rescales when the TaskManagers come).
@pytest.mark.parametrize("scheduler", ["default", "adaptive"])
def test_the_seed_app_is_a_cluster_that_grows_with_its_jobs_and_shrinks_when_idle(cluster, scheduler):
    c = cluster
    c.deploy(f"-Djobmanager.scheduler={scheduler}", "-Djobmanager.adaptive-scheduler.scaling-interval.min=1 s")
    leader = c.leader()
    # The TaskManager app is created from the appmaster's own definition.
    wait_for(c.tm_app, 60, 0.5, what="the TaskManager app")
    tm_app = c.tm_app()
    assert tm_app["instances"] == 1
    assert tm_app["args"][0] == "taskmanager"
    assert tm_app["labels"]["FLINK_APPLIANCE_OWNER"] == AM
    assert tm_app["container"]["docker"]["image"] == "flink-appliance:latest"
    assert [p["name"] for p in tm_app["container"]["portMappings"]] == ["rpc", "data", "health", "metrics"]
    assert tm_app["healthChecks"][0]["path"] == "/health" and tm_app["readinessChecks"][0]["portName"] == "health"
    assert "MARATHON_URL" not in tm_app["env"]
    first = c.wait_registered(leader, 1)
    assert first[0]["id"] == c.tasks(TM)[0]["id"], "a TaskManager's resource id is its Mesos task id"
    assert [r.method for r in c.writes()] == ["POST"]

    jid = submit(c, leader, 3)
    wait_for(lambda: running(c, leader, jid), 240, 1, what="the job running on 3 TaskManagers")
    scale = [r for r in c.writes() if r.method != "POST"]
    assert [(r.method, r.json()) for r in scale] == [("PATCH", {"instances": 3})], "one write per decision"
    three = {tm["id"] for tm in c.taskmanagers(leader)}
    assert len(three) == 3
    log = c.double.task_log(leader["id"])
    assert "action=scale" in log and "slots_needed=3" in log

    cancel(c, leader, jid)
    wait_for(lambda: c.tm_app()["instances"] == 1 and len(c.tasks(TM)) == 1, 120, 0.5,
             what="idle TaskManagers released down to the floor")
    kills = [r for r in c.writes() if r.method == "DELETE"]
    assert len(kills) == 2 and all(k.query.get("scale") == "true" for k in kills)
    killed = {k.path.rsplit("/", 1)[1] for k in kills}
    survivors = {t["id"] for t in c.tasks(TM)}
    assert len(killed) == 2 and killed < three and not killed & survivors, "exactly the idle ones, by task id"
    check_bodies(c)

    def metrics():
        with urllib.request.urlopen(f"http://127.0.0.1:{c.port(leader, 'health')}/metrics", timeout=5) as r:
            return r.read().decode()
    # Marathon's answer to the last kill reaches the appmaster a moment after
    # Marathon acted on it.
    text = wait_for(lambda: "flink_supervisor_appmaster_scale_downs_total 2" in metrics() and metrics(), 20, 0.2,
                    what="the second scale-down counted")
    assert "flink_supervisor_appmaster_scale_ups_total 1" in text
    assert "flink_supervisor_appmaster_marathon_writes_total 4" in text
    health = wait_for(lambda: c.health(leader)["appmaster"]["taskmanagers"]["instances"] == 1 and c.health(leader),
                      20, 0.2, what="/health showing one instance")["appmaster"]
    assert health["leader"] is True


def test_a_standby_never_writes_and_adopts_without_a_change_when_the_leader_dies(cluster):
    c = cluster
    c.deploy(instances=2)
    leader = c.leader()
    wait_for(c.tm_app, 60, 0.5, what="the TaskManager app")
    c.wait_registered(leader, 1)
    standby = wait_for(lambda: [t for t in c.tasks(AM) if t["id"] != leader["id"]], 60, 0.5, what="the standby")[0]
    wait_for(lambda: "reason=\"standby" in c.double.task_log(standby["id"]), 60, 0.5, what="the standby says so")
    assert "event=appmaster.written" not in c.double.task_log(standby["id"])
    writes = len(c.writes())
    assert writes == 1

    c.double.kill_task(leader["id"], signal.SIGKILL)
    wait_for(lambda: "state=leading" in c.double.task_log(standby["id"]), 120, 0.5, what="the standby leading")
    wait_for(lambda: "event=appmaster.adopted" in c.double.task_log(standby["id"]), 60, 0.5,
             what="the TaskManager app adopted")
    wait_for(lambda: len(c.taskmanagers(standby)) == 1, 120, 0.5, what="the TaskManager registered with the new leader")
    assert len(c.writes()) == writes, "adopting changes nothing"
    assert c.tm_app()["instances"] == 1
    check_bodies(c)


def test_marathon_down_during_a_scale_up_is_retried_and_nothing_is_lost(cluster):
    c = cluster
    c.deploy()
    leader = c.leader()
    c.wait_registered(leader, 1)
    c.double.stop()
    jid = submit(c, leader, 2)
    wait_for(lambda: "event=appmaster.marathon_unanswered" in c.double.task_log(leader["id"]), 60, 0.5,
             what="the appmaster noticing Marathon is gone")
    assert len(c.taskmanagers(leader)) == 1, "the running cluster is untouched"
    c.double.start()
    wait_for(lambda: running(c, leader, jid), 240, 1, what="the job running once Marathon is back")
    assert [(r.method, r.json()) for r in c.writes() if r.method == "PATCH"] == [("PATCH", {"instances": 2})]
    check_bodies(c)


def test_a_deployment_and_a_409_are_waited_for(cluster):
    c = cluster
    c.deploy()
    leader = c.leader()
    c.wait_registered(leader, 1)
    c.double.lock(TM, 8)
    locked_at = time.monotonic()
    c.double.fail_next(409, {"message": "App is locked by one or more deployments."}, methods=("PATCH",))
    jid = submit(c, leader, 2)
    wait_for(lambda: running(c, leader, jid), 240, 1, what="the job running after the deployment")
    patches = [r for r in c.writes() if r.method == "PATCH"]
    assert [r.status for r in patches] == [409, 200]
    assert time.monotonic() - locked_at >= 8
    log = c.double.task_log(leader["id"])
    assert "a deployment holds the TaskManager app" in log and "event=appmaster.locked" in log
    check_bodies(c)


def test_taskmanagers_that_cannot_start_stop_scaling_and_health_says_why(cluster):
    c = cluster
    c.deploy(f"-Dmesos.resourcemanager.tasks.container.image.name={BROKEN}", "-Dmesos.maximum-failed-tasks=2")
    leader = c.leader()
    wait_for(lambda: c.health(leader).get("appmaster", {}).get("scale_up_stopped"), 120, 0.5,
             what="scale-up stopped in /health")
    health = c.health(leader)
    assert health["status"] == "ok", "the JobManager itself is healthy"
    assert health["appmaster"]["failed_tasks"] >= 2
    assert "failed" in health["appmaster"]["decision"] or health["appmaster"]["decision"] == "steady"
    submit(c, leader, 3)
    wait_for(lambda: "too many TaskManager tasks failed" in c.double.task_log(leader["id"]), 60, 0.5,
             what="the decision not to scale up")
    assert [r.method for r in c.writes()] == ["POST"]
    assert c.tm_app()["instances"] == 1
    log = c.double.task_log(leader["id"])
    assert "event=appmaster.scale_up_stopped" in log
    with urllib.request.urlopen(f"http://127.0.0.1:{c.port(leader, 'health')}/metrics", timeout=5) as r:
        assert "flink_supervisor_appmaster_scale_up_stopped 1" in r.read().decode()
