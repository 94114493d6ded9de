#!/usr/bin/env python3
"""make universe: a local Universe repository (the index `dcos package repo
add` reads, packaging 4.0 entries as the Universe's gen_universe.py writes
them) from the package revisions under conf/universe/<name>/<revision>/.

Usage: index.py OUT.json. Serve its directory over HTTP and add it:
dcos package repo add --index=0 appliance http://HOST:PORT/repo.json"""
import base64
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def entry(revision):
    def read(name):
        path = revision / name
        return json.loads(path.read_text()) if path.exists() else None

    out = read("package.json")
    out["releaseVersion"] = int(revision.name)
    for name in ("config", "resource"):
        value = read(f"{name}.json")
        if value is not None:
            out[name] = value
    template = revision / "marathon.json.mustache"
    if template.exists():
        out["marathon"] = {"v2AppMustacheTemplate": base64.standard_b64encode(template.read_bytes()).decode()}
    return out


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    packages = [entry(rev) for pkg in sorted(p for p in HERE.iterdir() if p.is_dir())
                for rev in sorted((r for r in pkg.iterdir() if r.name.isdigit()), key=lambda r: int(r.name))]
    out = Path(argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"packages": packages}, indent=2, sort_keys=True) + "\n")
    print(f"universe: {len(packages)} package revision(s) in {out}")


if __name__ == "__main__":
    main(sys.argv)
