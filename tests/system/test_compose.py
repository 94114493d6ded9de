"""The compose cluster: ZooKeeper, the pushed config document, two
JobManagers in HA, two TaskManagers. Each test module run gets its own
compose project and free ports, and `down -v` at the end is checked to
leave nothing behind."""
import re
import subprocess
import tempfile
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import docker, free_port, published, rest, wait_for

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose" / "docker-compose.yml"


def compose_cmd():
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"]


class Cluster:
    def __init__(self):
        self.project = f"fa-test-{uuid.uuid4().hex[:8]}"
        self.ports = {"jobmanager1": free_port(), "jobmanager2": free_port()}
        self.metrics_ports = {"jobmanager1": free_port(), "jobmanager2": free_port()}
        self.env = {"FLINK_UI_PORT": str(self.ports["jobmanager1"]), "FLINK_UI_PORT2": str(self.ports["jobmanager2"]),
                    "FLINK_METRICS_PORT": str(self.metrics_ports["jobmanager1"]),
                    "FLINK_METRICS_PORT2": str(self.metrics_ports["jobmanager2"]),
                    "PATH": "/usr/local/bin:/usr/bin:/bin"}

    def compose(self, *args, timeout=300):
        return subprocess.run(compose_cmd() + ["-p", self.project, "-f", str(COMPOSE_FILE), *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def container(self, service, index=1):
        return f"{self.project}_{service}_{index}" if compose_cmd() == ["docker-compose"] else f"{self.project}-{service}-{index}"

    def overview(self, jm="jobmanager1"):
        o = rest(self.ports[jm], "/overview")
        return o if o and "taskmanagers" in o else None

    def zk_get(self, path):
        out = docker("exec", self.container("zookeeper"), "/usr/share/zookeeper/bin/zkCli.sh", "-server",
                     "localhost:2181", "get", path, check=False, timeout=60)
        return out.stdout

    def leader(self):
        info = self.zk_get("/flink/compose/leader/rest_server/connection_info")
        return next((jm for jm in ("jobmanager1", "jobmanager2") if f"http://{jm}:8081" in info), None)

    def push(self, text):
        with tempfile.TemporaryDirectory() as d:
            doc = Path(d) / "cluster.yaml"
            doc.write_text(text)
            docker("run", "--rm", "--network", f"{self.project}_default", "-e", "FLINK_ZK_QUORUM=zookeeper:2181",
                   "-v", f"{doc}:/c.yaml:ro", "flink-appliance:latest", "--zk-push", "/c.yaml")

    def flink(self, service, *args, timeout=180):
        """The image's `flink` in a container of the cluster, as a user runs it (docker exec, as root)."""
        return docker("exec", self.container(service), "flink", *args, check=False, timeout=timeout)

    def logs(self):
        return self.compose("logs", "--no-color", timeout=60).stdout


@pytest.fixture(scope="module")
def cluster():
    c = Cluster()
    up = c.compose("up", "-d")
    try:
        assert up.returncode == 0, up.stderr
        wait_for(lambda: (o := c.overview()) and o["taskmanagers"] == 2, 300, what="2 TaskManagers registered")
        yield c
    except BaseException:
        print(c.logs())
        raise
    finally:
        c.compose("down", "-v", "--remove-orphans")
        leftovers = [docker(kind, "ls", "-q", "--filter", f"label=com.docker.compose.project={c.project}").stdout.strip()
                     for kind in ("container", "network", "volume")]
        for kind, ids in zip(("container", "network", "volume"), leftovers):
            if ids:
                docker(kind, "rm", "-f", *ids.split(), check=False)
        c.leftovers = leftovers


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
