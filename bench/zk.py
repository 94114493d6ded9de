"""ZooKeeper figures for make bench: --print-config latency with the config
read from a loopback ZooKeeper (1,000 starts) against the same without
ZooKeeper, and the time from a document change to the child's restart."""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from support import fake_flink_home  # noqa: E402
from zkserver import ZooKeeper  # noqa: E402

OURS = str(ROOT / "build" / "flink-supervisor")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def print_config_ms(env, runs):
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([OURS, "--print-config", "taskmanager"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def change_to_restart_ms(zk, tmp, samples):
    home = fake_flink_home(tmp, "parallelism.default: 1\n",
                           {"taskmanager.sh": '#!/bin/sh\ndate +%s.%N >> "$STARTS"\nexec sleep 100000\n'})
    stamps = tmp / "starts"
    env = dict(os.environ, FLINK_HOME=str(home), FLINK_ZK_QUORUM=zk.hosts, FLINK_ZK_CACHE_DIR=str(tmp / "cache"),
               SUPERVISOR_CONF_DIR=str(tmp / "conf"), STARTS=str(stamps), SUPERVISOR_STOP_TIMEOUT="5")
    p = subprocess.Popen([OURS, "taskmanager"], env=env, stderr=subprocess.DEVNULL)
    client = zk.client()
    out = []
    try:
        def count():
            return len(stamps.read_text().split()) if stamps.exists() else 0
        deadline = time.monotonic() + 30
        while count() < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        for i in range(samples):
            n = count()
            t0 = time.time()
            client.set("/flink/config", f"parallelism.default: {i + 10}\n".encode())
            deadline = time.monotonic() + 30
            while count() == n and time.monotonic() < deadline:
                time.sleep(0.005)
            out.append((float(stamps.read_text().split()[-1]) - t0) * 1000)
    finally:
        client.stop()
        p.terminate()
        p.wait(30)
    return out


def main():
    runs = int(os.environ.get("BENCH_ZK_RUNS", "1000"))
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        zk = ZooKeeper(tmp).start()
        try:
            c = zk.client()
            c.ensure_path("/flink/config")
            c.set("/flink/config", b"parallelism.default: 2\nstate.backend.type: rocksdb\n")
            c.stop()
            base = dict(os.environ, FLINK_HOME=str(ROOT / "build" / "flink"))
            with_zk = dict(base, FLINK_ZK_QUORUM=zk.hosts, FLINK_ZK_CACHE_DIR=str(tmp / "pc-cache"))
            plain = print_config_ms(base, runs)
            zk_ms = print_config_ms(with_zk, runs)
            restart = change_to_restart_ms(zk, tmp, 20)
        finally:
            zk.stop()
    print("| figure | p50 (ms) | p99 (ms) |")
    print("| --- | --- | --- |")
    print(f"| `--print-config` without ZooKeeper, {runs} starts | {percentile(plain, 50):.1f} | {percentile(plain, 99):.1f} |")
    print(f"| `--print-config` reading a loopback ZooKeeper, {runs} starts | {percentile(zk_ms, 50):.1f} | {percentile(zk_ms, 99):.1f} |")
    print(f"| document change to child restarted (incl. the 1 s debounce), 20 changes | "
          f"{percentile(restart, 50):.0f} | {percentile(restart, 99):.0f} |")


if __name__ == "__main__":
    main()
