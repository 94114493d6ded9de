"""Roles against the real Flink distribution (make flink-dist): registration,
a real job, stopping, restarts, the Marathon environment, privileges and bad
configuration. Every JVM started here is a descendant of the test process
and is killed by the `sup` fixture if a test fails."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ROOT, descendants, fake_flink_home, free_port, rest, wait_for
from support import makefile_var
from test_health import get

FLINK_HOME = ROOT / "build" / "flink"
# Every Flink line the appliance is tested with (make flink-dist, flink-dist-2).
FLINK2 = makefile_var("FLINK2_VERSION")
FLINK_HOMES = {"1.20": FLINK_HOME, FLINK2.rsplit(".", 1)[0]: ROOT / "build" / f"flink-{FLINK2}"}
JOB_SOURCE = ROOT / "tests" / "integration" / "job" / "CountJob.java"
SMALL = ["-Djobmanager.memory.process.size=1024m", "-Dtaskmanager.memory.process.size=1024m"]


@pytest.fixture(scope="module", autouse=True)
def flink_homes():
    for home in FLINK_HOMES.values():
        if not (home / "bin" / "jobmanager.sh").exists():
            pytest.fail(f"{home} is missing: run make flink-dist flink-dist-2 (make test does)")


def compile_job(home, out):
    dist = next((home / "lib").glob("flink-dist*.jar"))
    subprocess.run(["javac", "-d", str(out / "classes"), "-cp", str(dist), str(JOB_SOURCE)], check=True)
    subprocess.run(["jar", "cfe", str(out / "count.jar"), "CountJob", "-C", str(out / "classes"), "."], check=True)
    return out / "count.jar"


def java_pids(root):
    out = []
    for pid in descendants(root):
        try:
            if b"java" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]:
                out.append(pid)
        except OSError:
            pass
    return out


def flink_env(tmp_path, name, **extra):
    env = {"FLINK_HOME": str(FLINK_HOME), "FLINK_LOG_DIR": str(tmp_path),
           "SUPERVISOR_CONF_DIR": str(tmp_path / f"conf-{name}"), "SUPERVISOR_STOP_TIMEOUT": "20"}
    env.update(extra)
    return env


class Cluster:
    def __init__(self, sup, tmp_path, home=FLINK_HOME):
        self.sup, self.tmp, self.home = sup, tmp_path, home
        self.rest, self.rpc, self.blob = free_port(), free_port(), free_port()

    def jm_args(self):
        return [f"-Drest.port={self.rest}", f"-Djobmanager.rpc.port={self.rpc}", f"-Dblob.server.port={self.blob}"]

    def jobmanager(self, **env):
        return self.sup(["jobmanager"] + self.jm_args() + SMALL,
                        flink_env(self.tmp, "jm", FLINK_HOME=str(self.home), **env))

    def taskmanager(self, *args, **env):
        return self.sup(["taskmanager", f"-Djobmanager.rpc.port={self.rpc}"] + SMALL + list(args),
                        flink_env(self.tmp, "tm", FLINK_HOME=str(self.home), **env))

    def taskmanagers(self):
        reply = rest(self.rest, "/taskmanagers")
        return reply["taskmanagers"] if reply else []

    def wait_registered(self, check=lambda tms: len(tms) >= 1, timeout=120):
        # Flink lists a TaskManager at registration and counts its slots at
        # its slot report a moment later (slotsNumber 0 until then: seen in CI).
        def ready():
            tms = self.taskmanagers()
            return check(tms) and all(t["slotsNumber"] > 0 for t in tms) and tms
        return wait_for(ready, timeout, 0.5, what="TaskManager registered with its slots")


def stop_and_check(s, timeout=40):
    s.signal(signal.SIGTERM)
    code = s.wait(timeout)
    assert code in (0, 128 + signal.SIGTERM), s.log()
    assert not java_pids(s.pid)
    return code


@pytest.mark.parametrize("line", list(FLINK_HOMES))
def test_taskmanager_registers_a_job_runs_and_sigterm_stops_everything(sup, tmp_path, line):
    home = FLINK_HOMES[line]
    count_jar = compile_job(home, tmp_path)
    c = Cluster(sup, tmp_path, home)
    jm = c.jobmanager()
    tm = c.taskmanager("-Dtaskmanager.resource-id=tm-e2e")
    tms = c.wait_registered()
    assert tms[0]["id"] == "tm-e2e"
    assert rest(c.rest, "/overview")["flink-version"].startswith(line + ".")
    run = subprocess.run([str(home / "bin" / "flink"), "run", str(count_jar), "1000"],
                         env={**os.environ, "FLINK_CONF_DIR": str(tmp_path / "conf-jm"), "FLINK_LOG_DIR": str(tmp_path)},
                         capture_output=True, text=True, timeout=180)
    assert "sum=1001000" in run.stdout, run.stdout + run.stderr
    jobs = rest(c.rest, "/jobs/overview")["jobs"]
    assert [j["state"] for j in jobs] == ["FINISHED"]
    assert java_pids(jm.pid) and java_pids(tm.pid)
    started = time.monotonic()
    stop_and_check(tm)
    stop_and_check(jm)
    assert time.monotonic() - started < 40
    assert not [p for p in java_pids(os.getpid())], "a JVM outlived its supervisor"


def test_local_role_runs_jobmanager_and_taskmanager_in_one_supervisor(sup, tmp_path):
    c = Cluster(sup, tmp_path)
    s = sup(["local"] + c.jm_args() + SMALL, flink_env(tmp_path, "local"))
    c.wait_registered()
    log = s.log()
    assert "child=jobmanager" in log and "child=taskmanager" in log
    assert len(java_pids(s.pid)) == 2
    stop_and_check(s)


def test_killed_taskmanager_jvm_is_restarted_and_registers_again(sup, tmp_path):
    c = Cluster(sup, tmp_path)
    c.jobmanager()
    tm = c.taskmanager("-Dtaskmanager.resource-id=tm-restart", SUPERVISOR_BACKOFF_MIN_MS="100")
    (before,) = c.wait_registered()
    (old,) = java_pids(tm.pid)
    os.kill(old, signal.SIGKILL)
    tm.wait_log("event=child.restart_scheduled", timeout=30)
    wait_for(lambda: [p for p in java_pids(tm.pid) if p != old], timeout=60, what="a new TaskManager JVM")
    # The JobManager keeps the dead JVM's entry until its heartbeat times
    # out; the new JVM registers under the same id from a new RPC endpoint.
    wait_for(lambda: any(t["id"] == "tm-restart" and t["path"] != before["path"] for t in c.taskmanagers()),
             timeout=120, interval=0.5, what="re-registration from the new JVM")
    assert tm.proc.poll() is None
    assert f"code={128 + signal.SIGKILL}" in tm.log()
    assert tm.log().count("event=child.started") == 2
    stop_and_check(tm)


def test_marathon_environment_sets_ports_and_resource_id(sup, tmp_path):
    c = Cluster(sup, tmp_path)
    tm_rpc, tm_data = free_port(), free_port()
    task_id = "flink_taskmanager.instance-6f1e2d._app.1"
    jm = sup(["jobmanager"] + SMALL, flink_env(tmp_path, "jm", HOST="localhost", PORT_REST=str(c.rest),
                                               PORT_RPC=str(c.rpc), PORT_BLOB=str(c.blob)))
    tm = sup(["taskmanager"] + SMALL,
             flink_env(tmp_path, "tm", HOST="localhost", PORT_RPC=str(tm_rpc), PORT_DATA=str(tm_data),
                       MESOS_TASK_ID=task_id, MARATHON_APP_RESOURCE_CPUS="2.0",
                       JOB_MANAGER_RPC_ADDRESS="localhost", FLINK_PROPERTIES=f"jobmanager.rpc.port: {c.rpc}"))
    (t,) = c.wait_registered()
    assert t["id"] == task_id
    assert t["dataPort"] == tm_data
    assert f":{tm_rpc}/" in t["path"]
    assert t["slotsNumber"] == 2
    config = {e["key"]: e["value"] for e in rest(c.rest, "/jobmanager/config")}
    assert config["jobmanager.rpc.port"] == str(c.rpc)
    assert config["blob.server.port"] == str(c.blob)
    assert config["rest.port"] == str(c.rest)
    stop_and_check(tm)
    stop_and_check(jm)


def test_jvm_runs_as_the_configured_user(sup):
    # Directories the unprivileged JVM must reach: not under pytest's 0700 tmp.
    base = Path(tempfile.mkdtemp(prefix="flink-user-"))
    try:
        base.chmod(0o755)
        c = Cluster(sup, base)
        s = sup(["jobmanager"] + c.jm_args() + SMALL,
                {"FLINK_HOME": str(FLINK_HOME), "FLINK_LOG_DIR": str(base / "log"),
                 "SUPERVISOR_CONF_DIR": str(base / "conf"), "SUPERVISOR_USER": "nobody"})
        wait_for(lambda: rest(c.rest, "/overview"), timeout=120, interval=0.5, what="REST")
        (pid,) = java_pids(s.pid)
        uid = [l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith("Uid:")][0]
        assert uid.split()[1:] == ["65534"] * 4
        # The config directory stays root's: the JVM reads it through its group.
        conf = (base / "conf").stat()
        assert (conf.st_uid, conf.st_gid) == (0, 65534)
        assert (base / "log").stat().st_uid == 65534
        stop_and_check(s)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def fake_home(tmp_path):
    """A FLINK_HOME with only what is read before anything starts."""
    return fake_flink_home(tmp_path)


@pytest.mark.parametrize("text,needle", [
    ("jobmanager:\n  rpc: [unclosed\n", "config.yaml: line "),
    ("- a\n- b\n", "config.yaml: line 1: the document is not a mapping"),
    ("a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
     "d: &d {p: *c, q: *c, r: *c, s: *c, t: *c, u: *c, v: *c, w: *c, x: *c, y: *c}\n"
     "e: {p: *d, q: *d, r: *d, s: *d, t: *d, u: *d, v: *d, w: *d, x: *d, y: *d}\n", "config.yaml: line "),
    ("a: " + "x" * (1024 * 1024) + "\n", "larger than 1 MiB"),
])
def test_bad_conf_file_exits_2_naming_it(sup, fake_home, text, needle):
    (fake_home / "conf" / "config.yaml").write_text(text)
    s = sup(["jobmanager"], {"FLINK_HOME": str(fake_home)})
    assert s.wait() == 2
    lines = s.log().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines


@pytest.mark.parametrize("env,needle", [
    ({"FLINK_PROPERTIES": "parallelism.default: 2\nno separator"}, "FLINK_PROPERTIES line 2: \"no separator\" is not a setting"),
    ({"PORT_RPC": "31x"}, 'invalid PORT_RPC="31x": expected a port number from 1 to 65535'),
    ({"FLINK_ROLE": "jobmaster"}, 'unknown role "jobmaster" (from FLINK_ROLE)'),
    ({"SUPERVISOR_USER": "no-such-user-here"}, 'invalid SUPERVISOR_USER="no-such-user-here": expected an existing user'),
])
def test_bad_input_exits_2_before_anything_starts(sup, fake_home, env, needle):
    (fake_home / "conf" / "config.yaml").write_text("parallelism.default: 1\n")
    args = [] if "FLINK_ROLE" in env else ["taskmanager"]
    s = sup(args, {"FLINK_HOME": str(fake_home), **env})
    assert s.wait() == 2
    lines = [l for l in s.log().splitlines() if "level=warn" not in l]
    assert len(lines) == 1 and needle in lines[0], lines


def test_missing_distribution_exits_2(sup, tmp_path):
    s = sup(["jobmanager"], {"FLINK_HOME": str(tmp_path / "nowhere")})
    assert s.wait() == 2
    assert "expected a Flink distribution" in s.log()


def test_print_config_masks_secrets_and_names_sources(sup, fake_home):
    (fake_home / "conf" / "config.yaml").write_text("rest:\n  port: 8082\nparallelism.default: 1\n")
    s = sup(["--print-config", "jobmanager", "-Dparallelism.default=7"],
            {"FLINK_HOME": str(fake_home), "FLINK_PROPERTIES": "s3.secret-key: hunter2\nstate.backend.type: rocksdb",
             "PORT_REST": "31002", "recovery.zookeeper.path.mesos-workers": "x"})
    assert s.wait() == 0
    out = s.stdout()
    assert "hunter2" not in out and "hunter2" not in s.log()
    assert 's3.secret-key: "******"  # from: env' in out
    assert "rest.port: 31002  # from: mesos" in out
    assert "parallelism.default: 7  # from: arg" in out
    assert "state.backend.type: rocksdb  # from: env" in out
    assert "rest.bind-address: 0.0.0.0  # from: default" in out


def test_mesos_era_key_is_dropped_with_a_warning(sup, fake_home):
    (fake_home / "conf" / "config.yaml").write_text("recovery.zookeeper.path.mesos-workers: /mesos-workers\n"
                                                    "high-availability: zookeeper\n")
    s = sup(["--print-config", "jobmanager"], {"FLINK_HOME": str(fake_home)})
    assert s.wait() == 0
    assert "mesos-workers" not in s.stdout()
    assert "high-availability: zookeeper  # from: file" in s.stdout()
    assert "recovery.zookeeper.path.mesos-workers has no effect: Marathon, not a worker store" in s.log()


def test_seed_keys_configure_the_appmaster_and_only_it(sup, fake_home):
    seed = ["-Dmesos.master=leader.mesos:5050", "-Dmesos.initial-tasks=2"]
    am = sup(["--print-config", "appmaster"] + seed, {"FLINK_HOME": str(fake_home)})
    assert am.wait() == 0, am.log()
    assert "mesos.master: leader.mesos:5050  # from: arg" in am.stdout()
    assert "mesos.initial-tasks: 2  # from: arg" in am.stdout()
    assert "mesos." not in am.log()
    jm = sup(["--print-config", "jobmanager"] + seed, {"FLINK_HOME": str(fake_home)})
    assert jm.wait() == 0
    assert "mesos." not in jm.stdout()
    assert "mesos.initial-tasks configures the appmaster role's TaskManagers only: dropped" in jm.log()
    bad = sup(["--check", "appmaster", "-Dmesos.initial-tasks=many"], {"FLINK_HOME": str(fake_home)})
    assert bad.wait() == 2
    assert 'invalid mesos.initial-tasks="many": expected an integer from 0 to 10000' in bad.log()


def test_appmaster_with_ha_takes_its_cluster_id_from_the_app_id(sup, fake_home):
    env = {"FLINK_HOME": str(fake_home), "MARATHON_APP_ID": "/prod/flink/am",
           "FLINK_PROPERTIES": "high-availability.type: zookeeper"}
    am = sup(["--print-config", "appmaster"], env)
    assert am.wait() == 0, am.log()
    assert "high-availability.cluster-id: prod/flink/am  # from: mesos" in am.stdout()
    own = sup(["--print-config", "appmaster", "-Dhigh-availability.cluster-id=mine"], env)
    assert own.wait() == 0
    assert "high-availability.cluster-id: mine  # from: arg" in own.stdout()
    jm = sup(["--print-config", "jobmanager"], env)
    assert jm.wait() == 0
    assert "cluster-id" not in jm.stdout()


def test_check_validates_the_flink_configuration(sup, fake_home):
    (fake_home / "conf" / "config.yaml").write_text("parallelism.default: 1\n")
    ok = sup(["--check", "taskmanager"], {"FLINK_HOME": str(fake_home)})
    assert ok.wait() == 0
    assert "configuration ok" in ok.stdout()
    bad = sup(["--check", "taskmanager"], {"FLINK_HOME": str(fake_home), "FLINK_PROPERTIES": "x"})
    assert bad.wait() == 2


def test_appmaster_role_is_a_jobmanager(sup, tmp_path):
    c = Cluster(sup, tmp_path)
    s = sup(["appmaster"] + c.jm_args() + SMALL, flink_env(tmp_path, "am"))
    c.taskmanager()
    c.wait_registered()
    assert "child=jobmanager" in s.log()
    stop_and_check(s)


def test_history_server_role_serves_its_web_port(sup, tmp_path):
    port = free_port()
    archive = tmp_path / "archive"
    archive.mkdir()
    s = sup(["history-server", f"-Dhistoryserver.web.port={port}",
             f"-Dhistoryserver.archive.fs.dir=file://{archive}"], flink_env(tmp_path, "hs"))
    wait_for(lambda: rest(port, "/config"), timeout=120, interval=0.5, what="history server REST")
    assert "child=history-server" in s.log()
    stop_and_check(s)


def test_standalone_job_role_runs_its_job_and_exits_0(sup, tmp_path):
    c = Cluster(sup, tmp_path)
    jar = compile_job(FLINK_HOME, tmp_path)
    tm = c.taskmanager()
    job = sup(["standalone-job", "--job-classname", "CountJob", "--jars", f"file://{jar}"]
              + c.jm_args() + SMALL, flink_env(tmp_path, "job"))
    # The application cluster ends itself when its job is done.
    assert job.wait(timeout=180) == 0, job.log()
    assert "sum=1001000" in job.stdout()
    assert not java_pids(job.pid)
    stop_and_check(tm)


def test_ha_failover_between_two_jobmanagers_through_zookeeper(sup, tmp_path):
    from zkserver import ZooKeeper
    zk = ZooKeeper(tmp_path).start()
    client = zk.client()
    try:
        client.ensure_path("/flink/config")
        # One document and one variable (FLINK_ZK_QUORUM) configure HA for everyone.
        client.set("/flink/config", (f"high-availability.type: zookeeper\n"
                                     f"high-availability.storageDir: file://{tmp_path}/ha\n"
                                     f"high-availability.cluster-id: e2e\n"
                                     f"high-availability.zookeeper.client.session-timeout: 4000\n"
                                     f"high-availability.zookeeper.client.connection-timeout: 4000\n").encode())
        # A killed JobManager stays down for the test: the standby must take over.
        env = {"FLINK_ZK_QUORUM": zk.hosts, "FLINK_ZK_CACHE_DIR": str(tmp_path / "cache"),
               "SUPERVISOR_BACKOFF_MIN_MS": "600000", "SUPERVISOR_BACKOFF_MAX_MS": "600000"}
        a, b = Cluster(sup, tmp_path / "a"), Cluster(sup, tmp_path / "b")
        for c in (a, b):
            c.tmp.mkdir()
        health = {a.rest: free_port(), b.rest: free_port()}
        jms = {c.rest: c.jobmanager(SUPERVISOR_HEALTH_PORT=str(health[c.rest]), SUPERVISOR_PROBE_INTERVAL="1", **env)
               for c in (a, b)}
        # Its jobmanager.rpc.address is localhost's default 8081, where no
        # JobManager serves: only the leader node in ZooKeeper can lead its
        # probe to the right REST.
        tm_health = free_port()
        tm = a.taskmanager("-Dtaskmanager.resource-id=tm-ha", SUPERVISOR_HEALTH_PORT=str(tm_health),
                           SUPERVISOR_PROBE_INTERVAL="1", **env)

        def leading():
            """The cluster whose REST address Flink published as the leader's."""
            try:
                info = client.get("/flink/e2e/leader/rest_server/connection_info")[0]
            except Exception:
                return None
            return next((c for c in (a, b) if f"localhost:{c.rest}".encode() in info), None)

        def registered_with(c):
            return leading() is c and any(t["id"] == "tm-ha" for t in c.taskmanagers())

        first = wait_for(lambda: leading(), timeout=120, interval=0.5, what="a leader")
        wait_for(lambda: registered_with(first), timeout=120, interval=0.5, what="the TaskManager registered")
        standby = b if first is a else a
        # /ready is the leader's alone; the standby is alive but not ready.
        wait_for(lambda: get(health[first.rest], "/ready")[0] == 200, timeout=30, what="the leader ready")
        wait_for(lambda: get(health[standby.rest], "/ready")[0] == 503 and get(health[standby.rest], "/health")[0] == 200,
                 timeout=30, what="the standby alive, not ready")
        wait_for(lambda: get(tm_health, "/ready")[0] == 200, timeout=30, what="the TaskManager ready through the leader")
        assert f"url=http://localhost:{first.rest}/taskmanagers" in tm.log()
        (jvm,) = java_pids(jms[first.rest].pid)
        os.kill(jvm, signal.SIGKILL)
        wait_for(lambda: registered_with(standby), timeout=120, interval=0.5,
                 what="the standby leading with the TaskManager registered to it")
        assert not java_pids(jms[first.rest].pid), "the killed JobManager came back during the test"
        wait_for(lambda: get(health[standby.rest], "/ready")[0] == 200, timeout=30, what="the new leader ready")
        wait_for(lambda: f"event=probe.ready ready=yes url=http://localhost:{standby.rest}/taskmanagers" in tm.log(),
                 timeout=30, what="the TaskManager's probe following the new leader")
        assert get(tm_health, "/ready")[0] == 200
        for s in (tm, jms[standby.rest]):
            stop_and_check(s)
        jms[first.rest].signal(signal.SIGTERM)
        assert jms[first.rest].wait(30) == 128 + signal.SIGKILL  # its last run ended by SIGKILL
    finally:
        client.stop()
        zk.stop()


