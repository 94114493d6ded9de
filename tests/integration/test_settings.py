"""Settings and command line: strict parsing, exit 2 before anything starts,
one line naming the setting, the value and what was expected."""
import json

import pytest

from conftest import TESTCHILD

BAD = [
    ("SUPERVISOR_RESTART", "sometimes", "one of always, on-failure, never"),
    ("SUPERVISOR_STOP_TIMEOUT", "10s", "an integer from 0 to 86400 (seconds)"),
    ("SUPERVISOR_STOP_TIMEOUT", "-1", "an integer from 0 to 86400 (seconds)"),
    ("SUPERVISOR_STOP_TIMEOUT", " 5", "an integer from 0 to 86400 (seconds)"),
    ("SUPERVISOR_BACKOFF_MIN_MS", "0", "an integer from 1 to 3600000 (milliseconds)"),
    ("SUPERVISOR_BACKOFF_MAX_MS", "1e3", "an integer from 1 to 3600000 (milliseconds)"),
    ("SUPERVISOR_BACKOFF_RESET", "99999999999999999999999", "an integer from 0 to 86400 (seconds)"),
    ("SUPERVISOR_MAX_RESTARTS", "+3", "an integer from 0 to 1000 (restarts)"),
    ("SUPERVISOR_RESTART_WINDOW", "0", "an integer from 1 to 86400 (seconds)"),
    ("SUPERVISOR_LOG_LEVEL", "verbose", "one of debug, info, warn, error"),
    ("SUPERVISOR_LOG_FORMAT", "xml", "one of text, json"),
]


def run_stamp(sup, tmp_path, env, extra=()):
    marker = tmp_path / "started"
    s = sup(list(extra) + ["--", TESTCHILD, "stamp", str(marker), "0"], env)
    return s, marker


@pytest.mark.parametrize("name,value,expected", BAD, ids=[f"{b[0]}={b[1]}" for b in BAD])
def test_bad_setting_exits_2_with_one_clear_line(sup, tmp_path, name, value, expected):
    s, marker = run_stamp(sup, tmp_path, {name: value})
    assert s.wait() == 2
    lines = s.log().splitlines()
    assert lines == [f'flink-supervisor: invalid {name}="{value}": expected {expected}']
    assert not marker.exists(), "the child started despite a bad setting"


def test_every_bad_setting_is_reported(sup, tmp_path):
    s, _ = run_stamp(sup, tmp_path, {"SUPERVISOR_RESTART": "x", "SUPERVISOR_LOG_FORMAT": "y"})
    assert s.wait() == 2
    assert len(s.log().splitlines()) == 2


def test_backoff_min_above_max_is_rejected(sup, tmp_path):
    s, marker = run_stamp(sup, tmp_path, {"SUPERVISOR_BACKOFF_MIN_MS": "5000",
                                          "SUPERVISOR_BACKOFF_MAX_MS": "100"})
    assert s.wait() == 2
    assert "SUPERVISOR_BACKOFF_MIN_MS=5000: expected at most SUPERVISOR_BACKOFF_MAX_MS=100" in s.log()
    assert not marker.exists()


def test_empty_setting_means_default(sup, tmp_path):
    s, marker = run_stamp(sup, tmp_path, {"SUPERVISOR_RESTART": "", "SUPERVISOR_STOP_TIMEOUT": ""})
    assert s.wait() == 0
    assert marker.exists()


@pytest.mark.parametrize("args,env,needle", [
    (["bogus"], {}, 'unknown role "bogus" (from the command line): expected local, jobmanager'),
    ([], {"FLINK_ROLE": "nope"}, 'unknown role "nope" (from FLINK_ROLE)'),
    (["--frobnicate"], {}, 'unknown option "--frobnicate"'),
    (["--"], {}, 'missing command after "--"'),
    (["-Dfoo", "--", "true"], {}, 'invalid argument "-Dfoo": expected -Dkey=value'),
    (["-Dfoo=1", "--", "true"], {}, "-D settings need a Flink role"),
])
def test_bad_command_line_exits_2(sup, args, env, needle):
    s = sup(args, env)
    assert s.wait() == 2
    lines = s.log().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines


def test_check_accepts_a_good_configuration(sup):
    s = sup(["--check", "--", TESTCHILD, "exit", "9"])
    assert s.wait() == 0
    assert "configuration ok" in s.stdout()


def test_check_reports_a_missing_command(sup):
    s = sup(["--check", "--", "no-such-program-here"])
    assert s.wait() == 2
    assert 'command "no-such-program-here" not found' in s.log()


def test_check_reports_bad_settings(sup):
    s = sup(["--check", "--", TESTCHILD], {"SUPERVISOR_RESTART": "maybe"})
    assert s.wait() == 2
    assert "SUPERVISOR_RESTART" in s.log()


def test_help_and_version(sup):
    s = sup(["--help"])
    assert s.wait() == 0
    out = s.stdout()
    assert "Usage: flink-supervisor" in out and "SUPERVISOR_RESTART" in out and "111" in out
    v = sup(["-V"])
    assert v.wait() == 0
    assert v.stdout().startswith("flink-supervisor ")


def test_json_log_format(sup):
    s = sup(["--", TESTCHILD, "exit", "5"], {"SUPERVISOR_LOG_FORMAT": "json",
                                               "SUPERVISOR_RESTART": "never"})
    assert s.wait() == 5
    events = [json.loads(line) for line in s.log().splitlines()]
    assert {"time", "level", "event"} <= set(events[0])
    exited = [e for e in events if e["event"] == "child.exited"]
    assert exited and exited[0]["code"] == 5 and exited[0]["child"] == "main"


def test_log_level_filters(sup):
    quiet = sup(["--", TESTCHILD, "exit", "0"], {"SUPERVISOR_LOG_LEVEL": "error"})
    assert quiet.wait() == 0
    assert quiet.log() == ""
    loud = sup(["--", TESTCHILD, "exit", "0"], {"SUPERVISOR_LOG_LEVEL": "debug"})
    assert loud.wait() == 0
    assert "level=debug event=child.running" in loud.log()
