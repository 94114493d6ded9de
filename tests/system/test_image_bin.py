"""Every script in the image's /opt/flink/bin, run as a user would (docker
exec, as root) in a running local-mode container, with no arguments and
with --help: none may end in a stack trace or hang; those the image does
not support must fail at once (exit 2) with one line saying why and what
to use instead; those it supports must work (their usage, exit 0 or 1).
On the default release and on the newest 2.x. The scripts are listed from
the image itself, so a new one in a Flink release is tested too."""
import re
import subprocess

import pytest

from conftest import IMAGE, docker, wait_for
from support import ROOT, makefile_var

RELEASES = [makefile_var("FLINK_DEFAULT"), makefile_var("FLINK2_VERSION")]
# Sourced by the other scripts: run alone they do nothing and exit 0.
LIBRARIES = {"config.sh", "bash-java-utils.sh", "find-flink-home.sh"}
# What the image supports; what it says about every other script is checked
# against its stand-in (images/bin/unavailable).
SUPPORTED = {"flink", "flink-client.sh", "jobmanager.sh", "taskmanager.sh", "standalone-job.sh",
             "historyserver.sh", "flink-console.sh"} | LIBRARIES
# The role scripts start daemons through flink-daemon.sh unless told
# start-foreground (as the supervisor does): that one says why not.
DAEMON = re.compile(r"^flink-daemon\.sh: not available in this image: .+; use .+$")
TRACE = re.compile(r"^\s+at [\w.$]+\(|^Caused by: |Exception in thread|NoClassDefFoundError", re.M)


def image_of(release):
    return IMAGE if release == RELEASES[0] else f"flink-appliance:{release}"


def scripts():
    out = docker("run", "--rm", "--entrypoint", "ls", IMAGE, "/opt/flink/bin").stdout.split()
    assert "flink" in out and "jobmanager.sh" in out, out
    return sorted(f for f in out if not f.endswith(".jar"))


@pytest.fixture(scope="module", params=RELEASES)
def container(request):
    release = request.param
    if release != RELEASES[0] and docker("image", "inspect", image_of(release), check=False).returncode != 0:
        subprocess.run(["make", "image", f"FLINK_VERSION={release}"], cwd=ROOT, check=True, capture_output=True,
                       timeout=1200)
    name = f"fa-test-bin-{release}"
    docker("rm", "-f", name, check=False)
    docker("run", "-d", "--name", name, image_of(release))
    try:
        wait_for(lambda: docker("exec", name, "test", "-r", "/run/flink/conf/config.yaml", check=False).returncode == 0,
                 60, what="the supervisor's rendered configuration")
        yield name
    finally:
        docker("rm", "-f", name, check=False)


def test_the_image_has_no_script_this_test_does_not_know():
    listed = set(scripts())
    stubbed = listed - SUPPORTED
    assert stubbed, "every script supported: the stand-ins are gone?"
    assert not (SUPPORTED - listed), f"missing from the image: {SUPPORTED - listed}"
    assert {"migrate-config-file.sh", "sql-client.sh", "start-cluster.sh"} <= stubbed


@pytest.mark.parametrize("args", [[], ["--help"]], ids=["no-arguments", "help"])
@pytest.mark.parametrize("script", scripts())
def test_script(container, script, args):
    r = docker("exec", container, f"bin/{script}", *args, check=False, timeout=120)
    out = r.stdout + r.stderr
    assert not TRACE.search(out), f"{script} {' '.join(args)}: a stack trace (exit {r.returncode}):\n{out[-3000:]}"
    if script in LIBRARIES:
        assert r.returncode == 0 and out.strip() == "", out
    elif script in SUPPORTED:
        usage = r.returncode in (0, 1) and re.search(r"[Uu]sage|ACTION", out)
        daemon = r.returncode == 2 and DAEMON.match(r.stderr) and len(r.stderr.splitlines()) == 1
        assert usage or daemon, f"{script} {' '.join(args)} (exit {r.returncode}):\n{out[-3000:]}"
    else:
        lines = r.stderr.splitlines()
        assert r.returncode == 2 and r.stdout == "" and len(lines) == 1, out
        assert re.match(rf"^{re.escape(script)}: not available in this image: .+; use .+$", lines[0]), lines[0]


def test_no_script_changed_the_image_configuration(container):
    """Run after every script above, in the same container: the image's
    conf/ and the supervisor's rendered configuration are as they were."""
    image = docker("inspect", "-f", "{{.Config.Image}}", container).stdout.strip()
    fresh = docker("run", "--rm", "--entrypoint", "sha256sum", image, "/opt/flink/conf/config.yaml").stdout
    assert docker("exec", container, "sha256sum", "/opt/flink/conf/config.yaml").stdout == fresh
    assert "metrics.reporter.prom.factory.class" in docker("exec", container, "cat", "/run/flink/conf/config.yaml").stdout
