"""Application Master figures for make bench (figures, not assertions):
a job that needs N new TaskManagers, from submission to RUNNING, split into
Flink reporting the need -> the appmaster's write -> Marathon's tasks
started -> TaskManagers registered -> every subtask running; the same job
on a cluster provisioned beforehand; Marathon writes per scale event and at
steady state; how soon an idle TaskManager is released after its timeout.
The cluster is the tests' (tests/integration/amcluster.py): real Flink and
ZooKeeper, the Marathon double running real tasks. BENCH_AM_NEW (2) sets
N, BENCH_AM_STEADY_SECONDS (600) the steady-state window."""
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from amcluster import TM, Cluster, cancel, rest, running, submit, wait_for  # noqa: E402

NEW = int(os.environ.get("BENCH_AM_NEW", "2"))
STEADY_S = int(os.environ.get("BENCH_AM_STEADY_SECONDS", "600"))
IDLE_TIMEOUT_S = 5  # amcluster's resourcemanager.taskmanager-timeout


def say(msg):
    print(msg, file=sys.stderr, flush=True)


def stamp(iso):
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def until(cond, timeout, what):
    """The time.time() at which cond() first held, polled every 20 ms."""
    wait_for(cond, timeout, 0.02, what=what)
    return time.time()


def provisioned(tmp):
    """Submission to RUNNING on a cluster that has its TaskManagers already."""
    c = Cluster.start(tmp)
    try:
        c.deploy(f"-Dmesos.initial-tasks={NEW + 1}")
        leader = c.leader()
        c.wait_registered(leader, NEW + 1)
        t0 = time.time()
        jid = submit(c, leader, NEW + 1)
        return until(lambda: running(c, leader, jid), 300, "the job running") - t0
    finally:
        c.close()


def on_demand(tmp):
    c = Cluster.start(tmp)
    out = {}
    try:
        c.deploy()
        leader = c.leader()
        c.wait_registered(leader, 1)
        port = c.port(leader, "rest")
        t0 = time.time()
        jid = submit(c, leader, NEW + 1)
        registered = until(lambda: len(c.taskmanagers(leader)) == NEW + 1, 300, "TaskManagers registered")
        run = until(lambda: running(c, leader, jid), 300, "the job running")
        need = rest(port, f"/jobs/{jid}")["start-time"] / 1000
        patches = [r for r in c.writes() if r.method == "PATCH"]
        started = max(stamp(t["startedAt"]) for t in c.tasks(TM))
        out.update(total=run - t0, need_to_write=patches[0].at - need, write_to_tasks=started - patches[0].at,
                   tasks_to_registered=registered - started, registered_to_running=run - registered,
                   writes_per_scale=len(patches))
        say(f"steady state: {STEADY_S} s with the job running ...")
        before = len(c.writes())
        time.sleep(STEADY_S)  # the figure is what happens over a stretch of time
        out["steady_writes"] = len(c.writes()) - before
        cancel(c, leader, jid)
        free = until(lambda: (tms := c.taskmanagers(leader)) and all(t["freeSlots"] == t["slotsNumber"] for t in tms),
                     60, "every slot free")
        wait_for(lambda: len([r for r in c.writes() if r.method == "DELETE"]) == NEW, 120, 0.05, what="the releases")
        out["release"] = [r.at - free for r in c.writes() if r.method == "DELETE"]
    finally:
        c.close()
    return out


def main():
    with tempfile.TemporaryDirectory() as t:
        say(f"appmaster: a job needing {NEW} new TaskManagers, on demand ...")
        a = on_demand(Path(t) / "on-demand")
        say("appmaster: the same job on a provisioned cluster ...")
        b = provisioned(Path(t) / "provisioned")
    release = a["release"]
    print("| figure | value | target | met |")
    print("| --- | --- | --- | --- |")
    print(f"| Flink reports the need (job created) -> our write (s) | {a['need_to_write']:.2f} | <= 1 s | "
          f"{'yes' if a['need_to_write'] <= 1 else 'no'} |")
    print(f"| our write -> the {NEW} new tasks started by Marathon (s) | {a['write_to_tasks']:.2f} | | |")
    print(f"| tasks started -> TaskManagers registered (s) | {a['tasks_to_registered']:.2f} | | |")
    print(f"| TaskManagers registered -> every subtask RUNNING (s) | {a['registered_to_running']:.2f} | | |")
    print(f"| submission -> RUNNING, on demand (s) | {a['total']:.2f} | | |")
    print(f"| submission -> RUNNING, provisioned beforehand (s) | {b:.2f} | | |")
    print(f"| on demand / provisioned | {a['total'] / b:.2f} | | |")
    print(f"| Marathon writes for the scale event | {a['writes_per_scale']} | 1 | {'yes' if a['writes_per_scale'] == 1 else 'no'} |")
    print(f"| Marathon writes at steady state over {STEADY_S} s | {a['steady_writes']} | 0 | "
          f"{'yes' if a['steady_writes'] == 0 else 'no'} |")
    print(f"| idle TaskManager released after its slots were freed, timeout {IDLE_TIMEOUT_S} s (s, "
          f"each of {len(release)}) | {', '.join(f'{x:.2f}' for x in release)} | <= timeout + 2 s | "
          f"{'yes' if max(release) <= IDLE_TIMEOUT_S + 2 else 'no'} |")
    print()
    print(f"One run each: Flink 1.20, default scheduler, TaskManagers of 1 slot, the appmaster observing every "
          f"1 s (SUPERVISOR_AM_INTERVAL); Marathon is the tests' double, so 'tasks started' is a local process start.")


if __name__ == "__main__":
    main()
