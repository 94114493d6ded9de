"""Marathon's own rules, from ../shared/oracle/marathon_validate.py (Marathon
1.10's RAML types and Scala validators, and the 1.7 schema): called here, in
process, by the Marathon double (it answers 422 to what they reject) and by
the tests of what we ship. Nothing of the rules is copied."""
import argparse
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ORACLE = ROOT.parent / "shared" / "oracle"
VALIDATE = ORACLE / "marathon_validate.py"

_lock = threading.Lock()
_loaded = {}


def _oracle():
    """The module and its schema layers, loaded once (about half a second)."""
    with _lock:
        if not _loaded:
            if not VALIDATE.exists():
                raise RuntimeError(f"the Marathon oracle is missing: expected {VALIDATE}")
            sys.path.insert(0, str(ORACLE))
            import marathon_validate as mv  # noqa: E402
            _loaded.update(mv=mv, layers=[mv.Json17(), mv.Raml110(strict=True)])
        return _loaded["mv"], _loaded["layers"]


def errors(text, partial):
    """What Marathon rejects in a request body (text: its JSON), as
    [(path as in Marathon's 422, "message [source]")]; partial: a PUT/PATCH
    body. The same as `marathon_validate.py --errors-only [--partial] -`."""
    mv, layers = _oracle()
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    args = argparse.Namespace(partial=partial, schema="all", lenient=False, features="", default_network_name=None,
                              errors_only=True, mesos_role="*", client=False, dcos=False)
    mv.apply_presets(args)
    problems = mv.Problems()
    with _lock:
        doc = mv.load_json_text(text, problems)
        if doc is not None:
            mv.validate_doc(doc, args, layers, problems)
        mv.dedupe_json17(problems)
    return [(marathon_path(path), f"{msg} [{src}]") for path, msg, src, level in problems.items if level == "error"]


def marathon_path(keys):
    """Where Marathon's 422 says a problem is: /healthChecks(0)/portIndex."""
    out = []
    for key in keys:
        if isinstance(key, int) and out:
            out[-1] += f"({key})"
        else:
            out.append(str(key))
    return "/" + "/".join(out)


def check_files(*paths, errors_only=False, extra=()):
    """The oracle's own command line over files: (exit code, output)."""
    args = [sys.executable, str(VALIDATE)] + (["--errors-only"] if errors_only else []) + list(extra)
    p = subprocess.run(args + [str(p) for p in paths], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr
