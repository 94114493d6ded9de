"""The README's first-job commands, run as they are written (a block after
`<!-- first-job: NAME -->`), on the default Flink release and on the
newest 2.x: what a new user pastes must work, and print what the README
says it prints. The compose block gets its own project and ports through
the variables the README's commands read (PROJECT, FLINK_UI_PORT, ...);
the docker-run block is taken word for word, with the image named by
release for 2.x as the README says."""
import os
import re
import socket
import subprocess
import uuid

import pytest

from conftest import docker, free_port, rest
from support import ROOT, makefile_var

RELEASES = [makefile_var("FLINK_DEFAULT"), makefile_var("FLINK2_VERSION")]


def readme_block(name):
    text = (ROOT / "README.md").read_text()
    m = re.search(rf"<!-- first-job: {re.escape(name)} -->\n```sh\n(.*?)```", text, re.S)
    assert m, f"README.md has no block after <!-- first-job: {name} -->"
    return m.group(1)


def run_block(block, env, timeout):
    """The block under `bash -e -x`, bounded; its whole output."""
    r = subprocess.run(["bash", "-e", "-x", "-c", block], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=timeout)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-6000:]
    return out


def check_output(out):
    """What the README says the user sees."""
    assert re.search(r"^Job has been submitted with JobID [0-9a-f]{32}$", out, re.M), out[-4000:]
    for count in ("to 4", "the 3", "be 2"):
        assert re.search(rf"^{count}$", out, re.M), f"WordCount did not print {count!r}:\n{out[-4000:]}"
    assert re.search(r"^\S+ \S+ : [0-9a-f]{32} : StateCount \(RUNNING\)$", out, re.M), out[-4000:]
    assert "Exception" not in out, out[-4000:]


def base_env(release):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLINK_", "PROJECT", "IMAGE"))}
    if release != RELEASES[0]:
        env["FLINK_VERSION"] = release
    return env


@pytest.mark.parametrize("release", RELEASES)
def test_compose_first_job_as_the_readme_says(release):
    project = f"fa-test-{uuid.uuid4().hex[:8]}"
    ports = {v: str(free_port()) for v in ("FLINK_UI_PORT", "FLINK_UI_PORT2", "FLINK_METRICS_PORT", "FLINK_METRICS_PORT2")}
    env = {**base_env(release), "PROJECT": project, **ports}
    try:
        out = run_block(readme_block("compose"), env, 1200)
        assert f"Flink is up: 2 TaskManagers registered. Web UI: http://127.0.0.1:{ports['FLINK_UI_PORT']}" in out
        check_output(out)
        jobs = {j["name"]: j["state"] for j in rest(int(ports["FLINK_UI_PORT"]), "/jobs/overview")["jobs"]}
        assert jobs == {"WordCount": "FINISHED", "StateCount": "RUNNING"}, jobs
        version = rest(int(ports["FLINK_UI_PORT"]), "/overview")["flink-version"]
        assert version == release, f"the cluster runs Flink {version}, not {release}"
    finally:
        down = subprocess.run(["make", "down"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert down.returncode == 0, down.stderr


def port_free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("release", RELEASES)
def test_docker_run_first_job_as_the_readme_says(release):
    block = readme_block("docker run")
    if release != RELEASES[0]:
        block = re.sub(r" flink-appliance$", f" flink-appliance:{release}", block, flags=re.M)
    name = re.search(r"--name (\S+)", block).group(1)
    assert port_free(8081), "127.0.0.1:8081 is taken: the README's docker run publishes it"
    docker("rm", "-f", name, check=False)
    try:
        out = run_block(block, base_env(release), 900)
        check_output(out)
        assert docker("ps", "-aq", "--filter", f"name=^{name}$").stdout.strip() == "", "the block's container is left"
    finally:
        docker("rm", "-f", name, check=False)
