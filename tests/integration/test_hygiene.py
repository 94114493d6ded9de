"""What a forked child inherits when the supervisor runs every integration
at once: libzookeeper's and libcurl's threads open descriptors without
O_CLOEXEC, and the child is forked while they run. The role's script is a
stand-in that reports its descriptors and exits, so the later starts happen
with the probes, the Marathon client and the ZooKeeper session all busy."""
import pytest

from conftest import TESTCHILD, fake_flink_home, free_port, wait_for
from test_marathon import APP, CheckedDouble, app_definition
from test_zookeeper import put, zk  # noqa: F401  (the fixture)


@pytest.fixture
def marathon():
    with CheckedDouble() as m:
        m.add_app(app_definition())
        yield m


def reporting_home(tmp_path):
    return fake_flink_home(tmp_path, "parallelism.default: 1\n", {
        "taskmanager.sh": f'#!/bin/sh\nexec {TESTCHILD} status "$REPORTS/$(date +%s%N)"\n'})


def test_children_get_only_0_1_2_with_every_integration_on(sup, tmp_path, zk, marathon):  # noqa: F811
    from kazoo.client import KazooClient
    client = KazooClient(hosts=zk.hosts)
    client.start()
    try:
        put(client, "/flink/config", "parallelism.default: 2\n")
    finally:
        client.stop()
    reports = tmp_path / "reports"
    reports.mkdir()
    env = {"FLINK_HOME": str(reporting_home(tmp_path)), "REPORTS": str(reports),
           "FLINK_ZK_QUORUM": zk.hosts, "FLINK_ZK_CACHE_DIR": str(tmp_path / "cache"),
           "SUPERVISOR_CONF_DIR": str(tmp_path / "conf"), "SUPERVISOR_HEALTH_PORT": str(free_port()),
           "SUPERVISOR_PROBE_INTERVAL": "1", "SUPERVISOR_BACKOFF_MIN_MS": "100", "SUPERVISOR_BACKOFF_MAX_MS": "200",
           "SUPERVISOR_MAX_RESTARTS": "1000", "SUPERVISOR_RESTART": "always",
           "MARATHON_URL": marathon.url, "MARATHON_APP_ID": APP,
           "JOB_MANAGER_RPC_ADDRESS": "127.0.0.1"}
    s = sup(["taskmanager"], env)
    s.wait_log("event=marathon.registered", timeout=30)
    s.wait_log("event=zk.document_read", timeout=30)
    # Starts after registration and the first probes, with the session up.
    wait_for(lambda: len(list(reports.iterdir())) >= 6, timeout=30, what="six starts")
    for report in sorted(reports.iterdir()):
        lines = dict(line.split(":", 1) for line in report.read_text().splitlines() if ":" in line)
        assert lines["fds"].split() == ["0", "1", "2"], f"descriptors leaked into the child ({report.name}):\n{s.log()}"
