"""Image and cluster figures for make bench: image size, `docker run` to
REST-ready (median of 3), `make up` to every TaskManager registered, and
the failover time after killing the leading JobManager."""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from support import rest  # noqa: E402

IMAGE = "flink-appliance:latest"
PROJECT = "fa-bench"


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def until(cond, timeout):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if cond():
            return time.monotonic() - start
        time.sleep(0.1)
    raise RuntimeError("timed out")


def docker_run_to_rest():
    out = []
    for i in range(3):
        name = f"fa-bench-run-{i}"
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        t0 = time.monotonic()
        sh("docker", "run", "-d", "--name", name, "-p", "127.0.0.1::8081", IMAGE)
        try:
            port = int(sh("docker", "port", name, "8081").split(":")[-1].split()[0])
            until(lambda: (o := rest(port, "/overview")) and "taskmanagers" in o, 180)
            out.append(time.monotonic() - t0)
        finally:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True)
    return statistics.median(out)


V2 = subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


def container(service):
    """Compose v2 joins project, service and index with '-', v1 with '_'."""
    return f"{PROJECT}-{service}-1" if V2 else f"{PROJECT}_{service}_1"


def compose(*args):
    env = dict(os.environ, FLINK_UI_PORT="18181", FLINK_UI_PORT2="18182")
    cmd = ["docker", "compose"] if V2 else ["docker-compose"]
    return subprocess.run(cmd + ["-p", PROJECT, "-f", str(ROOT / "compose" / "docker-compose.yml"), *args], env=env,
                          check=True, capture_output=True, text=True)


def leader():
    zk = container("zookeeper")
    info = subprocess.run(["docker", "exec", zk, "/usr/share/zookeeper/bin/zkCli.sh", "-server", "localhost:2181", "get",
                           "/flink/compose/leader/rest_server/connection_info"], capture_output=True, text=True).stdout
    return next((jm for jm in ("jobmanager1", "jobmanager2") if f"http://{jm}:8081" in info), None)


def cluster_figures():
    ports = {"jobmanager1": 18181, "jobmanager2": 18182}
    compose("down", "-v", "--remove-orphans")
    t0 = time.monotonic()
    compose("up", "-d")
    try:
        until(lambda: (o := rest(18181, "/overview")) and o.get("taskmanagers") == 2, 300)
        up = time.monotonic() - t0
        until(lambda: leader() is not None, 60)
        first = leader()
        standby = "jobmanager2" if first == "jobmanager1" else "jobmanager1"
        t1 = time.monotonic()
        sh("docker", "kill", container(first))
        until(lambda: leader() == standby and (o := rest(ports[standby], "/overview")) and o.get("taskmanagers") == 2,
              300)
        failover = time.monotonic() - t1
    finally:
        compose("down", "-v", "--remove-orphans")
    return up, failover


def main():
    size = int(sh("docker", "image", "inspect", "-f", "{{.Size}}", IMAGE))
    run = docker_run_to_rest()
    up, failover = cluster_figures()
    print("| figure | value |")
    print("| --- | --- |")
    print(f"| image size ({IMAGE}) | {size / 1e6:.0f} MB |")
    print(f"| `docker run` to REST answering, local mode, median of 3 | {run:.1f} s |")
    print(f"| compose `up -d` to 2 TaskManagers registered (images built) | {up:.1f} s |")
    print(f"| `docker kill` of the leading JobManager to the standby leading with both TaskManagers | {failover:.1f} s |")


if __name__ == "__main__":
    sys.exit(main())