def test_ready_follows_flink_registration_and_leadership(sup, tmp_path):
    """/ready: 503 until the JobManager's REST answers (it leads alone), and
    for a TaskManager until the JobManager lists it under its resource id.
    /health stays 200 for a TaskManager whose JobManager is away."""
    c = Cluster(sup, tmp_path)
    jm_health, tm_health = free_port(), free_port()
    probe = {"SUPERVISOR_PROBE_INTERVAL": "1"}
    # The TaskManager asks the JobManager's REST: the cluster's rest.port tells it where.
    tm = c.taskmanager("-Dtaskmanager.resource-id=tm-ready", f"-Drest.port={c.rest}",
                       SUPERVISOR_HEALTH_PORT=str(tm_health), **probe)
    tm.wait_log("event=health.serving")
    wait_for(lambda: get(tm_health, "/health")[0] == 200, timeout=30, what="the TaskManager alive")
    assert get(tm_health, "/ready")[0] == 503, "ready without a JobManager"
    jm = c.jobmanager(SUPERVISOR_HEALTH_PORT=str(jm_health), **probe)
    jm.wait_log("event=health.serving")
    assert get(jm_health, "/ready")[0] == 503, "ready before the JVM serves"
    wait_for(lambda: get(jm_health, "/ready")[0] == 200, timeout=120, interval=0.5, what="the JobManager ready")
    assert get(jm_health, "/health")[0] == 200
    wait_for(lambda: get(tm_health, "/ready")[0] == 200, timeout=120, interval=0.5, what="the TaskManager ready")
    assert any(t["id"] == "tm-ready" for t in c.taskmanagers())
    assert get(tm_health, "/health")[0] == 200
    stop_and_check(jm)
    wait_for(lambda: get(tm_health, "/ready")[0] == 503, timeout=30, what="the TaskManager not ready without its JobManager")
    assert get(tm_health, "/health")[0] == 200, "a TaskManager is not killed for its JobManager's absence"
    stop_and_check(tm)


