"""systemd's notify protocol (make WITH_SYSTEMD=1): READY=1, STATUS= lines,
WATCHDOG=1 at half of WATCHDOG_USEC and STOPPING=1, received the way
systemd receives them, on a real AF_UNIX datagram socket (a path, or an
@abstract name). The default build must neither speak it nor link
libsystemd."""
import os
import re
import signal
import socket
import statistics
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

import conftest
from conftest import ROOT, TESTCHILD

SD_BIN = Path(os.environ.get("SYSTEMD_SUPERVISOR_BIN", ROOT / "build" / "systemd" / "flink-supervisor")).resolve()
DEFAULT_BIN = ROOT / "build" / "flink-supervisor"
# Exports the supervisor's own pid as WATCHDOG_PID, as systemd does for the
# main process: sh execs the supervisor in its place, so $$ is its pid.
OWN_WATCHDOG_PID = ["/bin/sh", "-c", 'WATCHDOG_PID=$$ exec "$0" "$@"']


class NotifySocket:
    """A bound datagram socket and a thread that drains it at once, as
    systemd's manager does. Keeps every datagram with its arrival time."""

    def __init__(self, address):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.sock.bind(address)
        self.sock.settimeout(0.05)
        self.messages = []  # (time.monotonic(), [(key, value), ...])
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        while not self.closed:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            fields = [tuple(line.split("=", 1)) for line in data.decode().split("\n") if line]
            with self.cond:
                self.messages.append((time.monotonic(), fields))
                self.cond.notify_all()

    def wait(self, pred, timeout=10.0, what="datagrams"):
        """Waits until pred(messages) is truthy and returns its value."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = pred(list(self.messages))
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}; got {self.messages}")
                self.cond.wait(left)

    def values(self, key):
        """(time, value) of every key=value received so far."""
        with self.cond:
            return [(t, v) for t, fields in self.messages for k, v in fields if k == key]

    def close(self):
        self.closed = True
        self.thread.join()
        self.sock.close()


def values(messages, key):
    return [(t, v) for t, fields in messages for k, v in fields if k == key]


def has(key, value=None, count=1):
    return lambda m: len([v for _, v in values(m, key) if value is None or re.fullmatch(value, v)]) >= count


@pytest.fixture
def notify_socket(tmp_path):
    """notify_socket(abstract=False) -> (NOTIFY_SOCKET value, NotifySocket)."""
    opened = []

    def open_socket(abstract=False):
        if abstract:
            name = f"flink-supervisor-test-{uuid.uuid4().hex}"
            ns, env = NotifySocket("\0" + name), "@" + name
        else:
            path = tmp_path / f"notify.{len(opened)}.sock"
            ns, env = NotifySocket(str(path)), str(path)
        opened.append(ns)
        return env, ns

    yield open_socket
    for ns in opened:
        ns.close()


@pytest.fixture
def sd_sup(sup, monkeypatch):
    """The `sup` fixture (everything killed and reaped afterwards), running
    the systemd-enabled build."""
    assert SD_BIN.exists(), f"{SD_BIN} is missing: make {SD_BIN.relative_to(ROOT)}"
    monkeypatch.setattr(conftest, "BIN", SD_BIN)
    return sup


def armed_timerfds(pid):
    """How many of pid's timerfds are armed: a disarmed one costs no wakeups."""
    armed = 0
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            text = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        m = re.search(r"^it_value: \((\d+), (\d+)\)", text, re.M)
        if m and (int(m[1]) or int(m[2])):
            armed += 1
    return armed


