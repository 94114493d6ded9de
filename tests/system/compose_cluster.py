"""A compose cluster of compose/docker-compose.yml on its own project and
free ports, for the system tests and the fault runs (tests/chaos): start
and stop, its containers, the leader in ZooKeeper, the image's `flink` in
a container, configuration pushes."""
import json
import re
import subprocess
import tempfile
import urllib.request
import uuid
from pathlib import Path

from support import ROOT, docker, free_port, rest, wait_for

COMPOSE_FILE = ROOT / "compose" / "docker-compose.yml"
JOBMANAGERS = ("jobmanager1", "jobmanager2")


def compose_cmd():
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"]


class Cluster:
    """document: extra lines for compose/cluster.yaml, the document zk-push
    writes (the faults runs shorten Flink's heartbeat with it)."""

    def __init__(self, document="", image="flink-appliance:latest"):
        self.project = f"fa-test-{uuid.uuid4().hex[:8]}"
        self.image = image
        self.ports = {"jobmanager1": free_port(), "jobmanager2": free_port()}
        self.metrics_ports = {"jobmanager1": free_port(), "jobmanager2": free_port()}
        self.env = {"FLINK_UI_PORT": str(self.ports["jobmanager1"]), "FLINK_UI_PORT2": str(self.ports["jobmanager2"]),
                    "FLINK_METRICS_PORT": str(self.metrics_ports["jobmanager1"]),
                    "FLINK_METRICS_PORT2": str(self.metrics_ports["jobmanager2"]),
                    "FLINK_APPLIANCE_IMAGE": image, "PATH": "/usr/local/bin:/usr/bin:/bin"}
        self.files = [str(COMPOSE_FILE)]
        self.tmp = tempfile.TemporaryDirectory(prefix="fa-compose-")
        self.document = (ROOT / "compose" / "cluster.yaml").read_text() + document
        if document:
            doc = Path(self.tmp.name) / "cluster.yaml"
            doc.write_text(self.document)
            override = Path(self.tmp.name) / "override.yml"
            override.write_text('version: "2.4"\nservices:\n  zk-push:\n    volumes:\n'
                                f'      - {doc}:/etc/flink-cluster/cluster.yaml:ro\n')
            self.files.append(str(override))

    def compose(self, *args, timeout=300):
        files = [a for f in self.files for a in ("-f", f)]
        return subprocess.run(compose_cmd() + ["-p", self.project, *files, *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def slots_per_taskmanager(self):
        return int(re.search(r"^taskmanager\.numberOfTaskSlots:\s*(\d+)", self.document, re.M).group(1))

    def up(self, taskmanagers=2, timeout=300):
        """Until every TaskManager is registered with its slots: Flink counts
        a TaskManager at registration and its slots at its slot report, a
        moment later."""
        up = self.compose("up", "-d")
        assert up.returncode == 0, up.stderr
        slots = taskmanagers * self.slots_per_taskmanager()
        wait_for(lambda: (o := self.overview()) and o["taskmanagers"] == taskmanagers and o["slots-total"] == slots,
                 timeout, interval=0.5, what=f"{taskmanagers} TaskManagers registered with {slots} slots")

    def down(self):
        """`down -v`, then whatever it left (returned: ids per kind, removed)."""
        self.compose("down", "-v", "--remove-orphans")
        leftovers = [docker(kind, "ls", "-q", "--filter", f"label=com.docker.compose.project={self.project}").stdout.strip()
                     for kind in ("container", "network", "volume")]
        for kind, ids in zip(("container", "network", "volume"), leftovers):
            if ids:
                docker(kind, "rm", "-f", *ids.split(), check=False)
        self.tmp.cleanup()
        return leftovers

    @property
    def network(self):
        return f"{self.project}_default"

    def container(self, service, index=1):
        return f"{self.project}_{service}_{index}" if compose_cmd() == ["docker-compose"] else f"{self.project}-{service}-{index}"

    def containers(self):
        """Every container of the project that runs a supervisor of a Flink role or ZooKeeper."""
        return [self.container("zookeeper"), *(self.container(jm) for jm in JOBMANAGERS),
                *(self.container("taskmanager", i) for i in (1, 2))]

    def overview(self, jm="jobmanager1"):
        o = rest(self.ports[jm], "/overview")
        return o if o and "taskmanagers" in o else None

    def rest_any(self, path):
        """path from whichever JobManager answers, the leader first."""
        first = self.leader_quick()
        for jm in ([first] if first else []) + [j for j in JOBMANAGERS if j != first]:
            if (r := rest(self.ports[jm], path)) is not None:
                return r
        return None

    def zk_get(self, path):
        out = docker("exec", self.container("zookeeper"), "/usr/share/zookeeper/bin/zkCli.sh", "-server",
                     "localhost:2181", "get", path, check=False, timeout=60)
        return out.stdout

    def leader(self):
        info = self.zk_get("/flink/compose/leader/rest_server/connection_info")
        return next((jm for jm in JOBMANAGERS if f"http://{jm}:8081" in info), None)

    def leader_quick(self):
        """The leader as the REST endpoints tell it (no JVM started): the one
        whose /jobmanager/config answers and whose /overview counts TaskManagers."""
        for jm in JOBMANAGERS:
            o = self.overview(jm)
            if o and o["taskmanagers"] > 0:
                return jm
        return None

    def push(self, text):
        with tempfile.TemporaryDirectory() as d:
            doc = Path(d) / "cluster.yaml"
            doc.write_text(text)
            docker("run", "--rm", "--network", self.network, "-e", "FLINK_ZK_QUORUM=zookeeper:2181",
                   "-v", f"{doc}:/c.yaml:ro", self.image, "--zk-push", "/c.yaml")

    def flink(self, service, *args, timeout=180):
        """The image's `flink` in a container of the cluster, as a user runs it (docker exec, as root)."""
        return docker("exec", self.container(service), "flink", *args, check=False, timeout=timeout)

    def ip(self, container):
        nets = json.loads(docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", container).stdout)
        return next((n["IPAddress"] for n in nets.values() if n.get("IPAddress")), None)

    def supervisor_metrics(self, container):
        """The supervisor's /metrics of a container, as {series: value}, or None."""
        ip = self.ip(container)
        if not ip:
            return None
        try:
            with urllib.request.urlopen(f"http://{ip}:8558/metrics", timeout=3) as r:
                text = r.read().decode()
        except OSError:
            return None
        return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
                for line in text.splitlines() if line and not line.startswith("#")}

    def logs(self):
        return self.compose("logs", "--no-color", timeout=60).stdout
