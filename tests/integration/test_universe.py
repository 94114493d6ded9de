"""The DC/OS Universe package (conf/universe/flink-appliance/0) held to the
Universe's and Cosmos' own rules and to Marathon's (../shared/oracle's
universe_validate.py renders it as Cosmos does and sends the app through
marathon_validate.py), for several option sets; the rendered app checked
by the real binary with the task environment Marathon would give it; and
`make universe`'s repository index."""
import base64
import json
import subprocess
import sys

import pytest

from conftest import BIN, ROOT
from oracle import ORACLE
from test_marathon_defs import task_env as marathon_task_env

PACKAGE = ROOT / "conf" / "universe" / "flink-appliance" / "0"
VALIDATE = ORACLE / "universe_validate.py"
OPTION_SETS = {
    "defaults": {},
    "ha": {"ha": {"enabled": True, "storage_dir": "hdfs:///flink/ha"},
           "state": {"checkpoints_dir": "hdfs:///flink/checkpoints", "savepoints_dir": "hdfs:///flink/savepoints"}},
    "small": {"service": {"cpus": 0.5, "mem": 768}, "taskmanagers": {"cpus": 0.5, "mem": 1024, "max": 2}},
    "large": {"service": {"name": "flink-prod", "cpus": 4, "mem": 8192, "log_format": "json"},
              "taskmanagers": {"cpus": 8, "mem": 32768, "slots": 8, "initial": 4, "max": 100},
              "zookeeper": {"quorum": "zk-1:2181,zk-2:2181,zk-3:2181", "chroot": "/flink-prod"}},
    "no-taskmanagers-at-start": {"taskmanagers": {"initial": 0}},
    "secrets-and-properties": {"marathon": {"token_secret": "flink/token", "credentials_secret": "flink/marathon"},
                               "flink": {"properties": "parallelism.default: 4\nstate.backend.type: rocksdb"}},
}


def validate(tmp_path, options, *extra):
    opts = tmp_path / "options.json"
    opts.write_text(json.dumps(options))
    return subprocess.run([sys.executable, str(VALIDATE), "--dcos", "--errors-only", "--features", "secrets",
                           "--options", str(opts), *extra, str(PACKAGE)], capture_output=True, text=True)


def rendered(tmp_path, options):
    out = validate(tmp_path, options, "--show-rendered")
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    return json.JSONDecoder().raw_decode(text[text.index("{"):])[0]


@pytest.mark.parametrize("name", list(OPTION_SETS))
def test_the_package_passes_universe_cosmos_and_marathon_rules(tmp_path, name):
    out = validate(tmp_path, OPTION_SETS[name])
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout == "" and "0 error(s)" in out.stderr


def test_the_oracle_refuses_a_bad_option(tmp_path):
    out = validate(tmp_path, {"taskmanagers": {"cpus": "lots"}})
    assert out.returncode != 0 and "/taskmanagers/cpus" in out.stdout


def task_env(app):
    """What Marathon gives the container, less ZooKeeper and the secret files (none here)."""
    return marathon_task_env(app, without=("FLINK_ZK_QUORUM", "MARATHON_TOKEN_FILE", "MARATHON_CREDENTIALS_FILE"))


@pytest.mark.parametrize("name", list(OPTION_SETS))
def test_the_rendered_app_is_one_appmaster_the_binary_accepts(tmp_path, name):
    app = rendered(tmp_path, OPTION_SETS[name])
    assert app["args"][0] == "appmaster" and app["instances"] == 1
    assert app["labels"]["DCOS_SERVICE_NAME"] == app["id"].lstrip("/")
    assert app["labels"]["DCOS_SERVICE_PORT_INDEX"] == "0" and app["container"]["portMappings"][0]["name"] == "rest"
    seed = json.loads((ROOT / "conf" / "marathon" / "appmaster.json").read_text())
    # The checks registration writes (appmaster.json is held to that): no second deployment.
    assert app["healthChecks"] == seed["healthChecks"] and app["readinessChecks"] == seed["readinessChecks"]
    out = subprocess.run([str(BIN), "--print-config"] + app["args"], env=task_env(app), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    initial = OPTION_SETS[name].get("taskmanagers", {}).get("initial", 1)
    assert f"mesos.initial-tasks: {initial}  # from: arg" in out.stdout


def test_an_initial_count_above_the_maximum_is_refused_at_start(tmp_path):
    app = rendered(tmp_path, {"taskmanagers": {"initial": 5, "max": 2}})
    out = subprocess.run([str(BIN), "--check"] + app["args"], env=task_env(app), capture_output=True, text=True)
    assert out.returncode == 2
    assert "mesos.initial-tasks=5 is above the maximum of 2 TaskManagers" in out.stderr


def test_make_universe_writes_the_repository_index(tmp_path):
    out = tmp_path / "repo.json"
    subprocess.run([sys.executable, str(ROOT / "conf" / "universe" / "index.py"), str(out)], check=True,
                   capture_output=True)
    (entry,) = json.loads(out.read_text())["packages"]
    assert entry["name"] == "flink-appliance" and entry["packagingVersion"] == "4.0" and entry["releaseVersion"] == 0
    template = base64.standard_b64decode(entry["marathon"]["v2AppMustacheTemplate"])
    assert template == (PACKAGE / "marathon.json.mustache").read_bytes()
    assert entry["config"] == json.loads((PACKAGE / "config.json").read_text())
    sys.path.insert(0, str(ORACLE))
    import universe_validate
    import argparse
    validator = universe_validate.PackageValidator(argparse.Namespace(schema="none", lenient=False))
    assert list(validator.repo_validator("v4").iter_errors(json.loads(out.read_text()))) == []
