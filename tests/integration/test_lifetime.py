"""Nothing outlives the supervisor: a child of a supervisor that was killed,
what a child left behind in its process group, and the directory the
supervisor was started in, which it does not keep busy."""
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

from conftest import TESTCHILD, alive, children_of, descendants, fake_flink_home, wait_for


def test_a_child_dies_with_a_killed_supervisor(sup, tmp_path):
    out = tmp_path / "rec"
    s = sup(["--", TESTCHILD, "record", str(out)], {"SUPERVISOR_RESTART": "never"})
    wait_for(lambda: out.exists() and "ready" in out.read_text(), what="child ready")
    (child,) = children_of(s.pid)
    s.signal(signal.SIGKILL)
    s.wait()
    # The test runner is a subreaper: the orphan would come to it and live on.
    wait_for(lambda: not alive(child), timeout=1, what="the child gone within a second")


def test_a_jvm_running_as_another_user_dies_with_a_killed_supervisor(sup, tmp_path):
    assert tmp_path.stat().st_mode & 0o077 == 0
    """The parent-death signal is set after the change of user (which would
    clear it) and survives the exec of Flink's script and of java. Started
    in a directory only root may enter (pytest's): the JVM keeps it anyway."""
    base = Path(tempfile.mkdtemp(prefix="flink-lifetime-"))
    base.chmod(0o755)
    home = fake_flink_home(base, "parallelism.default: 1\n",
                           {"taskmanager.sh": "#!/bin/sh\nexec sleep 100000\n"})
    try:
        s = sup(["taskmanager", "-Djobmanager.rpc.address=127.0.0.1"],
                {"FLINK_HOME": str(home), "SUPERVISOR_USER": "nobody", "FLINK_LOG_DIR": str(base / "log")},
                prefix=["env", "-C", str(tmp_path)])
        killed_with(s)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def killed_with(s):
    child = wait_for(lambda: [p for p in children_of(s.pid) if b"sleep" in Path(f"/proc/{p}/cmdline").read_bytes()],
                     what="the stand-in JVM")[0]
    assert Path(f"/proc/{child}/status").read_text().count("\t65534\t") >= 1, "not running as nobody"
    s.signal(signal.SIGKILL)
    s.wait()
    wait_for(lambda: not alive(child), timeout=1, what="the JVM gone within a second")


def test_what_a_child_leaves_in_its_group_gets_sigterm_before_the_supervisor_exits(sup, tmp_path):
    """A shell that leaves a background pipeline behind and exits: the
    pipeline gets SIGTERM (its trap runs), and the supervisor exits with
    the shell's status only once nothing is left."""
    termed, trapped = tmp_path / "termed", tmp_path / "trapped"
    script = (f"trap 'echo term >> {termed}; exit 0' TERM; touch {trapped}; "
              "sleep 1000 & wait")
    # The shell exits once the pipeline has its trap (at most 1000 polls).
    wait_trap = f"i=0; while [ ! -e {trapped} ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done"
    s = sup(["--", "sh", "-c", f"sh -c \"{script}\" | cat & {wait_trap}; exit 7"],
            {"SUPERVISOR_RESTART": "never", "SUPERVISOR_STOP_TIMEOUT": "5"})
    assert s.wait(timeout=10) == 7, s.log()
    assert termed.read_text() == "term\n", "the leftover pipeline got no SIGTERM"
    assert "event=child.draining" in s.log()
    assert not descendants(os.getpid()), "something outlived the supervisor"


def test_leftovers_that_ignore_sigterm_are_killed_after_the_stop_timeout(sup, tmp_path):
    pids = tmp_path / "pids"
    started = time.monotonic()
    s = sup(["--", "sh", "-c", f"{TESTCHILD} group 2 {pids} & sleep 0.5; exit 3"],
            {"SUPERVISOR_RESTART": "never", "SUPERVISOR_STOP_TIMEOUT": "1"})
    assert s.wait(timeout=15) == 3, s.log()
    assert time.monotonic() - started >= 1.5, "the leftovers were not given the stop timeout"
    assert "event=child.drain_timeout" in s.log()
    left = [int(p) for p in pids.read_text().split()]
    assert left and not any(alive(p) for p in left)


def test_the_supervisor_leaves_its_start_directory_and_children_keep_it(sup, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    stamps = tmp_path / "stamps"
    # Each start writes its working directory, then the first two crash.
    script = f'pwd >> {stamps}; [ $(wc -l < {stamps}) -ge 3 ] && exec sleep 1000; exit 1'
    s = sup(["--", "sh", "-c", script], {"SUPERVISOR_RESTART": "on-failure", "SUPERVISOR_BACKOFF_MIN_MS": "50",
                                         "SUPERVISOR_BACKOFF_MAX_MS": "100"}, prefix=["env", "-C", str(work)])
    wait_for(lambda: stamps.exists() and len(stamps.read_text().split()) >= 3, what="three starts")
    assert stamps.read_text().split() == [str(work)] * 3, "a restarted child did not start in the start directory"
    assert os.readlink(f"/proc/{s.pid}/cwd") == "/"
    s.signal(signal.SIGTERM)
    assert s.wait() == 143


def test_a_relative_command_is_found_after_the_supervisor_left(sup, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    prog = work / "prog"
    stamps = tmp_path / "stamps"
    prog.write_text(f"#!/bin/sh\necho x >> {stamps}\nexit 1\n")
    prog.chmod(0o755)
    s = sup(["--", "./prog"], {"SUPERVISOR_RESTART": "on-failure", "SUPERVISOR_BACKOFF_MIN_MS": "50",
                               "SUPERVISOR_BACKOFF_MAX_MS": "100", "SUPERVISOR_MAX_RESTARTS": "2"},
            prefix=["env", "-C", str(work)])
    assert s.wait(timeout=15) == 111, s.log()
    assert len(stamps.read_text().split()) == 3, s.log()
