"""Faults injected into a running compose cluster (tests/system/compose_cluster.py)
while examples/ExactlyOnce.java runs, and what each run measured: the
time from the fault to the job RUNNING again, the checker's figures
(checker.py), the restarts of containers and of the supervisors' children.
Every fault is bounded in time and undone here. `make chaos` runs them all
(run.py); `make test` runs two (tests/system/test_compose.py)."""
import io
import re
import subprocess
import tarfile
import threading
import time
import uuid
from dataclasses import dataclass, field

import checker
from compose_cluster import JOBMANAGERS
from support import docker, wait_for

# The chaos cluster's document: a TaskManager that stops answering is
# declared lost after 10 s, not Flink's default 50 s.
DOCUMENT = "heartbeat.interval: 2000\nheartbeat.timeout: 10000\n"
KEYS = 16
JVM = {"jobmanager": "StandaloneSessionClusterEntrypoint", "taskmanager": "TaskManagerRunner"}


@dataclass
class Result:
    fault: str
    recovery_s: float = None
    figures: dict = field(default_factory=dict)
    restarts: list = field(default_factory=list)
    unexpected: list = field(default_factory=list)
    state: str = ""

    @property
    def ok(self):
        return self.state == "FINISHED" and self.figures.get("ok") is True and not self.unexpected


def running_since(job, t_ms):
    """Whether a job (Flink's /jobs/<id>, or None) is RUNNING with every task
    running, having become so after t_ms."""
    return bool(job and job.get("state") == "RUNNING" and job["timestamps"].get("RUNNING", 0) > t_ms and all(
        n == 0 for v in job["vertices"] for s, n in v["tasks"].items() if s not in ("RUNNING", "FINISHED")))


class Workload:
    """One run of ExactlyOnce: count numbers at rate per second on each of
    parallelism instances, into its own directory on the shared volume."""

    def __init__(self, cluster, count=6000, rate=50, parallelism=2):
        self.c, self.count, self.rate, self.parallelism = cluster, count, rate, parallelism
        self.dir = f"/var/lib/flink/chaos/{uuid.uuid4().hex[:8]}"
        self.job = None

    def start(self):
        leader = wait_for(self.c.leader, 60, interval=0.5, what="a leader in ZooKeeper")
        run = self.c.flink(leader, "run", "--detached", "-p", str(self.parallelism), "examples/streaming/ExactlyOnce.jar",
                           "--output", f"file://{self.dir}", "--count", str(self.count), "--rate", str(self.rate),
                           "--keys", str(KEYS))
        assert run.returncode == 0, run.stdout + run.stderr
        self.job = re.search(r"JobID ([0-9a-f]{32})", run.stdout).group(1)
        wait_for(lambda: self.running_since(0), 120, interval=0.5, what="the workload RUNNING")
        wait_for(lambda: (cp := self.c.rest_any(f"/jobs/{self.job}/checkpoints")) and cp["counts"]["completed"] >= 1,
                 120, interval=0.5, what="the workload's first checkpoint")

    def status(self):
        return self.c.rest_any(f"/jobs/{self.job}")

    def running_since(self, t_ms):
        return running_since(self.status(), t_ms)

    def state(self):
        j = self.status()
        return j.get("state") if j else None

    def wait_end(self, timeout):
        return wait_for(lambda: (s := self.state()) in ("FINISHED", "FAILED", "CANCELED") and s, timeout,
                        interval=1, what="the workload ending")

    def output(self):
        """Every committed line, read from the shared volume through a JobManager's container."""
        for jm in JOBMANAGERS:
            r = subprocess_tar(self.c.container(jm), self.dir)
            if r is not None:
                return r
        raise AssertionError(f"no JobManager container could read {self.dir}")


def subprocess_tar(container, directory):
    p = subprocess.run(["docker", "exec", container, "tar", "-C", directory, "-c", "."], capture_output=True, timeout=120)
    if p.returncode != 0:
        return None
    lines = []
    with tarfile.open(fileobj=io.BytesIO(p.stdout)) as t:
        for m in t.getmembers():
            name = m.name.rsplit("/", 1)[-1]
            if m.isfile() and not name.startswith("."):
                lines.extend(t.extractfile(m).read().decode().splitlines())
    return lines


def snapshot(c):
    """Per container: its start time and the supervisor's count of child restarts."""
    snap = {}
    for name in c.containers():
        started = docker("inspect", "-f", "{{.State.StartedAt}}", name, check=False).stdout.strip()
        m = c.supervisor_metrics(name) or {}
        snap[name] = (started, {k: v for k, v in m.items() if k.startswith("flink_supervisor_child_restarts_total")})
    return snap


def short(c, name):
    """A container's name without the project: jobmanager1_1."""
    return name[len(c.project) + 1:]


