"""System tests: the real image under the real Docker engine. Containers
get a per-test name prefix and are removed afterwards, also when the test
failed (their logs are printed then)."""
import json
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import support  # noqa: E402
from support import docker, free_port, rest  # noqa: E402,F401  (re-exported to the tests)

IMAGE = "flink-appliance:latest"


def wait_for(cond, timeout, interval=0.5, what="condition"):
    """support.wait_for, polling Docker and Flink at a gentler pace."""
    return support.wait_for(cond, timeout, interval, what)


@pytest.fixture(scope="session", autouse=True)
def image():
    if docker("image", "inspect", IMAGE, check=False).returncode != 0:
        pytest.fail(f"{IMAGE} is missing: run make image (make test does)")


@pytest.fixture
def containers(request):
    prefix = f"fa-test-{uuid.uuid4().hex[:8]}"
    names = []

    def run(*args, name=None):
        full = f"{prefix}-{name or len(names)}"
        names.append(full)
        docker("run", "-d", "--name", full, *args)
        return full

    yield run
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for n in names:
        if failed:
            print(f"--- docker logs {n} ---\n" + docker("logs", n, check=False).stdout + docker("logs", n, check=False).stderr)
        docker("rm", "-f", "-v", n, check=False)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    cluster = getattr(item, "funcargs", {}).get("cluster")
    if rep.when == "call" and rep.failed and hasattr(cluster, "containers"):
        for name in cluster.containers():
            logs = docker("logs", "--tail", "40", name, check=False)
            rep.sections.append((f"docker logs --tail 40 {name}", logs.stdout + logs.stderr))


def inspect(name):
    return json.loads(docker("inspect", name).stdout)[0]


def published(name, port):
    return int(docker("port", name, str(port)).stdout.split(":")[-1].split()[0])
