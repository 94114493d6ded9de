"""The compose cluster: ZooKeeper, the pushed config document, two
JobManagers in HA, two TaskManagers. Each test module run gets its own
compose project and free ports, and `down -v` at the end is checked to
leave nothing behind."""
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from conftest import docker, free_port, rest, wait_for

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
        self.env = {"FLINK_UI_PORT": str(self.ports["jobmanager1"]), "FLINK_UI_PORT2": str(self.ports["jobmanager2"]),
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


def test_leader_failover_recovers_the_job_from_its_checkpoint(cluster, tmp_path):
    dist = next((ROOT / "build" / "flink" / "lib").glob("flink-dist*.jar"))
    subprocess.run(["javac", "-d", str(tmp_path / "classes"), "-cp", str(dist),
                    str(ROOT / "tests" / "system" / "job" / "StreamJob.java")], check=True)
    subprocess.run(["jar", "cfe", str(tmp_path / "stream.jar"), "StreamJob", "-C", str(tmp_path / "classes"), "."],
                   check=True)
    leader = wait_for(cluster.leader, 60, what="a leader in ZooKeeper")
    standby = "jobmanager2" if leader == "jobmanager1" else "jobmanager1"
    jm = cluster.container(leader)
    docker("cp", str(tmp_path / "stream.jar"), f"{jm}:/tmp/stream.jar")
    out = docker("exec", jm, "flink", "run", "-d", "-m", "localhost:8081", "/tmp/stream.jar", timeout=180).stdout
    job = out.split("JobID")[-1].split()[0]

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
