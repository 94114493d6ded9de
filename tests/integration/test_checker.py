"""The fault tests' checker (tests/chaos/checker.py) can fail: a gap, a
duplicate, a count replayed from stale state and a malformed line are each
reported; only exact output passes."""
import subprocess
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tests" / "chaos"))
import checker  # noqa: E402

N, KEYS = 100, 7


def exact():
    counts = {}
    lines = []
    for n in range(1, N + 1):
        counts[n % KEYS] = counts.get(n % KEYS, 0) + 1
        lines.append(f"{n},{n % KEYS},{counts[n % KEYS]}\n")
    return lines


def test_exact_output_passes():
    r = checker.check(exact(), N, KEYS)
    assert r == {"expected": N, "seen": N, "distinct": N, "duplicated": 0, "lost": 0, "malformed": 0,
                 "keys_wrong": [], "ok": True}


def test_a_gap_is_lost_records_and_a_short_count():
    lines = exact()
    del lines[41:44]
    r = checker.check(lines, N, KEYS)
    assert not r["ok"] and r["lost"] == 3 and r["duplicated"] == 0 and r["seen"] == N - 3
    assert sorted(r["keys_wrong"]) == sorted({n % KEYS for n in (42, 43, 44)})


def test_a_duplicate_is_reported():
    lines = exact()
    lines.insert(10, lines[50])
    r = checker.check(lines, N, KEYS)
    assert not r["ok"] and r["duplicated"] == 1 and r["lost"] == 0 and r["keys_wrong"] == [51 % KEYS]


def test_a_count_from_stale_state_is_wrong_even_with_every_number_once():
    lines = exact()
    n, key, count = lines[60].strip().split(",")
    lines[60] = f"{n},{key},{int(count) - 1}\n"
    r = checker.check(lines, N, KEYS)
    assert not r["ok"] and r["lost"] == 0 and r["duplicated"] == 0 and r["keys_wrong"] == [int(key)]


def test_malformed_lines_and_the_command_line(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "part-0-0").write_text("".join(exact()[:50]))
    (out / "part-1-0").write_text("".join(exact()[50:]))
    (out / ".part-2-0.inprogress.x").write_text("1,1,1\n")
    cmd = [sys.executable, str(ROOT / "tests" / "chaos" / "checker.py"), str(out), "--count", str(N), "--keys", str(KEYS)]
    good = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert good.returncode == 0 and '"ok": true' in good.stdout, good.stdout + good.stderr
    (out / "part-3-0").write_text("seven,0,1\n")
    bad = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and '"malformed": 1' in bad.stdout
    missing = subprocess.run(cmd[:2] + [str(tmp_path / "nope")] + cmd[3:], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "is not a directory" in missing.stderr
