"""Helpers shared by the integration tests, the system tests and the
benchmarks: bounded polling, free loopback ports, Flink's REST API, a
stand-in FLINK_HOME, the example jobs, the Makefile's settings."""
import json
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def docker(*args, check=True, timeout=120):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout)


def makefile_var(name):
    """A `NAME ?= value` or `NAME := value` default of the Makefile (the
    Flink releases), so the tests follow what make builds."""
    m = re.search(rf"^{name}\s*[?:]?=\s*(\S+)\s*$", (ROOT / "Makefile").read_text(), re.M)
    if not m:
        raise AssertionError(f"the Makefile sets no {name}")
    return m.group(1)


def example_jar(flink_home, out, job):
    """examples/<job>.java compiled against flink_home (as the image's
    builder does, with examples/build.sh) into out; the jar's path."""
    jar = Path(out) / "streaming" / f"{job}.jar"
    if not jar.exists():
        subprocess.run([str(ROOT / "examples" / "build.sh"), str(Path(flink_home) / "lib"), str(out)], check=True,
                       timeout=300)
    return jar


def wait_for(cond, timeout=10.0, interval=0.01, what="condition"):
    """Polls cond() until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


_HANDED_OUT = set()


def free_port():
    """A port free now and not handed out before in this test run: the
    kernel may give a just-released port again, and a test that asks for
    several (REST, RPC, blob, health) must get distinct ones."""
    for _ in range(1000):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("no fresh free port in 1000 tries")


def rest(port, path, timeout=2):
    """GET a JSON document from 127.0.0.1:port, or None (no answer, an error status, not JSON)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def fake_flink_home(parent, config=None, scripts=None, name="home"):
    """parent/name: a FLINK_HOME with only what the supervisor reads itself
    (the release, from lib/flink-dist-1.20.5.jar, and conf/), so no JVM is
    needed; config is conf/config.yaml's text, scripts maps a bin/ name to
    a shell script that stands in for Flink's."""
    home = parent / name
    (home / "lib").mkdir(parents=True)
    (home / "conf").mkdir()
    (home / "lib" / "flink-dist-1.20.5.jar").write_bytes(b"")
    if config is not None:
        (home / "conf" / "config.yaml").write_text(config)
    if scripts:
        (home / "bin").mkdir()
    for name, text in (scripts or {}).items():
        (home / "bin" / name).write_text(text)
        (home / "bin" / name).chmod(0o755)
    return home
