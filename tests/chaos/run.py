#!/usr/bin/env python3
"""make chaos: every fault of faults.py, one after the other, on one compose
cluster of the image, each while examples/ExactlyOnce.java runs; writes
bench/chaos.md (one row per fault) and exits 1 unless every run ended
FINISHED with nothing lost, nothing duplicated, every key's count right and
no restart the fault did not require.

    tests/chaos/run.py [--only SUBSTRING] [--count N] [--rate R] [--out bench/chaos.md]
"""
import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
# integration/ before system/: amcluster imports the integration tests' conftest.
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parent / "integration"), str(HERE.parent / "system")]
import amfaults  # noqa: E402
import faults  # noqa: E402
from compose_cluster import Cluster  # noqa: E402


FLINK = (HERE.parents[1] / "build" / "flink" / ".flink-version").read_text().strip() \
    if (HERE.parents[1] / "build" / "flink" / ".flink-version").exists() else "?"


def machine():
    cpus = os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    docker = subprocess.run(["docker", "version", "-f", "{{.Server.Version}}"], capture_output=True, text=True).stdout.strip()
    return f"{platform.machine()}, {cpus} cores, {mem:.0f} GiB, Docker {docker}"


def row(r, _workload):
    f = r.figures
    recovery = f"{r.recovery_s:.1f}" if r.recovery_s is not None else "—"
    return (f"| {r.fault} | {r.state} | {recovery} | {f.get('expected')} | {f.get('seen')} | {f.get('duplicated')} "
            f"| {f.get('lost')} | {'yes' if f.get('ok') else 'NO'} | {', '.join(r.restarts) or 'none'} "
            f"| {', '.join(r.unexpected) or 'none'} |")


def compose_faults(names, a, rows, results):
    c = Cluster(document=faults.DOCUMENT)
    try:
        c.up()
        for name in names:
            print(f"chaos: {name} ...", flush=True)
            w = faults.Workload(c, count=a.count, rate=a.rate)
            r = faults.run_fault(c, name, w)
            results.append(r)
            rows.append(row(r, w))
            print(f"chaos: {rows[-1]}", flush=True)
            # The next fault starts from a whole cluster.
            faults.wait_for(lambda: (o := c.rest_any("/overview")) and o["taskmanagers"] == 2, 300, interval=1,
                            what="2 TaskManagers registered again")
    except BaseException:
        print(c.logs()[-20000:])
        raise
    finally:
        c.down()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--only", default="")
    p.add_argument("--count", type=int, default=6000)
    p.add_argument("--rate", type=int, default=50)
    p.add_argument("--out", default=str(HERE.parents[1] / "bench" / "chaos.md"))
    a = p.parse_args()
    names = [n for n in faults.FAULTS if a.only.lower() in n.lower()]
    am_names = [n for n in amfaults.FAULTS if a.only.lower() in n.lower()]
    started = time.monotonic()
    rows, results = [], []
    for name in am_names:
        print(f"chaos: {name} ...", flush=True)
        r = amfaults.run_fault(name, count=a.count // 2, rate=a.rate)
        results.append(r)
        rows.append(row(r, None))
        print(f"chaos: {rows[-1]}", flush=True)
    if names:
        compose_faults(names, a, rows, results)
    table = "\n".join([
        "| fault | job ended | fault → RUNNING again (s) | expected | seen | duplicated | lost | every key's count right "
        "| restarts | restarts the fault did not require |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |", *rows])
    cmd = "make chaos" + (f" CHAOS_ARGS='{' '.join(sys.argv[1:])}'" if sys.argv[1:] else "")
    text = (f"# Faults survived: ExactlyOnce through each fault\n\n"
            f"`{cmd}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {machine()}, image flink-appliance:latest, "
            f"{a.count} numbers at {a.rate}/s on each of 2 instances, checkpoints every 2 s, heartbeat timeout 10 s; "
            f"the Application Master's runs (its cluster of tests/integration/amcluster.py: the seed's app with a "
            f"standby run by the Marathon double as processes, build/flink-supervisor and Flink {FLINK}) "
            f"{a.count // 2} numbers; whole run {time.monotonic() - started:.0f} s.\n\n{table}\n\n"
            "*fault → RUNNING again*: from the fault to the job RUNNING with every task running, as Flink's REST API "
            "reports it, timed while the fault lasts (the pause and the disconnect are undone after their 20 s "
            "whatever the job does). *expected / seen / duplicated / lost*: tests/chaos/checker.py over the files "
            "Flink committed. *restarts*: containers restarted and children restarted by their supervisors "
            "(flink_supervisor_child_restarts_total) during the run; for the Application Master, the Marathon "
            "tasks replaced.\n")
    Path(a.out).write_text(text)
    print(text)
    return 0 if results and all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
