"""Job clusters end to end: `flink-supervisor run-job`, `stop-job` and
`list-jobs` against the Marathon double that runs every task as a real
process (the appmaster in application mode with the real Flink of make
flink-dist, its TaskManagers), with a real ZooKeeper for HA. Every body
the client and the appmasters send is held to Marathon's own rules (the
oracle) when each test ends."""
import re
import signal
import subprocess
import time

import pytest

import oracle
from amcluster import FLINK_HOME, Cluster
from conftest import BIN, free_port, wait_for
from marathon_double import MarathonDouble
from support import example_jar

GROUP = "/jobs/wc"
JM = GROUP + "/jobmanager"
TMS = JM + "-taskmanagers"


@pytest.fixture
def cluster(tmp_path):
    c = Cluster.start(tmp_path)
    try:
        yield c
        for r in c.double.requests:
            if r.method in ("POST", "PUT", "PATCH") and r.body:
                assert oracle.errors(r.body.decode(), r.method != "POST") == [], (r.method, r.path, r.body)
            assert not r.forced or r.method == "DELETE", (r.method, r.path)
    finally:
        c.close()


def jar(c, job):
    return f"file://{example_jar(FLINK_HOME, c.tmp / 'examples', job)}"


def ha(c):
    """HA in the test's ZooKeeper, and a JobManager and TaskManagers small
    enough for the test machine."""
    return [f"-Dhigh-availability.type=zookeeper", f"-Dhigh-availability.zookeeper.quorum={c.zk.hosts}",
            f"-Dhigh-availability.storageDir=file://{c.tmp}/ha", "-Djobmanager.memory.process.size=768m",
            "-Dresourcemanager.taskmanager-timeout=5 s"]


def client(*args, marathon=None, timeout=300):
    command, *rest = args
    run = subprocess.run([str(BIN), command] + (["--marathon", marathon] if marathon else []) + rest,
                         capture_output=True, text=True, timeout=timeout)
    return run.returncode, run.stdout, run.stderr


def run_job(c, *args, group=GROUP, timeout=300):
    return client("run-job", "--id", group, *args, marathon=c.double.url, timeout=timeout)


def gone(c, group=GROUP):
    return not [a for a in c.double.app_ids() if a.startswith(group + "/")]


def test_a_bounded_job_runs_to_its_end_through_run_job_and_its_cluster_is_gone(cluster):
    c = cluster
    code, out, err = run_job(c, "--jar", jar(c, "WordCount"), *ha(c))
    assert code == 0, out + err
    states = re.findall(r"job [0-9a-f]{32} ([A-Z]+)$", out, re.M)
    assert states[-1] == "FINISHED", out
    assert re.search(r"^\[ *[0-9.]+s\] removed the job cluster /jobs/wc$", out, re.M), out
    assert gone(c)
    assert len(c.double.launched(JM)) == 1, "the finished job's JobManager never ran twice"
    assert len(c.double.launched(TMS)) >= 1, "its TaskManagers came from its own appmaster"
    posted = [r for r in c.double.requests if r.method == "POST" and r.path == "/v2/groups"]
    assert len(posted) == 1
    app = posted[0].json()["apps"][0]
    assert app["id"] == JM and app["labels"] == {"FLINK_APPLIANCE_JOB_CLUSTER": GROUP}
    assert app["fetch"][0]["uri"].endswith("/WordCount.jar")
    assert app["args"][-2:] == ["--jars", "WordCount.jar"]
    assert app["env"]["SUPERVISOR_JOB_GROUP"] == GROUP and app["env"]["FLINK_ZK_QUORUM"] == c.zk.hosts
    assert "-Dhigh-availability.cluster-id=jobs_wc" in app["args"]
    # The checks are the ones registration wants: the JobManager was never
    # written to (a write would have restarted it).
    assert not [r for r in c.double.writes(JM) if r.method in ("PUT", "PATCH")]


def test_a_job_that_throws_exits_1_with_its_reason_and_its_cluster_is_gone(cluster):
    c = cluster
    code, out, err = run_job(c, "--jar", jar(c, "WordCount"), *ha(c), "--", "--input", "/nonexistent/words.txt")
    assert code == 1, out + err
    assert re.search(r"job [0-9a-f]{32} failed: .*caused by: java\.nio\.file\.NoSuchFileException: "
                     r"/nonexistent/words\.txt$", out, re.M), out
    assert gone(c)
    assert len(c.double.launched(JM)) == 1


