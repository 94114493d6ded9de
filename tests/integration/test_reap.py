"""Zombie reaping: orphaned grandchildren come to the supervisor (as a child
subreaper when it is not PID 1) and are reaped."""
import re
import signal

from conftest import children_of, wait_for

from conftest import TESTCHILD


def zombies_of(pid):
    return [p for p, st in children_of(pid).items() if st[0] == "Z"]


def test_zombie_storm_leaves_no_zombies(sup):
    s = sup(["--", TESTCHILD, "orphans", "300"], {"SUPERVISOR_RESTART": "never"})
    wait_for(lambda: "orphaned" in s.stdout(), what="orphans created")
    # Only the main child may remain: every orphan came to us and was reaped.
    wait_for(lambda: len(children_of(s.pid)) == 1 and not zombies_of(s.pid), timeout=20,
             what="all orphans reaped")
    s.signal(signal.SIGTERM)
    assert s.wait() == 128 + signal.SIGTERM
    reaped = int(re.search(r"orphans_reaped=(\d+)", s.log()).group(1))
    # The intermediate parent of the orphans is one more.
    assert reaped >= 300, s.log()
