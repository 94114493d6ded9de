"""Faults in the Application Master's cluster (tests/integration/amcluster.py:
the seed's app with a standby, run by the Marathon double as real
processes, its TaskManagers allocated by the appmaster) while
examples/ExactlyOnce.java runs: a TaskManager task killed (Marathon
replaces it, the appmaster's app keeps its instances) and the leading
appmaster killed (the standby takes over, the TaskManagers follow). Same
figures as faults.py; the restarts are the Marathon tasks replaced."""
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import checker
from amcluster import AM, FLINK_HOME, TM, Cluster
import faults
from faults import KEYS, Result
from support import example_jar, rest, wait_for


def job_status(c, jid):
    for t in c.tasks(AM):
        j = rest(c.port(t, "rest"), f"/jobs/{jid}")
        if j and "state" in j:
            return j
    return None


def running_since(c, jid, t_ms):
    return faults.running_since(job_status(c, jid), t_ms)


def task_name(task_id):
    """flink_appmaster-taskmanagers.instance-1c0f...._app.1 -> appmaster-taskmanagers task 1c0f..."""
    app = task_id.partition(".")[0].split("_")[-1]
    m = re.search(r"instance-([^.]{1,8})", task_id)
    return f"{app} task {m.group(1) if m else task_id}"


def kill_taskmanager_task(c, leader):
    victim = c.tasks(TM)[0]
    c.double.kill_task(victim["id"])
    return {victim["id"]}


def kill_leading_appmaster(c, leader):
    c.double.kill_task(leader["id"])
    return {leader["id"]}


FAULTS = {
    "Application Master: a TaskManager task SIGKILLed (Marathon replaces it)": kill_taskmanager_task,
    "Application Master: the leading appmaster task SIGKILLed (the standby takes over)": kill_leading_appmaster,
}


def run_fault(name, count=3000, rate=50, end_timeout=600):
    with tempfile.TemporaryDirectory(prefix="fa-amchaos-") as d:
        tmp = Path(d)
        c = Cluster.start(tmp)
        try:
            return _run(c, tmp, name, count, rate, end_timeout)
        finally:
            c.close()


def _run(c, tmp, name, count, rate, end_timeout):
    c.deploy(instances=2)
    leader = c.leader()
    c.wait_registered(leader, 1)
    out = tmp / "out"
    jar = example_jar(FLINK_HOME, tmp / "examples", "ExactlyOnce")
    run = subprocess.run([str(FLINK_HOME / "bin" / "flink"), "run", "-d", "-m", f"127.0.0.1:{c.port(leader, 'rest')}",
                          "-p", "2", str(jar), "--output", f"file://{out}", "--count", str(count), "--rate", str(rate),
                          "--keys", str(KEYS)],
                         env={**os.environ, "FLINK_LOG_DIR": str(tmp)}, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    jid = re.search(r"JobID ([0-9a-f]{32})", run.stdout).group(1)
    wait_for(lambda: running_since(c, jid, 0), 300, 0.5, what="the workload RUNNING on its TaskManagers")
    wait_for(lambda: (cp := rest(c.port(leader, "rest"), f"/jobs/{jid}/checkpoints")) and cp["counts"]["completed"] >= 1,
             120, 0.5, what="the workload's first checkpoint")
    before = {t["id"] for t in c.tasks(AM) + c.tasks(TM)}
    t0 = time.time()
    killed = FAULTS[name](c, leader)
    result = Result(name)
    try:
        wait_for(lambda: running_since(c, jid, t0 * 1000) or (job_status(c, jid) or {}).get("state") == "FINISHED",
                 600, 0.5, what="the workload RUNNING again")
        if (job_status(c, jid) or {}).get("state") == "RUNNING":
            result.recovery_s = round(time.time() - t0, 1)
        result.state = wait_for(lambda: (s := (job_status(c, jid) or {}).get("state")) in ("FINISHED", "FAILED", "CANCELED")
                                and s, end_timeout, 1, what="the workload ending")
    finally:
        after = {t["id"] for t in c.tasks(AM) + c.tasks(TM)}
        gone = before - after
        result.restarts = [f"{task_name(t)} replaced" for t in sorted(gone)]
        result.unexpected = [f"{task_name(t)} replaced" for t in sorted(gone - killed)]
    result.figures = checker.check(checker.committed_lines(str(out)), count, KEYS)
    return result

