#!/usr/bin/env python3
"""Waits (bounded) until the cluster's REST API lists the wanted number of
TaskManagers, then says where the web UI is. Exit 1 on timeout."""
import argparse
import json
import sys
import time
import urllib.request


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--taskmanagers", type=int, default=2)
    p.add_argument("--timeout", type=float, default=300)
    a = p.parse_args()
    deadline = time.monotonic() + a.timeout
    seen = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(a.url + "/overview", timeout=2) as r:
                seen = json.loads(r.read()).get("taskmanagers")
            if seen is not None and seen >= a.taskmanagers:
                print(f"Flink is up: {seen} TaskManagers registered. Web UI: {a.url}")
                return 0
        except (OSError, ValueError):
            pass
        time.sleep(1)
    print(f"timed out after {a.timeout:.0f}s waiting for {a.taskmanagers} TaskManagers at {a.url} "
          f"(last seen: {seen})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
