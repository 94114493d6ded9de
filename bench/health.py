"""The health endpoint under load, for make bench (and alone:
`/usr/bin/python3 bench/health.py`).

flink-supervisor supervises `sleep 3600` pinned to one core (`taskset`: it is
single-threaded), wrk runs pinned to the other core(s) against
http://127.0.0.1:PORT/health: a warm-up at every concurrency level, then
ROUNDS rounds of SECONDS at each level and at a paced rate near the target,
then runs at the headline level: VmRSS is read after the first of them and
again once at least REQUESTS more requests were answered. The child must
still be the same process and the endpoint must still answer. tini and
dumb-init serve no endpoint, so the figures are held against absolute
targets, not ratios.

Alone it prints the section and updates it in bench/results.md; with
--no-write (how bench/run.py calls it) it only prints the section.
Environment: BENCH_HEALTH_SECONDS (10), BENCH_HEALTH_ROUNDS (3),
BENCH_HEALTH_CONNECTIONS (1,10,50), BENCH_HEALTH_HEADLINE (10),
BENCH_HEALTH_REQUESTS (1000000), BENCH_HEALTH_SOAK_SECONDS (600: the cap on
the memory runs), BENCH_HEALTH_WARMUP_SECONDS (5 per level)."""
import ctypes
import datetime
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = str(ROOT / "build" / "flink-supervisor")
RESULTS = ROOT / "bench" / "results.md"
HEADING = "## Health endpoint under load (wrk)"

SECONDS = int(os.environ.get("BENCH_HEALTH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_HEALTH_ROUNDS", "3"))
CONNECTIONS = [int(c) for c in os.environ.get("BENCH_HEALTH_CONNECTIONS", "1,10,50").split(",")]
HEADLINE = int(os.environ.get("BENCH_HEALTH_HEADLINE", "10"))
REQUESTS = int(os.environ.get("BENCH_HEALTH_REQUESTS", "1000000"))
SOAK_SECONDS = int(os.environ.get("BENCH_HEALTH_SOAK_SECONDS", "600"))
WARMUP_SECONDS = int(os.environ.get("BENCH_HEALTH_WARMUP_SECONDS", "5"))
SOAK_RUN_SECONDS = 10
SOAK_MAX_RUNS = 100

# The paced runs: each connection waits PACE_MS between its requests (wrk's
# Lua delay(), whole milliseconds), with as many connections as it takes to
# offer at least the target rate; MHD's limit in health.h is 128.
PACE_MS = 1
PACED_START = 30
PACED_MAX = 120
# Core busy minus the supervisor's own CPU above this: other work ran on its core.
DISTURBED = 0.2
TARGET_RPS = 20000
TARGET_P99_MS = 2.0
PR_SET_CHILD_SUBREAPER = 36


def say(msg):
    print(msg, file=sys.stderr, flush=True)


# --- processes -------------------------------------------------------------

def proc_ppid(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rindex(")") + 2:].split()[1])


def child_pids(pid):
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and proc_ppid(int(e)) == pid]


