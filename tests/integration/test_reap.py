"""Zombie reaping: orphaned grandchildren come to the supervisor (as a child
subreaper when it is not PID 1) and are reaped."""
import re
import signal

from conftest import orphan_storm


def test_zombie_storm_leaves_no_zombies(sup):
    # Only the main child may remain: every orphan came to us and was reaped.
    s, _ = orphan_storm(sup, 300)
    s.signal(signal.SIGTERM)
    assert s.wait() == 128 + signal.SIGTERM
    reaped = int(re.search(r"orphans_reaped=(\d+)", s.log()).group(1))
    # The intermediate parent of the orphans is one more.
    assert reaped >= 300, s.log()
