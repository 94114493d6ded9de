"""`docker run` of the appliance image: local mode, health, users, PID 1,
docker stop, bad settings."""
import time

import pytest

from conftest import IMAGE, docker, inspect, published, rest, wait_for
from support import makefile_var

# The default release's image and the newest 2.x's (make test-system builds both).
RELEASES = {IMAGE: makefile_var("FLINK_DEFAULT"), f"flink-appliance:{makefile_var('FLINK2_VERSION')}": makefile_var("FLINK2_VERSION")}
IMAGES = list(RELEASES)


@pytest.mark.parametrize("image", IMAGES)
def test_local_mode_runs_healthy_non_root_and_stops_gracefully(containers, image):
    name = containers("-p", "127.0.0.1::8081", image, name="local")
    port = published(name, 8081)
    # A TaskManager is listed a moment before its slots are: wait for both.
    overview = wait_for(lambda: (o := rest(port, "/overview")) and o.get("taskmanagers") == 1
                        and o.get("slots-total", 0) >= 1 and o, 180, what="a TaskManager with its slots in /overview")
    assert overview["slots-total"] >= 1 and overview["flink-version"] == RELEASES[image]
    wait_for(lambda: inspect(name)["State"]["Health"]["Status"] == "healthy", 180, what="Docker health: healthy")
    ps = docker("exec", name, "ps", "-eo", "pid,user,args").stdout.splitlines()[1:]
    pid1 = [l for l in ps if l.split()[0] == "1"][0]
    assert "/usr/local/bin/flink-supervisor" in pid1
    javas = [l for l in ps if " java " in f" {l} " or "/java" in l]
    assert len(javas) == 2 and all(l.split()[1] == "flink" for l in javas), ps
    started = time.monotonic()
    docker("stop", "-t", "30", name)
    elapsed = time.monotonic() - started
    assert inspect(name)["State"]["ExitCode"] in (0, 143)
    assert elapsed < 15, f"docker stop took {elapsed:.1f}s: killed instead of stopped"
    logs = docker("logs", name).stderr
    assert "event=supervisor.exiting" in logs


@pytest.mark.parametrize("image", IMAGES)
def test_bad_setting_exits_2_with_the_reason_in_the_logs(containers, image):
    name = containers("-e", "SUPERVISOR_RESTART=sometimes", image, name="bad")
    wait_for(lambda: not inspect(name)["State"]["Running"], 60, what="the container to exit")
    assert inspect(name)["State"]["ExitCode"] == 2
    logs = docker("logs", name)
    assert 'invalid SUPERVISOR_RESTART="sometimes": expected one of always, on-failure, never' in logs.stderr


@pytest.mark.parametrize("image", IMAGES)
def test_print_config_in_the_image(containers, image):
    out = docker("run", "--rm", "-e", "FLINK_PROPERTIES=s3.secret-key: hunter2", image, "--print-config", "taskmanager")
    assert "taskmanager.bind-host: 0.0.0.0  # from: file" in out.stdout
    assert "hunter2" not in out.stdout + out.stderr
