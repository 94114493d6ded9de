"""The compose cluster: ZooKeeper, the pushed config document, two
JobManagers in HA, two TaskManagers. Each test module run gets its own
compose project and free ports, and `down -v` at the end is checked to
leave nothing behind."""
import re
import sys
import urllib.request
from pathlib import Path

import pytest

from compose_cluster import Cluster
from conftest import docker, published, rest, wait_for

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "chaos"))
import faults  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    c = Cluster()
    try:
        c.up()
        yield c
    except BaseException:
        print(c.logs())
        raise
    finally:
        c.leftovers = c.down()


def test_two_taskmanagers_registered_and_ha_configured_from_zookeeper(cluster):
    o = cluster.overview()
    assert o["taskmanagers"] == 2 and o["slots-total"] == 4
    config = {e["key"]: e["value"] for e in rest(cluster.ports["jobmanager1"], "/jobmanager/config")}
    assert config["high-availability.type"] == "zookeeper"
    assert config["high-availability.zookeeper.quorum"] == "zookeeper:2181"


def test_killed_taskmanager_jvm_is_restarted_in_the_same_container(cluster):
    tm = cluster.container("taskmanager", 1)
    before = {t["id"] for t in rest(cluster.ports["jobmanager1"], "/taskmanagers")["taskmanagers"]}
    started = docker("inspect", "-f", "{{.State.StartedAt}}", tm).stdout
    docker("exec", tm, "pkill", "-KILL", "-f", "TaskManagerRunner")
    wait_for(lambda: {t["id"] for t in (rest(cluster.ports["jobmanager1"], "/taskmanagers") or {"taskmanagers": []})["taskmanagers"]} - before,
             180, what="the restarted TaskManager registered under a new id")
    assert docker("inspect", "-f", "{{.State.StartedAt}}", tm).stdout == started, "the container was restarted"
    assert "event=child.restart_scheduled" in docker("logs", tm).stderr


def test_config_change_in_zookeeper_rolls_every_supervisor(cluster):
    text = (ROOT / "compose" / "cluster.yaml").read_text().replace("taskmanager.numberOfTaskSlots: 2",
                                                                   "taskmanager.numberOfTaskSlots: 3")
    cluster.push(text)
    wait_for(lambda: (o := cluster.overview()) and o["slots-total"] == 6 and o["taskmanagers"] == 2, 240,
             what="both TaskManagers back with 3 slots each")
    assert "event=zk.change_applied" in docker("logs", cluster.container("taskmanager", 2)).stderr


def job_id(out):
    return out.split("JobID")[-1].split()[0]


def savepoint_path(out):
    return out.split("Savepoint completed. Path:")[-1].split()[0]


