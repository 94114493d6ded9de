"""The Application Master end to end: real JobManagers and TaskManagers
(make flink-dist), real ZooKeeper, and the Marathon double running every
task as a real process with the environment Marathon gives it. The
appmaster is started the way a user starts it: as the seed-shaped app
conf/marathon/appmaster.json, launched by "Marathon" (amcluster.py)."""
import signal
import time
import urllib.request

import pytest

from amcluster import AM, BROKEN, TM, Cluster, cancel, check_bodies, running, submit
from conftest import wait_for


@pytest.fixture
def cluster(tmp_path):
    c = Cluster.start(tmp_path)
    try:
        yield c
    finally:
        c.close()


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
    # The adaptive scheduler runs the job on the slots there are until the
    # new TaskManagers register: running alone does not mean on three.
    wait_for(lambda: running(c, leader, jid) and len(c.taskmanagers(leader)) == 3, 240, 1,
             what="the job running on 3 TaskManagers")
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


def test_an_existing_taskmanager_app_is_adopted_and_only_its_instances_change(cluster):
    """The floor comes from FLINK_PROPERTIES here: the seed's keys work in every layer."""
    c = cluster
    c.double.add_app({
        "id": TM, "instances": 0, "cpus": 1, "mem": 1024,
        "args": ["taskmanager", "-Dhigh-availability=zookeeper", f"-Dhigh-availability.storageDir=file://{c.tmp}/ha",
                 "-Dhigh-availability.cluster-id=flink/appmaster"],
        "env": {"FLINK_ZK_QUORUM": c.zk.hosts},
        "container": {"type": "DOCKER", "docker": {"image": "flink-appliance:other"}},
        "portDefinitions": [{"port": 0, "name": n} for n in ("rpc", "data", "health", "metrics")]})
    c.deploy(drop=("-Dmesos.initial-tasks",), env={"FLINK_PROPERTIES": "mesos.initial-tasks: 2"})
    leader = c.leader()
    c.wait_registered(leader, 2)
    assert [(r.method, r.json()) for r in c.writes()] == [("PATCH", {"instances": 2})]
    app = c.tm_app()
    assert app["container"]["docker"]["image"] == "flink-appliance:other"
    assert "FLINK_APPLIANCE_OWNER" not in app["labels"]
    log = c.double.task_log(leader["id"])
    assert log.count("event=appmaster.adopted_differs") == 1
    assert "container.docker.image" in log and 'reason="below mesos.initial-tasks"' in log
    check_bodies(c)


def test_marathon_refusing_and_failing_the_creation_is_retried(cluster):
    """The floor comes from a ZooKeeper document here."""
    c = cluster
    zk = c.zk.client()
    try:
        zk.ensure_path("/flink/config")
        zk.set("/flink/config", b"mesos.initial-tasks: 2\n")
    finally:
        zk.stop()
    c.double.fail_next(503, {"message": "no leader"}, methods=("POST",))
    c.double.fail_next(401, {"message": "Not authenticated"}, methods=("POST",))
    c.deploy(drop=("-Dmesos.initial-tasks",))
    leader = c.leader()
    c.wait_registered(leader, 2)
    assert [(r.method, r.status) for r in c.writes()] == [("POST", 503), ("POST", 401), ("POST", 201)]
    assert c.tm_app()["instances"] == 2
    log = c.double.task_log(leader["id"])
    assert "event=appmaster.marathon_unanswered" in log and "event=appmaster.marathon_refused" in log
    check_bodies(c)