def status_kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def cpu_seconds(pid):
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def core_ticks(core):
    """(busy, total) jiffies of one CPU from /proc/stat; busy includes the
    softirq time where loopback TCP is processed, which no process is billed."""
    for line in Path("/proc/stat").read_text().splitlines():
        f = line.split()
        if f[0] == f"cpu{core}":
            ticks = [int(x) for x in f[1:]]
            return sum(ticks) - ticks[3] - ticks[4], sum(ticks)
    raise KeyError(core)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cores():
    """(supervisor's core, wrk's cores as a taskset list, whether they differ)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return str(cpus[0]), str(cpus[0]), False
    return str(cpus[0]), ",".join(str(c) for c in cpus[1:]), True


class Supervised:
    """flink-supervisor -- sleep 3600 on one core, its health endpoint on a
    free loopback port; stop() ends both, whatever state they are in."""

    def __init__(self, core):
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        env = dict(os.environ, SUPERVISOR_HEALTH_PORT=str(self.port), SUPERVISOR_RESTART="never",
                   SUPERVISOR_STOP_TIMEOUT="5")
        # taskset execs the supervisor: p.pid is the supervisor itself.
        self.proc = subprocess.Popen(["taskset", "-c", core, OURS, "--", "sleep", "3600"], env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log)
        self.pid = self.proc.pid
        self.child = None

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"flink-supervisor exited with {self.proc.returncode}: {self.log_text()}")
            kids = child_pids(self.pid)
            if kids:
                try:
                    status, doc = get_health(self.port)
                except OSError:
                    status = None
                if status == 200:
                    self.child = kids[0]
                    return doc
            time.sleep(0.02)
        raise RuntimeError(f"/health did not answer within {timeout} s: {self.log_text()}")

    def log_text(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def stop(self):
        try:
            if self.proc.poll() is None:
                self.proc.terminate()  # forwarded to the child
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
        finally:
            # As a subreaper this process inherits the child if it outlived
            # the supervisor: kill and reap it (only our sleep, checked by name).
            if self.child:
                try:
                    if b"sleep" in Path(f"/proc/{self.child}/cmdline").read_bytes():
                        os.kill(self.child, signal.SIGKILL)
                except OSError:
                    pass
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    try:
                        if os.waitpid(self.child, os.WNOHANG)[0]:
                            break
                    except ChildProcessError:
                        break  # not ours (the supervisor reaped it)
                    time.sleep(0.01)
            self.log.close()


# --- HTTP ------------------------------------------------------------------

def get_health(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None


def read_response(sock):
    """One HTTP response from sock: (status, headers) or None if it closed."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    want = int(headers.get("content-length", "0"))
    while len(body) < want:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers


def keepalive(port):
    """Whether a second HTTP/1.1 request on the same connection is answered,
    and the Connection header of the first answer."""
    req = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(req)
        first = read_response(s)
        connection = first[1].get("connection", "(none)") if first else "(no answer)"
        try:
            s.sendall(req)
            second = read_response(s)
        except OSError:
            second = None
    return second is not None, connection


# --- wrk -------------------------------------------------------------------

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * UNITS[m.group(2)]


def parse_wrk(out):
    r = {"errors": 0, "non2xx": 0}
    for line in out.splitlines():
        line = line.strip()
        if m := re.fullmatch(r"(50|75|90|99)%\s+(\S+)", line):
            r[f"p{m.group(1)}"] = ms(m.group(2))
        elif m := re.match(r"(\d+) requests in ([\d.]+)(\w+)", line):
            r["requests"] = int(m.group(1))
        elif line.startswith("Requests/sec:"):
            r["rps"] = float(line.split()[1])
        elif line.startswith("Socket errors:"):
            r["errors"] = sum(int(n) for n in re.findall(r"\d+", line))
        elif line.startswith("Non-2xx or 3xx responses:"):
            r["non2xx"] = int(line.split()[-1])
    missing = {"p50", "p99", "requests", "rps"} - r.keys()
    if missing:
        raise RuntimeError(f"could not read {sorted(missing)} from wrk's output:\n{out}")
    return r


def wrk(core, port, connections, seconds, sup_pid, sup_core, script=None):
    """One wrk run; adds the supervisor's and wrk's CPU use (share of one
    core) and how busy the supervisor's core was."""
    cmd = ["taskset", "-c", core, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    cmd += ["-s", script] if script else []
    cmd += [f"http://127.0.0.1:{port}/health"]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, all0 = core_ticks(sup_core)
    cpu0, t0 = cpu_seconds(sup_pid), time.monotonic()
    # run() kills wrk on the timeout and on any exception.
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=seconds + 30).stdout
    wall = time.monotonic() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1, all1 = core_ticks(sup_core)
    r = parse_wrk(out)
    r["core_busy"] = (busy1 - busy0) / max(1, all1 - all0)
    r["sup_cpu"] = (cpu_seconds(sup_pid) - cpu0) / wall
    r["wrk_cpu"] = (ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime) / wall
    return r


# --- the measurement -------------------------------------------------------

