#!/usr/bin/env python3
"""The fault tests' checker: reads what examples/ExactlyOnce.java committed
("n,key,count" lines in the files of its output directory; Flink's hidden
in-progress and pending files are not output) and reports, for one run,
the records expected, seen, duplicated and lost, and whether every key's
counts went 1, 2, ... up to the number of 1..N on that key, each once.

    tests/chaos/checker.py DIR --count N --keys K    (JSON; exit 0 when exact, 1 if not)
"""
import argparse
import json
import os
import sys
from collections import Counter


def check(lines, n, keys):
    """lines: the committed lines of one run. A dict of the figures; `ok`
    is True only when nothing is lost, duplicated, malformed or miscounted."""
    numbers = Counter()
    counts = {}
    malformed = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            value, key, count = (int(f) for f in line.split(","))
        except ValueError:
            malformed.append(line)
            continue
        if not 1 <= value <= n or key != value % keys:
            malformed.append(line)
            continue
        numbers[value] += 1
        counts.setdefault(key, Counter())[count] += 1
    duplicated = sum(c - 1 for c in numbers.values() if c > 1)
    lost = n - len(numbers)
    wrong_keys = []
    for key in range(keys):
        expected = len(range(key if key else keys, n + 1, keys))
        seen = counts.get(key, Counter())
        if sorted(seen) != list(range(1, expected + 1)) or any(c != 1 for c in seen.values()):
            wrong_keys.append(key)
    return {
        "expected": n,
        "seen": sum(numbers.values()),
        "distinct": len(numbers),
        "duplicated": duplicated,
        "lost": lost,
        "malformed": len(malformed),
        "keys_wrong": wrong_keys,
        "ok": duplicated == 0 and lost == 0 and not malformed and not wrong_keys,
    }


def committed_lines(directory):
    """Every line of every committed file under directory: Flink names the
    files it has not committed yet with a leading dot."""
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for f in sorted(files):
            if f.startswith("."):
                continue
            with open(os.path.join(root, f), encoding="utf-8") as fh:
                yield from fh


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("directory")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--keys", type=int, default=16)
    a = p.parse_args()
    if not os.path.isdir(a.directory):
        print(f"checker: {a.directory} is not a directory: expected the job's output directory", file=sys.stderr)
        return 2
    result = check(committed_lines(a.directory), a.count, a.keys)
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