def test_a_detached_job_s_cluster_is_removed_by_its_appmaster_when_the_job_ends(cluster, tmp_path):
    c = cluster
    code, out, err = run_job(c, "--detached", "--jar", jar(c, "ExactlyOnce"), "--env", "SUPERVISOR_JOB_LINGER=1",
                             *ha(c), "--", "--output", f"file://{tmp_path}/out", "--count", "300", "--rate", "20")
    assert code == 0, out + err
    assert re.search(r"runs; web UI http://127\.0\.0\.1:\d+$", out, re.M), out
    jid = out.strip().splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f]{32}", jid), out
    assert not gone(c), "detached: the cluster stays while the job runs"
    wait_for(lambda: gone(c), 180, 0.5, what="the appmaster removing its group once the job finished")
    (jm_task,) = c.double.launched(JM)
    # The double kills the group's tasks before it answers the DELETE, so
    # the appmaster may not live to log the answer: its decision it logs.
    assert "event=appmaster.decision action=remove" in c.double.task_log(jm_task)
    # The client had exited: the one DELETE is the appmaster's.
    assert [r.status for r in c.double.requests if r.method == "DELETE" and r.path == "/v2/groups" + GROUP] == [200]


def counts(text, key):
    return [int(n) for n in re.findall(rf"^key={key} count=(\d+)$", text, re.M)]


def tm_counts(c, key):
    return [counts(c.double.stdout(t), key) for t in c.double.launched(TMS)]


def test_stop_job_takes_a_savepoint_and_run_job_from_it_continues_the_counts(cluster, tmp_path):
    c = cluster
    job = ["--jar", jar(c, "StateCount"), *ha(c), "--", "--rate", "20", "--keys", "2", "--checkpoint-interval", "1000"]
    code, out, err = run_job(c, "--detached", *job)
    assert code == 0, out + err
    wait_for(lambda: any(len(n) >= 5 for n in tm_counts(c, 0)), 120, 0.5, what="counts printed")

    code, listed, err = client("list-jobs", marathon=c.double.url)
    assert code == 0, err
    assert re.search(rf"^{GROUP} +[0-9a-f]{{32}} +RUNNING +http://127\.0\.0\.1:\d+$", listed, re.M), listed

    code, out, err = client("stop-job", "--id", GROUP, "--savepoint", f"file://{tmp_path}/savepoints",
                            marathon=c.double.url)
    assert code == 0, out + err
    savepoint = re.search(r"savepoint: (\S+)$", out, re.M).group(1)
    assert savepoint.startswith(f"file:{tmp_path}/savepoints/savepoint-"), out
    assert (tmp_path / "savepoints" / savepoint.rsplit("/", 1)[1] / "_metadata").is_file()
    assert gone(c)
    before = max(max(n) for n in tm_counts(c, 0) if n)
    first_tms = len(c.double.launched(TMS))

    code, out, err = run_job(c, "--detached", "--from-savepoint", savepoint, *job)
    assert code == 0, out + err
    resumed = lambda: [n for n in tm_counts(c, 0)[first_tms:] if n]  # noqa: E731
    wait_for(resumed, 120, 0.5, what="counts printed by the upgraded job")
    first = resumed()[0][0]
    assert before < first <= before + 10, f"the count resumed at {first} after {before}: not from the savepoint"

    # Without a savepoint directory Flink refuses, and the job keeps running.
    code, out, err = client("stop-job", "--id", GROUP, marathon=c.double.url)
    assert code == 1 and "Flink refused the savepoint (HTTP 400)" in err and "the job keeps running" in err, out + err
    assert "Property [targetDirectory] must be provided" in err, "Flink's own reason: " + err
    assert not gone(c)


def test_a_savepoint_that_does_not_exist_is_a_failed_start_that_says_so(cluster, tmp_path):
    """Flink fails the job and then ends its JobManager (a fatal error of the
    application), so its supervisor restarts it until it gives up. The
    client either sees the FAILED job in the moment before (exit 1, with
    Flink's cause) or only the crash loop (exit 7, naming the likely cause)."""
    c = cluster
    code, out, err = run_job(c, "--jar", jar(c, "StateCount"), "--from-savepoint", f"file://{tmp_path}/no-such-savepoint",
                             "--env", "SUPERVISOR_MAX_RESTARTS=1", *ha(c))
    if code == 1:
        assert re.search(r"failed: .*caused by: java\.io\.FileNotFoundException: Cannot find checkpoint or savepoint "
                         r".*no-such-savepoint", out), out
    else:
        assert code == 7, out + err
        assert "status 111" in err and "expected a savepoint that exists" in err and err.count("\n") == 1, err
    assert gone(c)
    assert "Cannot find checkpoint or savepoint" in (c.tmp / "flink--standalonejob-0-vm.log").read_text()


def test_marathon_down_refusing_or_holding_the_group_is_one_clear_error_and_nothing_is_left(cluster):
    c = cluster
    args = ["--jar", jar(c, "WordCount"), *ha(c)]
    down = f"http://127.0.0.1:{free_port()}"
    code, out, err = client("run-job", "--id", GROUP, *args, marathon=down, timeout=60)
    assert code == 5 and err.count("\n") == 1 and "Marathon did not answer" in err, err

    c.double.token = "the-right-token"
    code, out, err = run_job(c, *args)
    assert code == 4 and "Marathon refused our credentials (HTTP 401)" in err and "MARATHON_TOKEN_FILE" in err, err
    c.double.token = None
    assert gone(c)

    other = {"id": GROUP + "/other", "cmd": "sleep 1000", "cpus": 0.1, "mem": 32, "instances": 0}
    c.double.add_app(other)
    code, out, err = run_job(c, *args)
    assert code == 4 and f"the group {GROUP} already exists" in err, err
    assert c.double.app_ids() == [GROUP + "/other"], "what was there is left as it was"


