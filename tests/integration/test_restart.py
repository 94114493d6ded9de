"""Restart policy, backoff growth and reset, crash-loop give-up, stop during
backoff."""
import re
import signal

import pytest

from conftest import TESTCHILD, wait_for


def stamps(path):
    try:
        return [int(x) for x in path.read_text().split()]
    except FileNotFoundError:
        return []


def run_stamped(sup, tmp_path, code, env):
    f = tmp_path / "stamps"
    return sup(["--", TESTCHILD, "stamp", str(f), str(code)], env), f


def test_on_failure_ends_on_clean_exit(sup, tmp_path):
    s, f = run_stamped(sup, tmp_path, 0, {})
    assert s.wait() == 0
    assert len(stamps(f)) == 1


def test_never_does_not_restart_a_failure(sup, tmp_path):
    s, f = run_stamped(sup, tmp_path, 3, {"SUPERVISOR_RESTART": "never"})
    assert s.wait() == 3
    assert len(stamps(f)) == 1


def test_always_restarts_a_clean_exit(sup, tmp_path):
    s, f = run_stamped(sup, tmp_path, 0, {"SUPERVISOR_RESTART": "always",
                                           "SUPERVISOR_BACKOFF_MIN_MS": "10",
                                           "SUPERVISOR_BACKOFF_MAX_MS": "20"})
    wait_for(lambda: len(stamps(f)) >= 3, what="three starts")
    s.signal(signal.SIGTERM)
    assert s.wait() == 0


def test_backoff_grows_exponentially_then_gives_up(sup, tmp_path):
    s, f = run_stamped(sup, tmp_path, 3, {"SUPERVISOR_BACKOFF_MIN_MS": "100",
                                           "SUPERVISOR_BACKOFF_MAX_MS": "10000",
                                           "SUPERVISOR_MAX_RESTARTS": "4",
                                           "SUPERVISOR_RESTART_WINDOW": "600"})
    assert s.wait(timeout=30) == 111
    t = stamps(f)
    assert len(t) == 5, "expected the first start and 4 restarts"
    gaps = [b - a for a, b in zip(t, t[1:])]
    for i, gap in enumerate(gaps):
        nominal = 100 * 2 ** i
        # Jitter takes off at most a quarter; the upper slack is process start-up.
        assert nominal * 0.75 <= gap <= nominal + 1000, (i, gaps)
    assert gaps == sorted(gaps)
    assert "event=child.gave_up" in s.log()


def test_backoff_is_capped_at_max(sup, tmp_path):
    s, f = run_stamped(sup, tmp_path, 1, {"SUPERVISOR_BACKOFF_MIN_MS": "50",
                                           "SUPERVISOR_BACKOFF_MAX_MS": "120",
                                           "SUPERVISOR_MAX_RESTARTS": "5"})
    assert s.wait(timeout=30) == 111
    delays = [int(d) for d in re.findall(r"delay_ms=(\d+)", s.log())]
    assert len(delays) == 5 and max(delays) <= 120 and min(delays) >= 50, delays


@pytest.mark.parametrize("reset_s,expected_attempts", [("1", [1, 1, 1]), ("100", [1, 2, 3])])
def test_backoff_resets_after_a_stable_run(sup, tmp_path, reset_s, expected_attempts):
    s = sup(["--", "sh", "-c", "sleep 1.2; exit 1"],
            {"SUPERVISOR_BACKOFF_RESET": reset_s, "SUPERVISOR_BACKOFF_MIN_MS": "10"})
    wait_for(lambda: s.log().count("event=child.restart_scheduled") >= 3, timeout=20,
             what="three restarts")
    s.signal(signal.SIGTERM)
    s.wait()
    attempts = [int(a) for a in re.findall(r"attempt=(\d+)", s.log())][:3]
    assert attempts == expected_attempts


def test_crash_loop_gives_up_with_111(sup, tmp_path):
    s, f = run_stamped(sup, tmp_path, 1, {"SUPERVISOR_MAX_RESTARTS": "2",
                                           "SUPERVISOR_BACKOFF_MIN_MS": "10"})
    assert s.wait() == 111
    assert len(stamps(f)) == 3


def test_restarts_outside_the_window_do_not_count(sup, tmp_path):
    s, f = run_stamped(sup, tmp_path, 1, {"SUPERVISOR_MAX_RESTARTS": "1",
                                           "SUPERVISOR_RESTART_WINDOW": "1",
                                           "SUPERVISOR_BACKOFF_MIN_MS": "1300",
                                           "SUPERVISOR_BACKOFF_MAX_MS": "1300"})
    wait_for(lambda: len(stamps(f)) >= 4, timeout=20, what="four starts")
    assert s.proc.poll() is None, "gave up although restarts were further apart than the window"
    s.signal(signal.SIGTERM)
    assert s.wait() == 1


def test_stop_during_backoff_exits_at_once(sup, tmp_path):
    s, f = run_stamped(sup, tmp_path, 4, {"SUPERVISOR_BACKOFF_MIN_MS": "60000",
                                           "SUPERVISOR_BACKOFF_MAX_MS": "60000"})
    s.wait_log("event=child.restart_scheduled")
    s.signal(signal.SIGTERM)
    assert s.wait(timeout=5) == 4
    assert len(stamps(f)) == 1
