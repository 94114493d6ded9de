"""--print-config and --check tell the truth about ZooKeeper: a refused read
is an error whatever the cache holds, and values that come from the cache
say so in their provenance."""
import re

from kazoo.security import make_digest_acl

from test_zookeeper import BASE, env_for, home, zk  # noqa: F401  (fixtures)


def cache_from_a_good_read(sup, tmp_path, home, zk, auth=None):  # noqa: F811
    extra = {"FLINK_ZK_AUTH": auth} if auth else {}
    s = sup(["--print-config", "taskmanager"], env_for(tmp_path, home, zk, **extra))
    assert s.wait() == 0, s.log()
    assert "parallelism.default: 6  # from: zookeeper\n" in s.stdout()
    assert list((tmp_path / "cache").iterdir()), "the good read left no cache"


def test_a_refused_read_is_an_error_even_with_a_cache(sup, tmp_path, home, zk):  # noqa: F811
    acl = make_digest_acl("flink", "s3cr3t-pw", all=True)
    c = zk.client(auth=[("digest", "flink:s3cr3t-pw")])
    c.create("/flink", b"", acl=[acl])
    c.create(BASE, b"parallelism.default: 6\n", acl=[acl])
    c.stop()
    cache_from_a_good_read(sup, tmp_path, home, zk, auth="digest:flink:s3cr3t-pw")
    for action in ("--print-config", "--check"):
        s = sup([action, "taskmanager"], env_for(tmp_path, home, zk, FLINK_ZK_AUTH="digest:flink:wrong"))
        assert s.wait() == 2, s.log()
        assert "event=zk.read_refused znode=/flink/config" in s.log()
        assert "from: zookeeper" not in s.stdout() and "configuration ok" not in s.stdout()
        assert "wrong" not in s.log() + s.stdout()


def test_values_from_the_cache_say_so(sup, tmp_path, home, zk):  # noqa: F811
    c = zk.client()
    c.ensure_path(BASE)
    c.set(BASE, b"parallelism.default: 6\n")
    c.stop()
    cache_from_a_good_read(sup, tmp_path, home, zk)
    zk.stop()
    s = sup(["--print-config", "taskmanager"], env_for(tmp_path, home, zk, FLINK_ZK_TIMEOUT="2"))
    assert s.wait(timeout=30) == 0, s.log()
    line = next(x for x in s.stdout().splitlines() if x.startswith("parallelism.default:"))
    assert re.fullmatch(r"parallelism\.default: 6  # from: zookeeper \(cache of "
                        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, version 1\)", line), line
    assert "event=zk.using_cache" in s.log()
    # Values from the other layers keep their plain provenance.
    assert "rest.port: 8081  # from: file\n" in s.stdout()


def test_a_bad_rest_port_is_named_for_every_role(sup, tmp_path, home):  # noqa: F811
    for args in (["taskmanager", "-Drest.port=-1"], ["jobmanager", "-Drest.port=http"],
                 ["jobmanager", "-Drest.bind-port=8081", "-Drest.port=0"]):
        s = sup(["--check"] + args, {"FLINK_HOME": str(home)})
        assert s.wait() == 2, (args, s.log(), s.stdout())
        assert "invalid rest.port=" in s.log() and "expected a port 1-65535" in s.log(), s.log()


def test_check_finds_a_command_through_an_empty_path_entry(sup, tmp_path):
    prog = tmp_path / "prog"
    prog.write_text("#!/bin/sh\nexit 0\n")
    prog.chmod(0o755)
    for path in (":/bin", "/bin:", "/nonexistent::/bin"):
        s = sup(["--check", "--", "prog"], {"PATH": path}, prefix=["env", "-C", str(tmp_path)])
        assert s.wait() == 0, (path, s.log())
        s = sup(["--", "prog"], {"PATH": path, "SUPERVISOR_RESTART": "never"}, prefix=["env", "-C", str(tmp_path)])
        assert s.wait() == 0, (path, s.log())
    s = sup(["--check", "--", "prog"], {"PATH": "/bin"}, prefix=["env", "-C", str(tmp_path)])
    assert s.wait() == 2