def measure():
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (tests/install-deps.sh installs it)")
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    sup_core, wrk_core, apart = cores()
    levels = sorted(set(CONNECTIONS) | {HEADLINE})
    started = time.monotonic()
    sup = Supervised(sup_core)
    tmp = tempfile.mkdtemp(prefix="bench-health-")
    try:
        sup.wait_ready()
        child = sup.child
        ka, ka_header = keepalive(sup.port)
        say(f"health: supervisor {sup.pid} on CPU {sup_core}, child {child}, port {sup.port}; "
            f"wrk on CPU {wrk_core}; second request on one connection answered: {ka} (Connection: {ka_header})")
        # Warm-up at every level; it also finds how many paced connections
        # offer the target rate.
        for c in levels:
            wrk(wrk_core, sup.port, c, WARMUP_SECONDS, sup.pid, sup_core)
        pace = str(Path(tmp) / "pace.lua")
        Path(pace).write_text(f"function delay()\n    return {PACE_MS}\nend\n")
        paced = PACED_START
        for _ in range(4):
            r = wrk(wrk_core, sup.port, paced, WARMUP_SECONDS, sup.pid, sup_core, pace)
            say(f"health: paced calibration, {paced} connections: {r['rps']:.0f} req/s")
            if r["rps"] >= TARGET_RPS * 1.02 or paced >= PACED_MAX:
                break
            paced = min(PACED_MAX, math.ceil(paced * TARGET_RPS * 1.08 / max(r["rps"], 1.0)))
        rss_before = status_kib(sup.pid, "VmRSS")
        rss_trail = [rss_before]
        total = 0
        runs = {c: [] for c in levels + ["paced"]}
        for rnd in range(ROUNDS):
            for c in runs:
                r = wrk(wrk_core, sup.port, paced, SECONDS, sup.pid, sup_core, pace) if c == "paced" else \
                    wrk(wrk_core, sup.port, c, SECONDS, sup.pid, sup_core)
                runs[c].append(r)
                total += r["requests"]
                rss_trail.append(status_kib(sup.pid, "VmRSS"))
                name = f"{paced} paced" if c == "paced" else f"{c:>3}"
                say(f"health: round {rnd + 1}/{ROUNDS}, {name} connections: {r['rps']:>8.0f} req/s, "
                    f"p50 {r['p50']:.3f} ms, p99 {r['p99']:.3f} ms, supervisor CPU {r['sup_cpu']:.0%} "
                    f"(its core busy {r['core_busy']:.0%}), "
                    f"wrk CPU {r['wrk_cpu']:.0%}, errors {r['errors']}, non-2xx {r['non2xx']}, "
                    f"VmRSS {rss_trail[-1]} KiB")
        # The memory figure: the first run at the headline level settles the
        # heap after the changes of level (its high-water mark follows the
        # most connections open at once); VmRSS is read then and again once
        # at least REQUESTS more requests were answered at that same level.
        soak = []
        soak_start = time.monotonic()
        soak_requests = 0
        rss_soak0 = None
        while len(soak) < SOAK_MAX_RUNS and time.monotonic() - soak_start < SOAK_SECONDS:
            r = wrk(wrk_core, sup.port, HEADLINE, SOAK_RUN_SECONDS, sup.pid, sup_core)
            soak.append(r)
            total += r["requests"]
            rss_trail.append(status_kib(sup.pid, "VmRSS"))
            if rss_soak0 is None:
                rss_soak0 = rss_trail[-1]
            else:
                soak_requests += r["requests"]
            say(f"health: memory run at {HEADLINE} connections: {r['rps']:.0f} req/s, {soak_requests:,} requests "
                f"since the first, VmRSS {rss_trail[-1]} KiB")
            if soak_requests >= REQUESTS:
                break
        if rss_soak0 is None:  # no memory run fitted in BENCH_HEALTH_SOAK_SECONDS
            rss_soak0 = rss_before
        rss_after = status_kib(sup.pid, "VmRSS")
        status, doc = get_health(sup.port)
        kids = child_pids(sup.pid)
        entry = ((doc or {}).get("children") or [{}])[0]
        same_child = kids == [child] and entry.get("pid") == child and entry.get("restarts") == 0
        errors = sum(r["errors"] + r["non2xx"] for rs in list(runs.values()) + [soak] for r in rs)
    finally:
        sup.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "sup_core": sup_core, "wrk_core": wrk_core, "apart": apart, "levels": levels, "runs": runs, "paced": paced,
        "soak_runs": len(soak), "soak_requests": soak_requests, "rss_soak0": rss_soak0, "rss_after": rss_after,
        "rss_trail": rss_trail, "total": total, "answers": status == 200, "same_child": same_child,
        "errors": errors, "keepalive": ka, "ka_header": ka_header, "minutes": (time.monotonic() - started) / 60,
    }


