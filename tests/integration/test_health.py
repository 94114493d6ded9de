"""The health endpoint: /health, /ready, /metrics, --probe, the port
choice, and bad or hostile requests that must not hurt the supervisor or
the child."""
import json
import resource
import signal
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path


from conftest import TESTCHILD, free_port, wait_for


def get(port, path, method="GET"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=3) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()
    except OSError:
        return None, None, None


def serving(sup, args, **env):
    port = free_port()
    s = sup(args, {"SUPERVISOR_HEALTH_PORT": str(port), **env})
    s.wait_log("event=health.serving")
    return s, port


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_health_ready_and_metrics_while_the_child_runs(sup):
    s, port = serving(sup, ["--", "sleep", "1000"])
    status, headers, body = wait_for(lambda: (r := get(port, "/health"))[0] == 200 and r, what="healthy")
    doc = json.loads(body)
    assert doc["status"] == "ok" and doc["children"][0]["name"] == "main"
    assert doc["children"][0]["state"] == "running" and doc["children"][0]["pid"] > 0
    assert headers["Content-Type"] == "application/json"
    assert get(port, "/ready")[0] == 200
    status, headers, text = get(port, "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    samples = [l for l in text.splitlines() if l and not l.startswith("#")]
    assert samples and all(l.startswith("flink_supervisor_") for l in samples)
    assert "flink_supervisor_up 1" in samples
    assert 'flink_supervisor_child_running{child="main"} 1' in samples
    s.signal(signal.SIGTERM)
    assert s.wait() == 128 + signal.SIGTERM


def test_unhealthy_during_backoff_and_restarts_counted(sup):
    s, port = serving(sup, ["--", TESTCHILD, "exit", "3"], SUPERVISOR_BACKOFF_MIN_MS="2000")
    s.wait_log("event=child.restart_scheduled")
    status, _, body = get(port, "/health")
    assert status == 503 and json.loads(body)["children"][0]["state"] == "backoff"
    assert json.loads(body)["children"][0]["last_exit_code"] == 3
    assert get(port, "/ready")[0] == 503
    wait_for(lambda: 'flink_supervisor_child_restarts_total{child="main"} 1' in (get(port, "/metrics")[2] or ""),
             timeout=10, what="restart counted")
    s.signal(signal.SIGTERM)
    s.wait()


def test_only_three_paths_and_two_methods(sup):
    s, port = serving(sup, ["--", "sleep", "1000"])
    assert get(port, "/")[0] == 404
    assert get(port, "/health/../etc/passwd")[0] == 404
    assert get(port, "/config")[0] == 404
    status, headers, _ = get(port, "/health", method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    assert get(port, "/metrics", method="DELETE")[0] == 405
    wait_for(lambda: get(port, "/health", method="HEAD")[0] == 200, timeout=10, what="HEAD answered 200")


def test_probe_answers_for_docker_healthcheck(sup):
    s, port = serving(sup, ["--", "sleep", "1000"])
    wait_for(lambda: get(port, "/health")[0] == 200, what="healthy")
    probe = sup(["--probe"], {"SUPERVISOR_HEALTH_PORT": str(port)})
    assert probe.wait() == 0
    s.signal(signal.SIGTERM)
    s.wait()
    nobody = sup(["--probe"], {"SUPERVISOR_HEALTH_PORT": str(port)})
    assert nobody.wait() == 1


def test_probe_reports_an_unhealthy_supervisor(sup):
    s, port = serving(sup, ["--", TESTCHILD, "exit", "1"], SUPERVISOR_BACKOFF_MIN_MS="5000")
    s.wait_log("event=child.restart_scheduled")
    assert sup(["--probe"], {"SUPERVISOR_HEALTH_PORT": str(port)}).wait() == 1


def test_marathon_port_named_health_is_used(sup):
    port = free_port()
    s = sup(["--", "sleep", "1000"], {"PORT_HEALTH": str(port), "SUPERVISOR_HEALTH_PORT": ""})
    s.wait_log(f"event=health.serving port={port}")
    # Serving comes before the child's exec is confirmed: healthy once it runs.
    wait_for(lambda: get(port, "/health")[0] == 200, timeout=10, what="healthy on PORT_HEALTH")


def test_bad_health_port_exits_2(sup):
    s = sup(["--", "sleep", "1"], {"SUPERVISOR_HEALTH_PORT": "http"})
    assert s.wait() == 2
    assert 'invalid SUPERVISOR_HEALTH_PORT="http"' in s.log()


def test_port_in_use_does_not_stop_the_child(sup):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        s = sup(["--", "sleep", "1000"], {"SUPERVISOR_HEALTH_PORT": str(port)})
        s.wait_log("event=health.unavailable")
        s.wait_log("event=child.started")
        assert s.proc.poll() is None


def raw(port, data, half_close=False):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(data)
        if half_close:
            c.shutdown(socket.SHUT_WR)
        return c.recv(200)


def test_malformed_and_oversized_requests(sup):
    s, port = serving(sup, ["--", "sleep", "1000"])
    # A request line that is not HTTP: closed without an answer.
    assert raw(port, b"GARBAGE\r\n\r\n") == b""
    assert raw(port, b"GET /health HTTP/9.9\r\n\r\n").startswith(b"HTTP/1.1 505")
    big = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536 + b"\r\n\r\n"
    assert raw(port, big).startswith(b"HTTP/1.1 431")
    assert raw(port, b"\x00\xff" * 4096, half_close=True) == b""
    assert get(port, "/health")[0] == 200
    assert s.proc.poll() is None


def test_connection_flood_and_slow_clients_leave_health_answering(sup):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20000), hard))
    s, port = serving(sup, ["--", "sleep", "1000"])
    before = rss_kib(s.pid)
    # Floods in a row: the endpoint must come back after each (it once went
    # deaf when the connection limit had been reached and the flood ended).
    for _ in range(3):
        socks = []
        try:
            for i in range(10000):
                c = socket.socket()
                c.setblocking(False)
                c.connect_ex(("127.0.0.1", port))
                if i % 2:
                    try:
                        c.send(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # never finished: a slow client
                    except OSError:
                        pass
                socks.append(c)
            assert s.proc.poll() is None
            assert rss_kib(s.pid) < before + 8192, "memory grew with the connections"
        finally:
            for c in socks:
                c.close()
        # Once the flood is gone, others are answered again.
        wait_for(lambda: get(port, "/health")[0] == 200, timeout=15, what="health answering after the flood")
    started = time.monotonic()
    for _ in range(200):
        assert get(port, "/health")[0] == 200
    assert s.proc.poll() is None and time.monotonic() - started < 30


def socket_fds(pid):
    n = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            n += "socket:" in str(fd.readlink())
        except FileNotFoundError:
            pass  # closed while we looked
    return n


def test_endpoint_answers_again_after_the_connection_limit_was_reached(sup):
    """Exactly at the limit, then every connection gone at once: the
    listening socket must be watched again although nothing else happens."""
    s, port = serving(sup, ["--", "sleep", "1000"])
    base = socket_fds(s.pid)
    # More than the limit: the rest wait in the listen backlog.
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(160)]
    try:
        wait_for(lambda: socket_fds(s.pid) >= base + 128, timeout=10, what="128 connections accepted")
    finally:
        for c in socks:
            c.close()
    wait_for(lambda: socket_fds(s.pid) <= base, timeout=10, what="the connections closed")
    assert get(port, "/health")[0] == 200


def test_keep_alive_serves_many_requests_on_one_connection(sup):
    import http.client
    s, port = serving(sup, ["--", "sleep", "1000"])
    wait_for(lambda: get(port, "/health")[0] == 200, timeout=10, what="healthy")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.connect()
        first = conn.sock.getsockname()
        for path in ("/health", "/ready", "/metrics", "/nope", "/health"):
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            assert r.status == (404 if path == "/nope" else 200)
            assert r.getheader("Connection", "").lower() != "close"
            assert conn.sock is not None and conn.sock.getsockname() == first, "the connection was not kept"
    finally:
        conn.close()