def restarts(c, before, after):
    """What restarted between two snapshots: containers, and children by name."""
    out = []
    for name, (started, children) in after.items():
        short_name = short(c, name)
        if started != before.get(name, ("", {}))[0]:
            out.append(f"{short_name} (container)")
            continue
        for series, n in children.items():
            was = before[name][1].get(series, 0)
            if n > was:
                child = re.search(r'child="([^"]+)"', series).group(1)
                out.append(f"{short_name}/{child} ×{int(n - was)}")
    return out


def jvm_kill(container, role):
    docker("exec", container, "pkill", "-KILL", "-f", JVM[role])


def busy_taskmanager(c):
    """A TaskManager container that runs some of the job's tasks."""
    tms = (c.rest_any("/taskmanagers") or {}).get("taskmanagers", [])
    busy = [t for t in tms if t["freeSlots"] < t["slotsNumber"]]
    assert busy, tms
    for i in (1, 2):
        name = c.container("taskmanager", i)
        ip = c.ip(name)
        if any(ip and ip in t.get("path", "") + t["id"] for t in busy):
            return name
    return c.container("taskmanager", 1)


# Each fault: inject(cluster) -> (undo, the containers whose restart it causes
# or "*" for all). The undo is called by run_fault, also when it fails.

def kill_leader_jvm(c):
    leader = c.container(wait_for(c.leader, 60, interval=0.5, what="a leader"))
    jvm_kill(leader, "jobmanager")
    return (lambda: None), {leader}


def kill_taskmanager_jvm(c):
    tm = busy_taskmanager(c)
    jvm_kill(tm, "taskmanager")
    return (lambda: None), {tm}


def pause_taskmanager(c, seconds=20):
    tm = busy_taskmanager(c)
    docker("pause", tm)
    deadline = time.monotonic() + seconds

    def undo():
        time.sleep(max(0.0, deadline - time.monotonic()))
        docker("unpause", tm, check=False)
    return undo, {tm}


def cut_leader_from_zookeeper(c, seconds=20):
    service = wait_for(c.leader, 60, interval=0.5, what="a leader")
    leader = c.container(service)
    docker("network", "disconnect", c.network, leader)
    deadline = time.monotonic() + seconds

    def undo():
        time.sleep(max(0.0, deadline - time.monotonic()))
        docker("network", "connect", "--alias", service, c.network, leader, check=False)
    return undo, {leader}


def restart_zookeeper(c):
    zk = c.container("zookeeper")
    docker("restart", "-t", "10", zk)
    return (lambda: None), {zk}


def stop_everything(c):
    stop = c.compose("stop", "-t", "30", timeout=300)
    assert stop.returncode == 0, stop.stderr
    start = c.compose("start", timeout=300)
    assert start.returncode == 0, start.stderr
    return (lambda: None), "*"


def push_configuration(c):
    # A value that changes the rendered configuration of every role (an
    # identical one restarts nothing): the job sets its own parallelism.
    c.push(c.document + "# pushed by the fault run\nparallelism.default: 2\n")
    return (lambda: None), "*"


FAULTS = {
    "SIGKILL of the leading JobManager's JVM": kill_leader_jvm,
    "SIGKILL of a TaskManager's JVM": kill_taskmanager_jvm,
    "docker pause of a TaskManager for 20 s (heartbeat timeout 10 s)": pause_taskmanager,
    "leading JobManager disconnected from the network for 20 s": cut_leader_from_zookeeper,
    "ZooKeeper restarted": restart_zookeeper,
    "every container stopped and started again": stop_everything,
    "configuration change pushed through ZooKeeper (rolling restart)": push_configuration,
}


def run_fault(c, name, workload=None, end_timeout=600):
    """One run: the workload started, the fault injected once it has a
    checkpoint, undone, the job followed to its end and checked."""
    w = workload or Workload(c)
    w.start()
    before = snapshot(c)
    t0 = time.time()
    undo, expected = FAULTS[name](c)
    result = Result(name)
    # The undo waits out the fault's duration: the recovery is timed beside it.
    undoing = threading.Thread(target=undo, name="undo")
    undoing.start()
    try:
        try:
            wait_for(lambda: w.running_since(t0 * 1000) or w.state() == "FINISHED", 600, interval=0.5,
                     what="the workload RUNNING again")
            if w.state() == "RUNNING":
                result.recovery_s = round(time.time() - t0, 1)
        except AssertionError:
            result.recovery_s = None
        undoing.join()
        result.state = w.wait_end(end_timeout)
    finally:
        undoing.join()
        result.restarts = restarts(c, before, snapshot(c))
    allowed = {short(c, n) for n in (c.containers() if expected == "*" else expected)}
    result.unexpected = [r for r in result.restarts if r.split(" ")[0].split("/")[0] not in allowed]
    result.figures = checker.check(w.output(), w.count, KEYS)
    return result