def test_unanswering_jobmanager_turns_unhealthy_after_the_grace(sup, tmp_path):
    """A JVM that stops answering (SIGSTOP) is unhealthy once the grace is
    over and the failures in a row add up; it is healthy again when it answers."""
    c = Cluster(sup, tmp_path)
    port = free_port()
    jm = c.jobmanager(SUPERVISOR_HEALTH_PORT=str(port), SUPERVISOR_PROBE_INTERVAL="1", SUPERVISOR_PROBE_TIMEOUT="1",
                      SUPERVISOR_PROBE_GRACE="0", SUPERVISOR_PROBE_FAILURES="2")
    wait_for(lambda: get(port, "/ready")[0] == 200, timeout=120, interval=0.5, what="the JobManager ready")
    (jvm,) = java_pids(jm.pid)
    os.kill(jvm, signal.SIGSTOP)
    try:
        wait_for(lambda: get(port, "/health")[0] == 503, timeout=30, what="unhealthy while the JVM does not answer")
        assert get(port, "/ready")[0] == 503
    finally:
        os.kill(jvm, signal.SIGCONT)
    wait_for(lambda: get(port, "/health")[0] == 200 and get(port, "/ready")[0] == 200, timeout=30, what="healthy again")
    stop_and_check(jm)


def test_restarted_taskmanager_is_ready_again_only_under_its_new_id(sup, tmp_path):
    """Without a configured resource id the supervisor gives each JVM a new
    one (as Flink does): the dead JVM's entry, which the JobManager keeps
    until its heartbeat times out, must not make the new JVM ready."""
    c = Cluster(sup, tmp_path)
    c.jobmanager()
    port = free_port()
    tm = c.taskmanager(f"-Drest.port={c.rest}", SUPERVISOR_HEALTH_PORT=str(port), SUPERVISOR_PROBE_INTERVAL="1",
                       SUPERVISOR_BACKOFF_MIN_MS="100")
    wait_for(lambda: get(port, "/ready")[0] == 200, timeout=120, interval=0.5, what="the TaskManager ready")
    (first,) = [t["id"] for t in c.taskmanagers()]
    (old,) = java_pids(tm.pid)
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: get(port, "/ready")[0] == 503, timeout=30, what="not ready while the JVM restarts")
    wait_for(lambda: [p for p in java_pids(tm.pid) if p != old], timeout=60, what="a new TaskManager JVM")
    wait_for(lambda: get(port, "/ready")[0] == 200, timeout=120, interval=0.5, what="ready again")
    ids = {t["id"] for t in c.taskmanagers()}
    assert ids - {first}, f"ready before the new JVM registered: {ids}"
    assert all(i.startswith(socket.gethostname()) for i in ids)
    stop_and_check(tm)
