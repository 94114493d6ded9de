"""Configuration from a real ZooKeeper: layering, role documents, chroot,
digest ACLs, invalid documents, changes with rolling restarts, outages,
session expiry, the on-disk cache and --zk-push. The role's scripts are
stand-ins that record the config they started with, so no JVM is needed."""
import re
import signal
import time

import pytest
from kazoo.security import make_digest_acl

from conftest import children_of, fake_flink_home, wait_for
from zkserver import ZooKeeper

BASE = "/flink/config"


@pytest.fixture
def zk(tmp_path):
    server = ZooKeeper(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def home(tmp_path):
    """A FLINK_HOME whose scripts record each start and the config they got."""
    # Copied under a temp name, then renamed: the test never reads half a file.
    record = ('#!/bin/sh\nn=$(ls "$STARTS" | wc -l)\ncp "$FLINK_CONF_DIR/config.yaml" "$STARTS/.$n"\n'
              'mv "$STARTS/.$n" "$STARTS/$n"\nexec sleep 100000\n')
    return fake_flink_home(tmp_path, "parallelism.default: 1\nrest.port: 8081\n",
                           {"jobmanager.sh": record, "taskmanager.sh": record})


def env_for(tmp_path, home, zk, **extra):
    starts = tmp_path / "starts"
    starts.mkdir(exist_ok=True)
    env = {"FLINK_HOME": str(home), "FLINK_ZK_QUORUM": zk.hosts if zk else "127.0.0.1:1",
           "FLINK_ZK_CACHE_DIR": str(tmp_path / "cache"), "SUPERVISOR_CONF_DIR": str(tmp_path / "conf"),
           "STARTS": str(starts), "SUPERVISOR_STOP_TIMEOUT": "5", "FLINK_ZK_TIMEOUT": "5"}
    env.update(extra)
    return env


def starts(tmp_path):
    d = tmp_path / "starts"
    return [(d / str(i)).read_text() for i in range(len(list(d.glob("[0-9]*"))))] if d.exists() else []


def value(config_text, key):
    m = re.search(rf"^{re.escape(key)}: (.*)$", config_text, re.M)
    return m.group(1) if m else None


def put(client, path, text):
    client.ensure_path(path)
    client.set(path, text.encode())


def test_layering_role_document_and_provenance(sup, tmp_path, home, zk):
    c = zk.client()
    put(c, BASE, "parallelism.default: 3\nrest.port: 9000\nstate.backend.type: rocksdb\n")
    put(c, BASE + "/jobmanager", "rest.port: 9100\n")
    put(c, BASE + "/taskmanager", "rest.port: 9200\n")
    s = sup(["--print-config", "jobmanager", "-Dstate.backend.type=hashmap"],
            env_for(tmp_path, home, zk, FLINK_PROPERTIES="parallelism.default: 4"))
    assert s.wait() == 0, s.log()
    out = s.stdout()
    assert "rest.port: 9100  # from: zookeeper" in out
    assert "parallelism.default: 4  # from: env" in out
    assert "state.backend.type: hashmap  # from: arg" in out
    assert "rest.bind-address: 0.0.0.0  # from: default" in out
    c.stop()


def test_ha_quorum_defaults_to_flink_zk_quorum(sup, tmp_path, home, zk):
    c = zk.client()
    put(c, "/tenant/flink/config", "high-availability: zookeeper\n")
    s = sup(["--print-config", "jobmanager"], env_for(tmp_path, home, zk, FLINK_ZK_QUORUM=zk.hosts + "/tenant"))
    assert s.wait() == 0, s.log()
    assert f"high-availability.zookeeper.quorum: {zk.hosts}  # from: env" in s.stdout()
    assert "high-availability.zookeeper.path.root: /tenant  # from: env" in s.stdout()
    c.stop()


def test_missing_znode_is_an_empty_document(sup, tmp_path, home, zk):
    s = sup(["--print-config", "taskmanager"], env_for(tmp_path, home, zk))
    assert s.wait() == 0, s.log()
    assert "event=zk.document_missing znode=/flink/config" in s.log()
    assert "parallelism.default: 1  # from: file" in s.stdout()


@pytest.mark.parametrize("right", [True, False], ids=["right-password", "wrong-password"])
def test_digest_acl(sup, tmp_path, home, zk, right):
    acl = make_digest_acl("flink", "s3cr3t-pw", all=True)
    c = zk.client(auth=[("digest", "flink:s3cr3t-pw")])
    c.create("/flink", b"", acl=[acl])
    c.create(BASE, b"parallelism.default: 6\n", acl=[acl])
    password = "s3cr3t-pw" if right else "not-it-either"
    s = sup(["--print-config", "taskmanager"], env_for(tmp_path, home, zk, FLINK_ZK_AUTH=f"digest:flink:{password}"))
    code = s.wait()
    assert password not in s.log() + s.stdout()
    if right:
        assert code == 0, s.log()
        assert "parallelism.default: 6  # from: zookeeper" in s.stdout()
    else:
        assert code == 2
        assert "event=zk.read_refused znode=/flink/config" in s.log()
    c.stop()


def test_auth_from_a_file(sup, tmp_path, home, zk):
    acl = make_digest_acl("flink", "pw-in-file", all=True)
    c = zk.client(auth=[("digest", "flink:pw-in-file")])
    c.create("/flink", b"", acl=[acl])
    c.create(BASE, b"parallelism.default: 8\n", acl=[acl])
    secret = tmp_path / "zk-auth"
    secret.write_text("digest:flink:pw-in-file\n")
    s = sup(["--print-config", "taskmanager"], env_for(tmp_path, home, zk, FLINK_ZK_AUTH=f"@{secret}"))
    assert s.wait() == 0, s.log()
    assert "parallelism.default: 8  # from: zookeeper" in s.stdout()
    c.stop()


@pytest.mark.parametrize("doc,needle", [
    ("rest: [unclosed\n", "/flink/config: line "),
    ("- not\n- a mapping\n", "the document is not a mapping"),
    ("".join(f"l{i}: &l{i} {{" + ", ".join(f"k{j}: *l{i - 1}" if i else f"k{j}: v" for j in range(10)) + "}\n"
             for i in range(7)), "nodes after alias expansion"),
])
def test_invalid_document_at_start_without_last_good_exits_2(sup, tmp_path, home, zk, doc, needle):
    c = zk.client()
    put(c, BASE, doc)
    s = sup(["taskmanager"], env_for(tmp_path, home, zk))
    assert s.wait() == 2
    assert "event=zk.document_rejected" in s.log() and needle in s.log()
    assert starts(tmp_path) == []
    c.stop()


def test_malformed_quorum_exits_2(sup, tmp_path, home):
    for bad in ("localhost", "host:99999", "h:1,,h:2", "h:1/chroot/"):
        s = sup(["taskmanager"], env_for(tmp_path, home, None, FLINK_ZK_QUORUM=bad))
        assert s.wait() == 2
        assert f'invalid FLINK_ZK_QUORUM="{bad}"' in s.log()


def run_with_changes(sup, tmp_path, home, zk, **extra):
    c = zk.client()
    put(c, BASE, "parallelism.default: 2\n")
    s = sup(["taskmanager"], env_for(tmp_path, home, zk, **extra))
    wait_for(lambda: len(starts(tmp_path)) == 1, timeout=20, what="first start")
    assert value(starts(tmp_path)[0], "parallelism.default") == "2"
    return s, c


def test_change_rolls_the_child_with_the_new_value_and_identical_rewrite_does_nothing(sup, tmp_path, home, zk):
    s, c = run_with_changes(sup, tmp_path, home, zk)
    c.set(BASE, b"parallelism.default: 5\n")
    wait_for(lambda: len(starts(tmp_path)) == 2, timeout=10, what="rolling restart")
    assert value(starts(tmp_path)[1], "parallelism.default") == "5"
    assert "event=child.rolling_restart" in s.log()
    # A burst of writes is applied once, and a rewrite with the same content not at all.
    for v in (6, 7, 5):
        c.set(BASE, f"parallelism.default: {v}\n".encode())
    s.wait_log("event=zk.unchanged", timeout=10)
    assert len(starts(tmp_path)) == 2
    # Every read found no role document; that is said once, not per read.
    assert s.log().count("event=zk.document_missing znode=/flink/config/taskmanager") == 1
    s.signal(signal.SIGTERM)
    assert s.wait() == 128 + signal.SIGTERM
    c.stop()


def test_ignore_logs_the_change_and_keeps_the_child(sup, tmp_path, home, zk):
    s, c = run_with_changes(sup, tmp_path, home, zk, FLINK_ZK_ON_CHANGE="ignore")
    (child,) = children_of(s.pid)
    assert "event=zk.unchanged" not in s.log()
    c.set(BASE, b"parallelism.default: 9\n")
    s.wait_log("event=zk.change_ignored", timeout=10)
    # The ignored change must not become what runs: the original document,
    # pushed again, reads as no change. Its debounce (1 s) also outlasts any
    # wrong restart the first change could have started (the child dies of
    # TERM at once and is spawned again as soon as it is reaped), so by this
    # line such a restart would have replaced the child.
    c.set(BASE, b"parallelism.default: 2\n")
    s.wait_log("event=zk.unchanged", timeout=10)
    assert list(children_of(s.pid)) == [child]
    assert len(starts(tmp_path)) == 1
    log = s.log()
    assert log.count("event=zk.change_ignored") == 1
    assert "event=zk.change_applied" not in log and "event=child.rolling_restart" not in log
    c.stop()


def test_invalid_document_at_runtime_keeps_the_last_good_one(sup, tmp_path, home, zk):
    s, c = run_with_changes(sup, tmp_path, home, zk)
    c.set(BASE, b"parallelism.default: [broken\n")
    s.wait_log("event=zk.document_rejected", timeout=10)
    assert 'kept="the last good configuration"' in s.log()
    c.set(BASE, b"parallelism.default: 3\n")
    wait_for(lambda: len(starts(tmp_path)) == 2, timeout=10, what="the next valid change applied")
    assert value(starts(tmp_path)[1], "parallelism.default") == "3"
    c.stop()


def test_zookeeper_outage_leaves_the_child_alone_and_later_changes_apply(sup, tmp_path, home, zk):
    s, c = run_with_changes(sup, tmp_path, home, zk)
    c.stop()
    zk.stop()
    s.wait_log("event=zk.session state=disconnected", timeout=20)
    time.sleep(1)  # an outage that lasts: the child must simply keep running through it
    assert len(starts(tmp_path)) == 1 and s.proc.poll() is None
    zk.start()
    c = zk.client()
    c.set(BASE, b"parallelism.default: 4\n")
    wait_for(lambda: len(starts(tmp_path)) == 2, timeout=30, what="change after the outage")
    assert value(starts(tmp_path)[1], "parallelism.default") == "4"
    c.stop()


def test_session_expiry_recovers_without_losing_a_change(sup, tmp_path, home, zk):
    # The supervisor, all its threads, is stopped past its 1 s session while
    # the server runs on: the server expires the session for certain (pausing
    # the server instead races its expiry against the client's reconnect).
    s, c = run_with_changes(sup, tmp_path, home, zk, FLINK_ZK_TIMEOUT="1")
    s.signal(signal.SIGSTOP)
    try:
        c.set(BASE, b"parallelism.default: 8\n")  # the change made during the gap
        time.sleep(3)  # the gap itself: longer than the session, so the server expires it
    finally:
        s.signal(signal.SIGCONT)
    s.wait_log("event=zk.session state=expired", timeout=30)
    wait_for(lambda: len(starts(tmp_path)) == 2, timeout=30, what="the change made during the expiry")
    assert value(starts(tmp_path)[-1], "parallelism.default") == "8"
    assert s.proc.poll() is None
    c.stop()


def test_start_from_cache_while_zookeeper_is_down(sup, tmp_path, home, zk):
    s, c = run_with_changes(sup, tmp_path, home, zk)
    c.stop()
    s.signal(signal.SIGTERM)
    s.wait()
    zk.stop()
    again = sup(["taskmanager"], env_for(tmp_path, home, zk))
    wait_for(lambda: len(starts(tmp_path)) == 2, timeout=20, what="start from the cache")
    assert value(starts(tmp_path)[1], "parallelism.default") == "2"
    assert "event=zk.using_cache reason=\"ZooKeeper unreachable\"" in again.log()


def test_no_cache_and_zookeeper_down_exits_112_after_the_timeout(sup, tmp_path, home):
    started = time.monotonic()
    s = sup(["taskmanager"], env_for(tmp_path, home, None, FLINK_ZK_TIMEOUT="2"))
    assert s.wait(timeout=30) == 112
    assert time.monotonic() - started >= 2
    assert "event=zk.unreachable" in s.log()
    assert starts(tmp_path) == []


def test_zk_push_validates_and_writes_creating_parents(sup, tmp_path, zk):
    doc = tmp_path / "doc.yaml"
    doc.write_text("parallelism.default: 12\n")
    s = sup(["--zk-push", str(doc)], {"FLINK_ZK_QUORUM": zk.hosts + "/chroot/a", "FLINK_ZK_CONFIG_PATH": "/x/y/config"})
    assert s.wait() == 0, s.log()
    c = zk.client()
    assert c.get("/chroot/a/x/y/config")[0] == b"parallelism.default: 12\n"
    doc.write_text("not: [valid\n")
    bad = sup(["--zk-push", str(doc)], {"FLINK_ZK_QUORUM": zk.hosts})
    assert bad.wait() == 2
    assert "doc.yaml: line " in bad.log()
    c.stop()


def test_zk_push_with_auth_protects_what_it_creates(sup, tmp_path, zk):
    doc = tmp_path / "doc.yaml"
    doc.write_text("parallelism.default: 13\n")
    s = sup(["--zk-push", str(doc)], {"FLINK_ZK_QUORUM": zk.hosts, "FLINK_ZK_AUTH": "digest:flink:pw"})
    assert s.wait() == 0, s.log()
    assert "pw" not in s.stdout() + s.log().replace("pushed", "")
    anonymous = zk.client()
    from kazoo.exceptions import NoAuthError
    with pytest.raises(NoAuthError):
        anonymous.get(BASE)
    anonymous.stop()
    owner = zk.client(auth=[("digest", "flink:pw")])
    assert owner.get(BASE)[0] == b"parallelism.default: 13\n"
    owner.stop()


def test_rejection_shows_in_metrics_and_health_details(sup, tmp_path, home, zk):
    import json
    from conftest import free_port
    from test_health import get
    port = free_port()
    s, c = run_with_changes(sup, tmp_path, home, zk, SUPERVISOR_HEALTH_PORT=str(port))
    wait_for(lambda: get(port, "/health")[0] == 200, timeout=10, what="healthy")
    assert "flink_supervisor_config_rejections_total 0" in get(port, "/metrics")[2]
    c.set(BASE, b"parallelism.default: [broken\n")
    s.wait_log("event=zk.document_rejected", timeout=10)
    status, _, body = get(port, "/health")
    assert status == 200, "a rejected document must not make the running Flink unhealthy"
    assert json.loads(body)["zookeeper"] == {"connected": True, "config_rejections": 1}
    metrics = get(port, "/metrics")[2]
    assert "flink_supervisor_config_rejections_total 1" in metrics
    assert "flink_supervisor_zookeeper_connected 1" in metrics
    assert len(starts(tmp_path)) == 1
    c.stop()
