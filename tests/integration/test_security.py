"""Privileges and secrets, run as root: the rendered config directory is
root's and only readable by the JVM's user, nothing the JVM's user could
plant there is followed, secrets stay out of the children's environment,
every supplementary group of the user is kept, and over-long paths are
refused rather than cut. Roles run a fake FLINK_HOME whose scripts print
what the tests look at, so no JVM starts here."""
import grp
import os
import pwd
import re
import resource
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import BIN, descendants, fake_flink_home, free_port, wait_for

NOBODY = pwd.getpwnam("nobody")
SECRETS = {"FLINK_ZK_AUTH": "digest:flink:secretpw", "MARATHON_CREDENTIALS_FILE": "/run/secrets/marathon",
           "MARATHON_TOKEN_FILE": "/run/secrets/token"}
# What a TaskManager script of the fake distribution prints before it waits.
SCRIPT = """#!/bin/sh
echo "start $$"
env | sed 's/^/env /'
grep '^Groups:' /proc/self/status
echo ready
exec sleep 600
"""


@pytest.fixture(autouse=True)
def as_root():
    if os.geteuid() != 0:
        pytest.skip("needs root: the JVM's user is dropped to")


@pytest.fixture
def base():
    """A directory every user can reach (pytest's tmp_path is root's, 0700)."""
    d = Path(tempfile.mkdtemp(prefix="flink-sec-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def fake_home(home):
    """A FLINK_HOME at home, with a conf file that the config directory links to."""
    home = fake_flink_home(home.parent, scripts={"taskmanager.sh": SCRIPT}, name=home.name)
    (home / "conf" / "log4j-console.properties").write_text("rootLogger.level = INFO\n")
    return home


def taskmanager(sup, base, **env):
    full = {"FLINK_HOME": str(fake_home(base / "home")), "FLINK_LOG_DIR": str(base / "log"), "SUPERVISOR_USER": "nobody",
            "SUPERVISOR_BACKOFF_MIN_MS": "100"}
    full.update(env)
    return sup(["taskmanager", "-Djobmanager.rpc.address=127.0.0.1", f"-Drest.port={free_port()}"], full)


def starts(s):
    return s.stdout().splitlines().count("ready")


def conf_dir(s):
    m = wait_for(lambda: re.search(r"event=config.written dir=(\S+)", s.log()), what="config.written")
    return Path(m.group(1))


def as_user(user, *cmd):
    def drop():
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    return subprocess.run(cmd, preexec_fn=drop, capture_output=True, text=True, timeout=10)


def restart_child(s):
    before = starts(s)
    (pid,) = [p for p in descendants(s.pid) if b"sleep" in Path(f"/proc/{p}/cmdline").read_bytes()]
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: starts(s) > before, timeout=15, what="the child started again")


def test_config_dir_is_roots_and_only_readable_by_the_jvm_user(sup, base):
    s = taskmanager(sup, base)
    wait_for(lambda: starts(s) == 1, what="the child")
    d = conf_dir(s)
    assert d != Path(f"/tmp/flink-conf.{s.pid}"), "the default directory's name is predictable"
    assert d.parent == Path("/tmp") and d.name.startswith("flink-conf.")
    st = d.lstat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, NOBODY.pw_gid, 0o750)
    conf = d / "config.yaml"
    st = conf.lstat()
    assert not conf.is_symlink()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, NOBODY.pw_gid, 0o640)
    assert (d / "log4j-console.properties").is_symlink()
    # What the JVM's user can and cannot do there.
    assert as_user(NOBODY, "cat", str(conf)).returncode == 0
    assert as_user(NOBODY, "sh", "-c", f"echo x >> {conf}").returncode != 0
    assert as_user(NOBODY, "touch", str(d / "planted")).returncode != 0
    assert as_user(NOBODY, "ln", "-s", "/etc/shadow", str(d / ".config.yaml.new")).returncode != 0
    assert not (d / "planted").exists() and not (d / ".config.yaml.new").exists()
    s.signal(signal.SIGTERM)
    s.wait()
    assert not d.exists(), "the default directory is removed on exit"


@pytest.mark.parametrize("name", [".config.yaml.new", "config.yaml"])
def test_a_planted_symlink_is_never_followed_across_restarts(sup, base, name):
    target = base / "precious"
    target.write_text("precious\n")
    target.chmod(0o644)
    s = taskmanager(sup, base)
    wait_for(lambda: starts(s) == 1, what="the child")
    d = conf_dir(s)
    # Root plants it, as the JVM's user could when the directory was its own.
    (d / name).unlink(missing_ok=True)
    (d / name).symlink_to(target)
    for _ in range(2):
        # A TaskManager with a made-up resource id gets its config rewritten before each start.
        restart_child(s)
    assert s.log().count("event=config.written") >= 3
    assert target.read_text() == "precious\n"
    st = target.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, 0, 0o644)
    assert not (d / "config.yaml").is_symlink()
    assert "taskmanager.resource-id" in (d / "config.yaml").read_text()


