"""Job-cluster figures for make bench (figures, not assertions): `run-job`
to the job RUNNING, split into its phases (Marathon accepting the group,
the JobManager's task started, its REST answering, a TaskManager
registered, every subtask RUNNING), beside `flink run` of the same job on
a session cluster that is up with its TaskManager already. The clusters
are the tests' (tests/integration/amcluster.py): real Flink and
ZooKeeper, the Marathon double running real tasks. BENCH_JOB_ROUNDS (3)
rounds each; the medians are reported."""
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from amcluster import BIN, FLINK_HOME, Cluster, rest, submit, wait_for  # noqa: E402
from support import example_jar  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_JOB_ROUNDS", "3"))
GROUP = "/bench/job"
JM = GROUP + "/jobmanager"


def say(msg):
    print(msg, file=sys.stderr, flush=True)


def stamp(iso):
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def all_running(port, jid):
    job = rest(port, f"/jobs/{jid}")
    return job and job["state"] == "RUNNING" and all(
        n == 0 for v in job["vertices"] for state, n in v["tasks"].items() if state != "RUNNING")


def job_cluster(tmp):
    """One run-job --detached of StateCount; the phases' end times."""
    c = Cluster.start(tmp)
    try:
        jar = example_jar(FLINK_HOME, tmp / "examples", "StateCount")
        args = [str(BIN), "run-job", "--marathon", c.double.url, "--id", GROUP, "--jar", f"file://{jar}", "--detached",
                "-Dhigh-availability.type=zookeeper", f"-Dhigh-availability.zookeeper.quorum={c.zk.hosts}",
                f"-Dhigh-availability.storageDir=file://{tmp}/ha", "-Djobmanager.memory.process.size=768m"]
        t0 = time.time()
        client = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        task = wait_for(lambda: c.tasks(JM) and c.tasks(JM)[0], 120, 0.02, what="the JobManager's task")
        port = task["ports"][0]
        rest_at = wait_for(lambda: rest(port, "/overview") and time.time(), 120, 0.02, what="the REST")
        tm_at = wait_for(lambda: (r := rest(port, "/taskmanagers")) and r["taskmanagers"] and time.time(), 180, 0.02,
                         what="a TaskManager")
        jid = wait_for(lambda: (r := rest(port, "/jobs/overview")) and r["jobs"] and r["jobs"][0]["jid"], 180, 0.02,
                       what="the job")
        run_at = wait_for(lambda: all_running(port, jid) and time.time(), 180, 0.02, what="every subtask running")
        assert client.wait(timeout=60) == 0
        posted = next(r.at for r in c.double.requests if r.method == "POST" and r.path == "/v2/groups")
        return {"accepted": posted - t0, "task": stamp(task["startedAt"]) - posted, "rest": rest_at - stamp(task["startedAt"]),
                "tm": tm_at - rest_at, "running": run_at - tm_at, "total": run_at - t0}
    finally:
        c.close()


def session(tmp):
    """flink run -d of the same job on a session cluster with its TaskManager up."""
    c = Cluster.start(tmp)
    try:
        c.deploy()
        leader = c.leader()
        c.wait_registered(leader, 1)
        example_jar(FLINK_HOME, tmp / "examples", "StateCount")
        t0 = time.time()
        jid = submit(c, leader, 1)
        wait_for(lambda: all_running(c.port(leader, "rest"), jid), 180, 0.02, what="every subtask running")
        return time.time() - t0
    finally:
        c.close()


def main():
    runs, sessions = [], []
    with tempfile.TemporaryDirectory() as t:
        for i in range(ROUNDS):
            say(f"job cluster: run-job --detached, round {i + 1} of {ROUNDS} ...")
            runs.append(job_cluster(Path(t) / f"job-{i}"))
            say(f"session cluster: flink run -d, round {i + 1} of {ROUNDS} ...")
            sessions.append(session(Path(t) / f"session-{i}"))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    flink_run = statistics.median(sessions)
    print("| phase of `run-job` (median of %d, s) | value |" % ROUNDS)
    print("| --- | --- |")
    print(f"| command start -> Marathon accepted the group | {med['accepted']:.2f} |")
    print(f"| group accepted -> the JobManager's task started | {med['task']:.2f} |")
    print(f"| task started -> JobManager REST answering | {med['rest']:.2f} |")
    print(f"| REST answering -> a TaskManager registered (created by the appmaster) | {med['tm']:.2f} |")
    print(f"| TaskManager registered -> every subtask RUNNING | {med['running']:.2f} |")
    print(f"| **run-job -> RUNNING** | **{med['total']:.2f}** |")
    print(f"| `flink run -d` -> RUNNING on a session cluster already up | {flink_run:.2f} |")
    print(f"| run-job / flink run | {med['total'] / flink_run:.2f} |")
    print()
    totals = ", ".join(f"{r['total']:.2f}" for r in runs)
    plain = ", ".join(f"{s:.2f}" for s in sessions)
    print(f"StateCount at parallelism 1, Flink 1.20, ZooKeeper HA; each round on a new cluster. A job cluster starts "
          f"a JobManager and a TaskManager JVM for its job; `flink run` starts the client's JVM only. Rounds, "
          f"total s: run-job {totals}; flink run {plain}.")


if __name__ == "__main__":
    main()
