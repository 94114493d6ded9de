"""The Application Master's test cluster, for the tests and the
benchmarks: a ZooKeeper, the Marathon double running every task as a real
process (the supervisor, with the real Flink of make flink-dist), and the
seed's app conf/marathon/appmaster.json pointed at both."""
import json
import os
import subprocess
import time
import urllib.request

import oracle
from conftest import BIN, ROOT, reap_everything, rest, wait_for
from support import example_jar
from marathon_double import MarathonDouble, command_launcher
from zkserver import ZooKeeper

FLINK_HOME = ROOT / "build" / "flink"

SEED = ROOT / "conf" / "marathon" / "appmaster.json"
AM = "/flink/appmaster"
TM = AM + "-taskmanagers"
BROKEN = "flink-appliance:broken"
# Idle TaskManagers go 5 s after their last slot is freed (Flink's key).
FAST = ["-Dresourcemanager.taskmanager-timeout=5 s", "-Djobmanager.memory.process.size=768m"]


def argv(app):
    """What the image runs: the supervisor with the app's args, or, for an
    image that cannot start, a command that fails at once."""
    if app["container"]["docker"]["image"] == BROKEN:
        return ["/bin/sh", "-c", "echo this image cannot start >&2; exit 1"]
    return [str(BIN)] + app.get("args", [])


class Cluster:
    """Started by start(tmp); close() ends every process, also after a failure."""

    def __init__(self, tmp, zk, double):
        self.tmp, self.zk, self.double = tmp, zk, double

    @classmethod
    def start(cls, tmp):
        zk = ZooKeeper(tmp).start()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "FLINK_HOME": str(FLINK_HOME), "FLINK_LOG_DIR": str(tmp)}
        env.update({k: v for k, v in os.environ.items() if k in ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS")})
        try:
            double = MarathonDouble(launcher=command_launcher(argv, env)).start()
        except BaseException:
            zk.stop()
            raise
        return cls(tmp, zk, double)

    def close(self):
        try:
            self.double.shutdown()
        finally:
            self.zk.stop()
            reap_everything()

    def deploy(self, *args, instances=1, env=None, drop=()):
        """The seed's app, pointed at this ZooKeeper and this Marathon; args
        added, the seed's args starting with one of drop left out, env added."""
        app = json.loads(SEED.read_text())
        app["instances"] = instances
        app["args"] = [a for a in app["args"] if not a.startswith(tuple(drop))] if drop else app["args"]
        app["env"].update(env or {})
        del app["container"]["volumes"]
        # Every task runs on this one host: container ports equal to host ports.
        for m in app["container"]["portMappings"]:
            m["containerPort"] = 0
        app["args"] = [a.replace("master.mesos:2181", self.zk.hosts).replace("file:///flink-ha", f"file://{self.tmp}/ha")
                       for a in app["args"]] + FAST + list(args)
        app["env"]["MARATHON_URL"] = self.double.url
        app["env"]["FLINK_ZK_QUORUM"] = self.zk.hosts
        self.double.add_app(app)
        return app

    def tasks(self, app_id):
        try:
            return self.double.tasks(app_id)
        except KeyError:
            return []

    def port(self, task, name):
        names = ["rest", "rpc", "blob", "health"]
        return task["ports"][names.index(name)]

    def leader(self, timeout=120):
        """The appmaster task that leads, once its REST answers as leader."""
        def find():
            for t in self.tasks(AM):
                if "state=leading" in self.double.task_log(t["id"]):
                    return t
            return None
        return wait_for(find, timeout, 0.5, what="an appmaster leading")

    def taskmanagers(self, task):
        reply = rest(self.port(task, "rest"), "/taskmanagers")
        return reply["taskmanagers"] if reply else []

    def tm_app(self):
        try:
            return self.double.app(TM)
        except KeyError:
            return None

    def wait_registered(self, leader, n, timeout=180):
        # Slots count from a TaskManager's slot report, a moment after it is listed.
        def ready():
            tms = self.taskmanagers(leader)
            return len(tms) == n and all(t["slotsNumber"] > 0 for t in tms) and tms
        return wait_for(ready, timeout, 0.5, what=f"{n} TaskManager(s) registered with their slots")

    def health(self, task):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port(task, 'health')}/health", timeout=5) as r:
            return json.loads(r.read())

    def writes(self):
        return [r for r in self.double.writes(TM)]


def compile_stream_job(out):
    return example_jar(FLINK_HOME, out / "examples", "StateCount")


def submit(c, leader, parallelism):
    """A detached endless job of the given parallelism (one slot sharing
    group: it needs that many slots). Returns its id."""
    jar = compile_stream_job(c.tmp)
    run = subprocess.run([str(FLINK_HOME / "bin" / "flink"), "run", "-d", "-m", f"127.0.0.1:{c.port(leader, 'rest')}",
                          "-p", str(parallelism), str(jar)],
                         env={**os.environ, "FLINK_LOG_DIR": str(c.tmp)}, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    jobs = rest(c.port(leader, "rest"), "/jobs/overview")["jobs"]
    return jobs[-1]["jid"]


def running(c, leader, jid):
    """Every subtask of the job runs (a vertex counts as RUNNING with one)."""
    job = rest(c.port(leader, "rest"), f"/jobs/{jid}")
    return job and job["state"] == "RUNNING" and all(
        n == 0 for v in job["vertices"] for state, n in v["tasks"].items() if state != "RUNNING")


def cancel(c, leader, jid):
    req = urllib.request.Request(f"http://127.0.0.1:{c.port(leader, 'rest')}/jobs/{jid}?mode=cancel", method="PATCH")
    urllib.request.urlopen(req, timeout=10).close()


def check_bodies(c):
    """Every write the appmasters sent: accepted, never forced, and within
    Marathon's own rules (the oracle), as a whole app or a partial update."""
    for r in c.double.requests:
        if r.method in ("POST", "PUT", "PATCH", "DELETE") and r.app_id == TM:
            assert r.status != 422, r.body
            assert not r.forced
            if r.body:
                assert oracle.errors(r.body.decode(), r.method != "POST") == [], r.body