@pytest.mark.parametrize("owner,mode,wrong", [
    ("nobody", 0o750, "owned by uid 65534"),
    ("root", 0o777, "writable by group or others"),
    ("root", 0o770, "writable by group or others"),
])
def test_an_unsafe_conf_dir_is_refused(sup, base, owner, mode, wrong):
    d = base / "conf"
    d.mkdir()
    d.chmod(mode)
    os.chown(d, pwd.getpwnam(owner).pw_uid, -1)
    s = taskmanager(sup, base, SUPERVISOR_CONF_DIR=str(d))
    assert s.wait() == 2
    lines = s.log().splitlines()
    assert len(lines) == 1, lines
    assert f"SUPERVISOR_CONF_DIR={d}" in lines[0] and wrong in lines[0]
    assert "expected a directory owned by uid 0 and writable by it only" in lines[0]
    assert "start" not in s.stdout()
    assert list(d.iterdir()) == []


def test_a_safe_existing_conf_dir_is_used_and_kept(sup, base):
    d = base / "conf"
    d.mkdir(mode=0o700)
    s = taskmanager(sup, base, SUPERVISOR_CONF_DIR=str(d))
    wait_for(lambda: starts(s) == 1, what="the child")
    assert f"env FLINK_CONF_DIR={d}\n" in s.stdout()
    st = d.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, NOBODY.pw_gid, 0o750)
    s.signal(signal.SIGTERM)
    s.wait()
    assert d.is_dir()


def test_a_symlinked_log_dir_is_not_given_away(sup, base):
    target = base / "elsewhere"
    target.mkdir()
    (base / "log").symlink_to(target)
    s = taskmanager(sup, base)
    assert s.wait() == 125
    assert "symbolic link" in s.log() and str(base / "log") in s.log()
    assert "start" not in s.stdout()
    assert target.stat().st_uid == 0


def test_a_short_write_of_the_config_is_an_error(sup, base):
    """RLIMIT_FSIZE cuts the write of a large config short; the log goes to a
    pipe, which the limit does not cover. (sup: its teardown reaps whatever
    this run leaves behind.)"""
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
    env = {"PATH": os.environ["PATH"], "SUPERVISOR_HEALTH_PORT": "0", "FLINK_HOME": str(fake_home(base / "home")),
           "FLINK_LOG_DIR": str(base / "log"), "SUPERVISOR_CONF_DIR": str(base / "conf")}
    env.update({k: v for k, v in os.environ.items() if k in ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS")})
    p = subprocess.run([str(BIN), "taskmanager", "-Dbig.value=" + "x" * 8000], env=env, preexec_fn=limit,
                       capture_output=True, text=True, timeout=15)
    assert p.returncode == 125, p.stderr
    assert "event=config.write_failed" in p.stderr and "File too large" in p.stderr, p.stderr
    assert "start" not in p.stdout


def test_secrets_are_not_in_a_commands_environment(sup):
    s = sup(["--", "env"], {**SECRETS, "KEEP_ME": "yes"})
    assert s.wait() == 0
    names = {line.split("=", 1)[0] for line in s.stdout().splitlines()}
    assert "KEEP_ME" in names and "PATH" in names
    assert not names & set(SECRETS), names


def test_secrets_are_not_in_a_roles_environment(sup, base):
    s = taskmanager(sup, base, KEEP_ME="yes", **SECRETS)
    wait_for(lambda: starts(s) == 1, what="the child")
    names = {line[4:].split("=", 1)[0] for line in s.stdout().splitlines() if line.startswith("env ")}
    assert {"KEEP_ME", "PATH", "FLINK_CONF_DIR", "FLINK_HOME"} <= names
    assert not names & set(SECRETS), names


@pytest.fixture
def many_groups():
    """A user in 70 supplementary groups (more than the 64 once kept)."""
    tag = f"fs{os.getpid() % 100000}"
    groups = [f"{tag}g{i}" for i in range(70)]
    user = f"{tag}u"
    try:
        for g in groups:
            subprocess.run(["groupadd", g], check=True)
        subprocess.run(["useradd", "-M", "-N", "-g", groups[0], "-G", ",".join(groups[1:]), "-s", "/usr/sbin/nologin",
                        user], check=True)
        yield user, {grp.getgrnam(g).gr_gid for g in groups}
    finally:
        subprocess.run(["userdel", user], stderr=subprocess.DEVNULL)
        for g in groups:
            subprocess.run(["groupdel", g], stderr=subprocess.DEVNULL)


def test_a_user_in_many_groups_keeps_them_all(sup, base, many_groups):
    user, gids = many_groups
    s = taskmanager(sup, base, SUPERVISOR_USER=user)
    wait_for(lambda: starts(s) == 1, what="the child")
    (line,) = [l for l in s.stdout().splitlines() if l.startswith("Groups:")]
    assert {int(g) for g in line.split()[1:]} == gids


def test_an_overlong_flink_home_is_refused_not_cut(sup, base):
    """The first 1023 bytes of FLINK_HOME name a distribution of their own:
    cutting the value would run that one."""
    prefix = base
    while len(str(prefix)) < 1023 - 201:
        prefix = prefix / ("d" * 200)
    prefix = prefix / ("h" * (1023 - len(str(prefix)) - 1))
    assert len(str(prefix)) == 1023
    fake_home(prefix)
    long_home = str(prefix) + "/" + "x" * 100
    s = sup(["taskmanager"], {"FLINK_HOME": long_home, "FLINK_LOG_DIR": str(base / "log")})
    assert s.wait() == 2
    lines = [l for l in s.log().splitlines() if "level=warn" not in l]
    assert len(lines) == 1 and "FLINK_HOME" in lines[0] and "at most 1023 bytes" in lines[0], lines
    assert "start" not in s.stdout()