def test_a_jar_that_cannot_be_fetched_fails_the_start_and_the_group_is_removed(cluster):
    c = cluster
    code, out, err = run_job(c, "--jar", "file:///nonexistent/job.jar", *ha(c), timeout=120)
    assert code == 7, out + err
    assert "Failed to fetch all URIs" in err and err.count("\n") == 1, err
    assert gone(c)


def test_a_job_not_running_within_the_timeout_is_removed_with_exit_6(cluster):
    c = cluster
    # The JobManager takes seconds to start: 1 s is never enough.
    code, out, err = run_job(c, "--timeout", "1", "--jar", jar(c, "WordCount"), *ha(c), timeout=120)
    assert code == 6 and "within --timeout 1s" in err, out + err
    assert gone(c)


def test_sigint_detaches_and_the_job_keeps_running(cluster):
    c = cluster
    p = subprocess.Popen([str(BIN), "run-job", "--marathon", c.double.url, "--id", GROUP, "--jar", jar(c, "StateCount"),
                          *ha(c)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(line.endswith(" RUNNING\n") for line in lines):
            line = p.stdout.readline()
            if not line:
                break
            lines.append(line)
        assert any(line.endswith(" RUNNING\n") for line in lines), "".join(lines)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        p.kill()
        p.wait()
    assert p.returncode == 128 + signal.SIGINT, out + err
    assert f"detached on signal 2: the job cluster {GROUP} keeps running" in out
    assert f"flink-supervisor stop-job --id {GROUP}" in out
    assert not gone(c) and not [r for r in c.double.requests if r.method == "DELETE"]


@pytest.mark.parametrize("args, expected", [
    ([], "missing --id"),
    (["--id", "/jobs/x"], "missing --jar and --class"),
    (["--id", "jobs/x", "--jar", "/j.jar"], "invalid --id"),
    (["--id", "/jobs/x", "--jar", "j.jar"], "invalid --jar"),
    (["--id", "/jobs/x", "--jar", "/j.jar", "--allow-non-restored-state"], "without --from-savepoint"),
    (["--id", "/jobs/x", "--jar", "/j.jar", "--parallelism", "0"], "invalid --parallelism"),
    (["--id", "/jobs/x", "--jar", "/j.jar", "--drain"], "unknown option \"--drain\""),
    (["--id", "/jobs/x", "--jar", "/j.jar", "-Dnovalue"], "expected -Dkey=value"),
])
def test_bad_options_are_one_line_and_exit_2_before_marathon_is_asked(args, expected):
    with MarathonDouble() as double:
        code, out, err = client("run-job", *args, marathon=double.url, timeout=30)
        assert code == 2 and expected in err and err.count("\n") == 1, err
        assert not double.requests


def test_a_refusal_names_marathon_s_reason_and_creates_nothing():
    with MarathonDouble() as double:
        double.fail_next(422, {"message": "Object is not valid",
                               "details": [{"path": "/apps(0)/cpus", "errors": ["exceeds the quota of role *"]}]},
                         methods=("POST",))
        code, out, err = client("run-job", "--id", GROUP, "--jar", "https://h/j.jar", marathon=double.url, timeout=30)
        assert code == 4 and "Marathon refused the job cluster (HTTP 422)" in err and "exceeds the quota" in err, err
        assert err.count("\n") == 1 and double.app_ids() == []


def test_on_a_terminal_a_live_status_line_shows_what_it_waits_for():
    """The live line is for people: on a terminal only, rewritten in place."""
    import os
    import pty
    with MarathonDouble() as double:  # no launcher: the JobManager never comes
        leader, follower = pty.openpty()
        try:
            p = subprocess.Popen([str(BIN), "run-job", "--marathon", double.url, "--id", GROUP, "--jar", "https://h/j.jar",
                                  "--timeout", "3"], stdout=follower, stderr=subprocess.PIPE)
            os.close(follower)
            seen = b""
            while True:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # EIO: the client closed its end
                    break
                if not chunk:
                    break
                seen += chunk
            assert p.wait(timeout=30) == 6
        finally:
            os.close(leader)
        assert b"\r\x1b[K[" in seen and b"waiting for the JobManager task" in seen, seen
    with MarathonDouble() as double:
        code, out, err = client("run-job", "--id", GROUP, "--jar", "https://h/j.jar", "--timeout", "2",
                                marathon=double.url, timeout=30)
    assert code == 6 and "\r" not in out and "waiting" not in out, out