def scrape(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def test_flink_cli_from_either_jobmanager_run_list_savepoint_stop_resume_cancel(cluster):
    """bin/flink in the standby's container finds the leader through
    ZooKeeper: no -m. The state a savepoint holds is what the resumed job
    starts from."""
    leader = wait_for(cluster.leader, 60, what="a leader in ZooKeeper")
    standby = "jobmanager2" if leader == "jobmanager1" else "jobmanager1"
    run = cluster.flink(standby, "run", "--detached", "examples/streaming/StateCount.jar", "--rate", "50")
    assert run.returncode == 0, run.stdout + run.stderr
    job = job_id(run.stdout)
    wait_for(lambda: f"{job} : StateCount (RUNNING)" in cluster.flink(leader, "list").stdout, 120,
             what="flink list on the leader showing the job RUNNING")
    wait_for(lambda: (cp := rest(cluster.ports[leader], f"/jobs/{job}/checkpoints")) and cp["counts"]["completed"] >= 1,
             120, what="a completed checkpoint")
    saved = cluster.flink(standby, "savepoint", job)
    assert saved.returncode == 0 and "Savepoint completed" in saved.stdout, saved.stdout + saved.stderr
    assert savepoint_path(saved.stdout).startswith("file:/var/lib/flink/savepoints/")
    stop = cluster.flink(standby, "stop", "--savepointPath", "file:///var/lib/flink/savepoints", job)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    path = savepoint_path(stop.stdout)
    assert f"{job} : StateCount (FINISHED)" in cluster.flink(leader, "list", "--all").stdout

    resumed = cluster.flink(standby, "run", "--detached", "--fromSavepoint", path, "examples/streaming/StateCount.jar")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    again = job_id(resumed.stdout)

    def restored():
        cp = rest(cluster.ports[leader], f"/jobs/{again}/checkpoints")
        return cp and (cp.get("latest") or {}).get("restored") and cp["latest"]["restored"]
    assert wait_for(restored, 120, what="the resumed job restored")["external_path"] == path
    cancel = cluster.flink(leader, "cancel", again)
    assert cancel.returncode == 0, cancel.stdout + cancel.stderr
    wait_for(lambda: f"{again} : StateCount (CANCELED)" in cluster.flink(standby, "list", "--all").stdout, 60,
             what="the resumed job CANCELED")
    assert "Exception" not in "".join(r.stdout + r.stderr for r in (run, saved, stop, resumed, cancel))


def test_flink_and_supervisor_metrics_answer(cluster):
    url = f"http://127.0.0.1:{cluster.metrics_ports[wait_for(cluster.leader, 60, what='a leader')]}/"
    wait_for(lambda: re.search(r"^flink_jobmanager_numRegisteredTaskManagers\{.*\} 2\.0$", scrape(url), re.M), 60,
             what="the leader's Flink metrics counting 2 TaskManagers")
    tm_port = published(cluster.container("taskmanager", 1), 9249)
    tm = scrape(f"http://127.0.0.1:{tm_port}/")
    assert re.search(r"^flink_taskmanager_Status_JVM_Memory_Heap_Used\{", tm, re.M), tm[:2000]
    ip = docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                cluster.container("taskmanager", 1)).stdout.strip()
    sup = scrape(f"http://{ip}:8558/metrics")
    assert re.search(r"^flink_supervisor_up 1$", sup, re.M) and 'flink_supervisor_child_running{child="taskmanager"} 1' in sup


@pytest.mark.parametrize("fault", ["SIGKILL of a TaskManager's JVM", "SIGKILL of the leading JobManager's JVM"])
def test_exactly_once_through_a_fault(cluster, fault):
    """Two of make chaos's faults (bench/chaos.md has them all): the
    workload finishes with every number committed once, every key's count
    right, and nothing restarted but the killed JVM."""
    wait_for(lambda: (o := cluster.rest_any("/overview")) and o["taskmanagers"] == 2, 180, what="2 TaskManagers")
    r = faults.run_fault(cluster, fault, faults.Workload(cluster, count=3000, rate=50))
    assert r.ok, r
    assert r.recovery_s is not None and len(r.restarts) == 1 and r.restarts[0].endswith("×1"), r


def test_leader_failover_recovers_the_job_from_its_checkpoint(cluster):
    leader = wait_for(cluster.leader, 60, what="a leader in ZooKeeper")
    standby = "jobmanager2" if leader == "jobmanager1" else "jobmanager1"
    jm = cluster.container(leader)
    run = cluster.flink(leader, "run", "--detached", "examples/streaming/StateCount.jar", "--checkpoint-interval", "2000")
    assert run.returncode == 0, run.stdout + run.stderr
    job = job_id(run.stdout)

    def completed():
        cp = rest(cluster.ports[leader], f"/jobs/{job}/checkpoints")
        return cp and cp["counts"]["completed"] >= 1 and cp
    wait_for(completed, 120, what="a completed checkpoint")
    docker("kill", jm)
    wait_for(lambda: cluster.leader() == standby, 120, what="the standby leading")

    def restored():
        cp = rest(cluster.ports[standby], f"/jobs/{job}/checkpoints")
        return cp and cp.get("latest", {}).get("restored") and cp
    cp = wait_for(restored, 180, what="the job restored from its checkpoint on the new leader")
    assert cp["latest"]["restored"]["id"] >= 1
    wait_for(lambda: (o := cluster.overview(standby)) and o["taskmanagers"] == 2, 180,
             what="the TaskManagers registered with the new leader")
    jobs = rest(cluster.ports[standby], "/jobs/overview")["jobs"]
    assert [j["state"] for j in jobs if j["jid"] == job] == ["RUNNING"]


def test_down_leaves_nothing_behind():
    c = Cluster()
    assert c.compose("up", "-d", "zookeeper").returncode == 0
    down = c.compose("down", "-v", "--remove-orphans")
    assert down.returncode == 0, down.stderr
    for kind in ("container", "network", "volume"):
        assert docker(kind, "ls", "-q", "--filter", f"label=com.docker.compose.project={c.project}").stdout.strip() == ""