def needed_libraries(path):
    out = subprocess.run(["readelf", "-d", str(path)], check=True, capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def test_ready_status_watchdog_and_stopping(sd_sup, notify_socket):
    address, ns = notify_socket()
    s = sd_sup(["--", "sleep", "60"], {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "200000"},
               prefix=OWN_WATCHDOG_PID)

    # READY=1 comes once the child runs, with its status in the same datagram.
    s.wait_log("event=notify.enabled")
    assert "watchdog_ms=100" in s.log(), "WATCHDOG_PID names the supervisor: its watchdog is on"
    ready_t, ready = ns.wait(lambda m: next(((t, f) for t, f in m if ("READY", "1") in f), None), what="READY=1")
    status = dict(ready).get("STATUS", "")
    m = re.fullmatch(r"main running pid (\d+)", status)
    assert m, f"READY=1 without the child's status: {ready}"
    child = int(m[1])
    assert conftest.proc_stat(child)[1] == s.pid
    # Children inherit NOTIFY_SOCKET, as under tini.
    assert f"NOTIFY_SOCKET={address}".encode() in Path(f"/proc/{child}/environ").read_bytes().split(b"\0")

    # WATCHDOG=1 every half of WATCHDOG_USEC: about 100 ms apart.
    ns.wait(lambda m: len([t for t, v in values(m, "WATCHDOG") if t > ready_t]) >= 8, what="8 WATCHDOG=1")
    beats = [t for t, v in ns.values("WATCHDOG")]
    assert all(v == "1" for _, v in ns.values("WATCHDOG"))
    assert len([t for t in beats if ready_t < t <= ready_t + 1.0]) >= 3, beats
    gaps = [b - a for a, b in zip(beats, beats[1:])]
    assert 0.05 <= statistics.median(gaps) <= 0.19, gaps

    s.signal(signal.SIGTERM)
    ns.wait(has("STOPPING", "1"), what="STOPPING=1")
    assert s.wait() == 128 + signal.SIGTERM
    ns.wait(has("STATUS", "exiting 143"), what="the final status")
    statuses = [v for _, v in ns.values("STATUS")]
    assert statuses == [status, "stopping: signal TERM", "main exited 143", "exiting 143"], statuses
    assert len(ns.values("READY")) == 1 and len(ns.values("STOPPING")) == 1
    # STOPPING=1 carries the status that says why.
    stopping = ns.wait(lambda m: next((f for _, f in m if ("STOPPING", "1") in f), None))
    assert ("STATUS", "stopping: signal TERM") in stopping


def test_status_follows_restarts_until_given_up(sd_sup, notify_socket):
    address, ns = notify_socket()
    s = sd_sup(["--", TESTCHILD, "exit", "3"],
               {"NOTIFY_SOCKET": address, "SUPERVISOR_BACKOFF_MIN_MS": "100", "SUPERVISOR_BACKOFF_MAX_MS": "100",
                "SUPERVISOR_MAX_RESTARTS": "2"})
    assert s.wait() == 111
    ns.wait(has("STOPPING", "1"), what="STOPPING=1")
    ns.wait(has("STATUS", "exiting 111"), what="the final status")
    # A child that exits at once may be reaped before its exec is
    # confirmed: "main running" may or may not come between.
    statuses = [v for _, v in ns.values("STATUS") if not v.startswith("main running")]
    assert statuses[0] == "main exited 3" and re.fullmatch(r"main backoff 0\.\ds", statuses[1]), statuses
    assert statuses[-3:] == ["main exited 3", "main gave up", "exiting 111"], statuses
    assert statuses.count("main exited 3") == 3, statuses
    # No WATCHDOG_USEC: no watchdog.
    assert ns.values("WATCHDOG") == []


def test_abstract_socket(sd_sup, notify_socket):
    address, ns = notify_socket(abstract=True)
    assert address.startswith("@")
    s = sd_sup(["--", "sleep", "60"], {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "200000"})
    ns.wait(has("READY", "1"), what="READY=1 on the abstract socket")
    ns.wait(has("WATCHDOG", "1", count=2), what="WATCHDOG=1 on the abstract socket")
    s.signal(signal.SIGTERM)
    ns.wait(has("STOPPING", "1"), what="STOPPING=1")
    assert s.wait() == 143


def test_watchdog_meant_for_another_process_is_not_fed(sd_sup, notify_socket):
    address, ns = notify_socket()
    # systemd sets WATCHDOG_PID to the main process; a supervisor started
    # below it (the variables leaked to us) must not feed that watchdog.
    s = sd_sup(["--", "sleep", "60"],
               {"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "100000", "WATCHDOG_PID": str(os.getpid())})
    ns.wait(has("READY", "1"), what="READY=1")
    # Deterministic first: no timer is armed for it...
    assert armed_timerfds(s.pid) == 0
    # ...and over many periods of 50 ms, nothing arrives.
    with pytest.raises(AssertionError):
        ns.wait(has("WATCHDOG"), timeout=0.5, what="no WATCHDOG=1")
    assert "event=notify.enabled" in s.log() and "watchdog_ms=0" in s.log()
    s.signal(signal.SIGTERM)
    assert s.wait() == 143


def test_without_notify_socket_nothing_is_armed(sd_sup):
    s = sd_sup(["--", "sleep", "60"], {"WATCHDOG_USEC": "100000"})
    s.wait_log("event=child.started")
    # No NOTIFY_SOCKET: no watchdog timer, so no wakeups at all.
    assert armed_timerfds(s.pid) == 0
    assert "notify." not in s.log()
    s.signal(signal.SIGTERM)
    assert s.wait() == 143


def test_default_build_neither_links_nor_speaks_it(sup, tmp_path):
    assert not any(lib.startswith("libsystemd") for lib in needed_libraries(DEFAULT_BIN))
    assert any(lib.startswith("libsystemd") for lib in needed_libraries(SD_BIN))
    # The default build under NOTIFY_SOCKET: one warning, nothing sent, the
    # child runs. Nothing drains this socket: what was sent stays queued.
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        sock.bind(str(tmp_path / "notify.sock"))
        s = sup(["--", "sleep", "60"], {"NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "100000"})
        s.wait_log("event=child.started")
        assert "event=notify.unsupported" in s.log()
        assert armed_timerfds(s.pid) == 0
        s.signal(signal.SIGTERM)
        assert s.wait() == 143
        with pytest.raises(BlockingIOError):
            sock.recv(4096, socket.MSG_DONTWAIT)


def test_a_receiver_that_stops_reading_never_stalls_the_supervisor(sd_sup, tmp_path):
    """The queue fills (WATCHDOG=1 every 5 ms, nobody reads): messages are
    dropped, the loop keeps turning and SIGTERM is served at once."""
    path = tmp_path / "deaf.sock"
    deaf = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
    deaf.bind(str(path))
    try:
        s = sd_sup(["--", TESTCHILD, "record", str(tmp_path / "rec")],
                   {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "10000"}, prefix=OWN_WATCHDOG_PID)
        s.wait_log("event=notify.send_failed", timeout=10)
        s.signal(signal.SIGTERM)
        assert s.wait(timeout=5) == 0, "SIGTERM waited for the notify socket"
    finally:
        deaf.close()
