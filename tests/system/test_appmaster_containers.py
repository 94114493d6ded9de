"""The Application Master in containers: the seed's app started by the
Marathon double as a container of the image, which creates its TaskManager
app, whose tasks are containers of the image too. Marathon and ZooKeeper
run on this host's loopback, so the containers share the host's network
(Marathon's HOST networking): every port is one the double assigned."""
import json
import os
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import IMAGE, docker, rest, wait_for
from support import example_jar

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from marathon_double import MarathonDouble  # noqa: E402
from zkserver import ZooKeeper  # noqa: E402

SEED = ROOT / "conf" / "marathon" / "appmaster.json"
AM = "/flink/appmaster"
TM = AM + "-taskmanagers"
FLINK_HOME = ROOT / "build" / "flink"


class DockerLauncher:
    """Runs a task as `docker run` of the app's image, attached: the docker
    client is the task's process (it passes SIGTERM on to the container),
    and the container goes with the test."""

    def __init__(self):
        self.prefix = f"fa-am-{uuid.uuid4().hex[:8]}"
        self.names = []

    def __call__(self, app, task_id, env, sandbox):
        name = f"{self.prefix}-{len(self.names)}"
        self.names.append(name)
        args = ["docker", "run", "--rm", "--name", name, "--network", "host", "--memory", f"{int(app['mem'])}m"]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        args += [app["container"]["docker"]["image"]] + app.get("args", [])
        with open(sandbox / "stdout", "ab") as out, open(sandbox / "stderr", "ab") as err:
            return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)

    def remove_all(self):
        for name in self.names:
            docker("rm", "-f", name, check=False)


@pytest.fixture
def seed_cluster(tmp_path):
    zk = ZooKeeper(tmp_path).start()
    launcher = DockerLauncher()
    double = MarathonDouble(launcher=launcher).start()
    try:
        yield zk, double
    finally:
        for app_id in (AM, TM):
            try:
                for t in double.tasks(app_id):
                    print(f"--- {t['id']} ---\n{double.task_log(t['id'])[-4000:]}")
            except KeyError:
                pass
        double.shutdown()
        launcher.remove_all()
        zk.stop()


def test_the_seed_app_runs_a_whole_cluster_in_containers(seed_cluster, tmp_path):
    zk, double = seed_cluster
    app = json.loads(SEED.read_text())
    del app["container"]["volumes"]
    # The containers share the host's network: container ports are host ports.
    for m in app["container"]["portMappings"]:
        m["containerPort"] = 0
    app["args"] = [a.replace("file:///flink-ha", "file:///tmp/flink-ha") for a in app["args"]] + [
        "-Djobmanager.memory.process.size=768m", "-Dresourcemanager.taskmanager-timeout=5 s"]
    app["env"].update({"FLINK_ZK_QUORUM": zk.hosts, "MARATHON_URL": double.url})
    double.add_app(app)
    am = wait_for(lambda: double.tasks(AM), 60, what="the appmaster container")[0]
    rest_port = am["ports"][0]
    wait_for(lambda: "state=leading" in double.task_log(am["id"]), 180, what="the appmaster leading")
    tms = wait_for(lambda: (r := rest(rest_port, "/taskmanagers")) and len(r["taskmanagers"]) == 1 and r["taskmanagers"],
                   240, what="the first TaskManager container registered")
    assert tms[0]["id"] == double.tasks(TM)[0]["id"]
    tm_app = double.app(TM)
    assert tm_app["container"]["docker"]["image"] == IMAGE

    jar = example_jar(FLINK_HOME, tmp_path / "examples", "StateCount")
    run = subprocess.run([str(FLINK_HOME / "bin" / "flink"), "run", "-d", "-m", f"127.0.0.1:{rest_port}", "-p", "2",
                          str(jar)], env={**os.environ, "FLINK_LOG_DIR": str(tmp_path)},
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    jid = rest(rest_port, "/jobs/overview")["jobs"][0]["jid"]

    def running():
        job = rest(rest_port, f"/jobs/{jid}")
        return job and job["state"] == "RUNNING" and all(
            n == 0 for v in job["vertices"] for s, n in v["tasks"].items() if s != "RUNNING")
    wait_for(running, 300, what="the job on two TaskManager containers")
    assert [(r.method, r.json()) for r in double.writes(TM) if r.method == "PATCH"] == [("PATCH", {"instances": 2})]

    cancel = urllib.request.Request(f"http://127.0.0.1:{rest_port}/jobs/{jid}?mode=cancel", method="PATCH")
    urllib.request.urlopen(cancel, timeout=10).close()
    wait_for(lambda: double.app(TM)["instances"] == 1 and len(double.tasks(TM)) == 1, 180,
             what="the idle TaskManager container released")
    kills = [r for r in double.writes(TM) if r.method == "DELETE"]
    assert len(kills) == 1 and kills[0].query.get("scale") == "true"
    assert all(r.status < 400 for r in double.writes(TM))