# --- the report ------------------------------------------------------------

def med(rs, key):
    return statistics.median(r[key] for r in rs)


def spread(rs, key, fmt):
    return f"{fmt.format(min(r[key] for r in rs))}-{fmt.format(max(r[key] for r in rs))}"


def version(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return (r.stdout or r.stderr).strip().splitlines()[0]


def mhd_version():
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libmicrohttpd12"], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else "unknown"


def section(m, command):
    h = m["runs"][HEADLINE]
    rps, p50, p99 = med(h, "rps"), med(h, "p50"), med(h, "p99")
    pr = m["runs"]["paced"]
    paced_rps, paced_p99 = med(pr, "rps"), med(pr, "p99")
    drss = m["rss_after"] - m["rss_soak0"]
    wrk_v = version(["wrk", "--version"]).split(" [")[0]
    pin = (f"supervisor pinned to CPU {m['sup_core']} (`taskset -c {m['sup_core']}`; it is single-threaded), "
           f"wrk `-t1` to CPU {m['wrk_core']}") if m["apart"] else \
        f"supervisor and wrk share CPU {m['sup_core']} (only one core available)"
    lines = [
        HEADING,
        "",
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; command: "
        f"`{command}`; {wrk_v}, libmicrohttpd {mhd_version()}",
        f"- `flink-supervisor -- sleep 3600`, {pin}; GET http://127.0.0.1:PORT/health; warm-up "
        f"{WARMUP_SECONDS} s at each level (and finding the paced connections), then {ROUNDS} "
        f"round{'s' if ROUNDS != 1 else ''} of {SECONDS} s at each level (medians, ranges "
        f"over the rounds), then {m['soak_runs']} runs of {SOAK_RUN_SECONDS} s at {HEADLINE} connections for "
        f"the memory figure: {m['total']:,} requests after the warm-up, {m['minutes']:.1f} min in all",
        f"- keep-alive: a second request on one HTTP/1.1 connection is "
        f"{'answered' if m['keepalive'] else 'not answered'}"
        + ("" if m["ka_header"] == "(none)" else f" (the supervisor sends `Connection: {m['ka_header']}`)")
        + ("" if m["keepalive"] else "; wrk then reconnects for every request, so these figures include a TCP "
           "connect, accept and close per request"),
        "",
        "| connections | requests/s | range | p50 (ms) | p99 (ms) | p99 range (ms) | supervisor CPU | its core busy "
        "| wrk CPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for c in m["runs"]:
        rs = m["runs"][c]
        name = f"{c} (headline)" if c == HEADLINE else str(c)
        if c == "paced":
            name = f"{m['paced']}, paced: {PACE_MS} ms between a connection's requests"
        lines.append(f"| {name} | {med(rs, 'rps'):.0f} | {spread(rs, 'rps', '{:.0f}')} | {med(rs, 'p50'):.3f} | "
                     f"{med(rs, 'p99'):.3f} | {spread(rs, 'p99', '{:.2f}')} | {med(rs, 'sup_cpu'):.0%} | "
                     f"{med(rs, 'core_busy'):.0%} | "
                     f"{med(rs, 'wrk_cpu'):.0%} |")
    measured = [r for rs in m["runs"].values() for r in rs]
    disturbed = sum(1 for r in measured if r["core_busy"] - r["sup_cpu"] > DISTURBED)
    yn = lambda ok: "yes" if ok else "no"  # noqa: E731
    lines += [
        "",
        "| figure | flink-supervisor | tini | dumb-init | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| requests/s, {HEADLINE} connections (median of {ROUNDS}) | {rps:.0f} | no endpoint | no endpoint | "
        f">= {TARGET_RPS:,} | {yn(rps >= TARGET_RPS)} |",
        f"| p99 latency at the target rate: {paced_rps:.0f} requests/s, paced (median of {ROUNDS}, ms) | "
        f"{paced_p99:.3f} | no endpoint | no endpoint | < {TARGET_P99_MS:g} at >= {TARGET_RPS:,}/s | "
        f"{yn(paced_p99 < TARGET_P99_MS and paced_rps >= TARGET_RPS)} |",
        f"| p99 latency at full load, {HEADLINE} connections unpaced (median of {ROUNDS}, ms) | {p99:.3f} | "
        f"no endpoint | no endpoint | < {TARGET_P99_MS:g} (stricter reading) | {yn(p99 < TARGET_P99_MS)} |",
        f"| p50 latency, {HEADLINE} connections (median of {ROUNDS}, ms) | {p50:.3f} | no endpoint | no endpoint | "
        "- | - |",
        f"| VmRSS after a first run at {HEADLINE} connections / after {m['soak_requests']:,} more requests there "
        f"(KiB) | {m['rss_soak0']} / {m['rss_after']} ({drss:+d}) | - | - | unchanged (no growth) | "
        f"{yn(drss <= 0 and m['soak_requests'] >= REQUESTS)} |",
        f"| keep-alive: a second request on one connection answered | {yn(m['keepalive'])} | no endpoint | "
        f"no endpoint | yes | {yn(m['keepalive'])} |",
        f"| same child afterwards, `/health` still 200, no socket errors or non-2xx | "
        f"{yn(m['same_child'])}, {yn(m['answers'])}, {m['errors']} | - | - | yes, yes, 0 | "
        f"{yn(m['same_child'] and m['answers'] and m['errors'] == 0)} |",
        "",
        "VmRSS after the warm-up and after each run (KiB): " + ", ".join(str(k) for k in m["rss_trail"])
        + ". The heap's high-water mark moves in steps (both ways) with the most "
        "connections open at once, which is why the memory figure compares two readings at one level; a leak "
        "would grow with the requests.",
        "",
        f"Other work on the supervisor's core (its core busy minus supervisor CPU above {DISTURBED:.0%}): "
        f"{disturbed} of {len(measured)} measured runs"
        + (": something else ran there, and those runs' tails measure the scheduler more than the endpoint; "
           "compare the ranges, or rerun on a quiet machine." if disturbed else "."),
        "",
        "tini and dumb-init serve no HTTP endpoint: there is nothing of theirs to measure here, so no ratio; the "
        "targets are absolute (issue: >= 20,000 requests/s keep-alive on one core, p99 < 2 ms, RSS unchanged "
        "after 1,000,000 requests). wrk keeps every connection busy, so the unpaced runs measure the most the "
        "endpoint answers and their p99 includes queueing at that load; the paced runs offer about the target "
        "rate and hold the p99 target there. \"supervisor CPU\" is its user + system time over the run's wall "
        "time, \"its core "
        "busy\" all non-idle time of its CPU (loopback TCP's softirq work included, which no process is billed "
        "for), \"wrk CPU\" the same as supervisor CPU for wrk.",
        "",
    ]
    return "\n".join(lines)


def update_results(text):
    """Replaces this section in bench/results.md (up to the next ## heading),
    or puts it before the ZooKeeper section, or at the end."""
    lines = RESULTS.read_text().splitlines(keepends=True) if RESULTS.exists() else []
    block = text.rstrip("\n") + "\n\n"
    heads = [i for i, line in enumerate(lines) if line.rstrip("\n") == HEADING]
    if heads:
        start = heads[0]
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    else:
        start = end = next((i for i, line in enumerate(lines) if line.startswith("## Configuration from ZooKeeper")),
                           len(lines))
        if start and lines[start - 1].strip():
            block = "\n" + block
    new = "".join(lines[:start]) + block + "".join(lines[end:])
    if end == len(lines):
        new = new.rstrip("\n") + "\n"
    RESULTS.write_text(new)


def main():
    write = "--no-write" not in sys.argv[1:]
    m = measure()
    text = section(m, "/usr/bin/python3 bench/health.py" if write else "make bench (bench/run.py)")
    if write:
        update_results(text)
    print(text)


if __name__ == "__main__":
    # SIGTERM/SIGHUP run the finally blocks too, so nothing is left running.
    for signo in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signo, lambda n, f: sys.exit(128 + n))
    main()
