/* Unit tests: planning the checks on our Marathon app, and the probe's
 * targets from a Flink configuration. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "integrations/appchecks.h"
#include "integrations/probe.h"

static const struct appchecks_want want = {
        .protocol = APPCHECKS_HTTP, .grace_s = 300, .interval_s = 30, .timeout_s = 10, .failures = 3,
        .ready_interval_s = 30, .ready_timeout_s = 10, .health_port = 8558,
};

#define PORTS "\"container\":{\"type\":\"DOCKER\",\"portMappings\":[{\"containerPort\":8081,\"name\":\"rest\"},{\"containerPort\":8558,\"name\":\"health\"}]}"

static int plan(const char *text, const struct appchecks_want *w, struct appchecks_plan *p)
{
        char err[300];
        return appchecks_plan(text, strlen(text), w, p, err, sizeof err);
}

static void bare_app_gets_both_checks(void **state)
{
        struct appchecks_plan p;
        (void)state;
        assert_int_equal(plan("{\"app\":{\"id\":\"/flink/jm\"," PORTS ",\"healthChecks\":[],\"deployments\":[]}}", &want, &p), 0);
        assert_non_null(p.body);
        assert_true(p.readiness);
        assert_int_equal(p.deployments, 0);
        assert_non_null(strstr(p.body, "\"portIndex\":1"));
        assert_non_null(strstr(p.body, "\"path\":\"/health\""));
        assert_non_null(strstr(p.body, "\"portName\":\"health\""));
        assert_non_null(strstr(p.body, "\"path\":\"/ready\""));
        assert_null(strstr(p.body, "version"));
        appchecks_plan_free(&p);
}

/* What Marathon returns for what we wrote, every default filled in. */
#define OURS_FILLED "\"healthChecks\":[{\"protocol\":\"HTTP\",\"path\":\"/health\",\"portIndex\":1,\"gracePeriodSeconds\":300," \
        "\"intervalSeconds\":30,\"timeoutSeconds\":10,\"maxConsecutiveFailures\":3,\"delaySeconds\":15,\"ignoreHttp1xx\":false," \
        "\"ipProtocol\":\"IPv4\"}],\"readinessChecks\":[{\"name\":\"readinessCheck\",\"protocol\":\"HTTP\",\"path\":\"/ready\"," \
        "\"portName\":\"health\",\"intervalSeconds\":30,\"timeoutSeconds\":10,\"httpStatusCodesForReady\":[200]," \
        "\"preserveLastResponse\":false}]"

static void matching_app_needs_no_write(void **state)
{
        struct appchecks_plan p;
        (void)state;
        assert_int_equal(plan("{\"app\":{" PORTS "," OURS_FILLED ",\"deployments\":[{\"id\":\"d1\"}]}}", &want, &p), 0);
        assert_null(p.body);
        assert_int_equal(p.deployments, 1);
}

static void changed_setting_writes_only_that_array(void **state)
{
        struct appchecks_want w = want;
        struct appchecks_plan p;
        (void)state;
        w.failures = 5;
        assert_int_equal(plan("{\"app\":{" PORTS "," OURS_FILLED "}}", &w, &p), 0);
        assert_non_null(p.body);
        assert_non_null(strstr(p.body, "\"maxConsecutiveFailures\":5"));
        assert_null(strstr(p.body, "readinessChecks"));
        appchecks_plan_free(&p);
}

static void foreign_checks_are_replaced(void **state)
{
        struct appchecks_plan p;
        (void)state;
        assert_int_equal(plan("{\"app\":{" PORTS ",\"healthChecks\":[{\"protocol\":\"COMMAND\",\"command\":{\"value\":\"true\"}}]}}",
                              &want, &p), 0);
        assert_non_null(p.body);
        assert_null(strstr(p.body, "COMMAND"));
        appchecks_plan_free(&p);
}

static void port_definitions_when_no_mappings(void **state)
{
        struct appchecks_plan p;
        (void)state;
        assert_int_equal(plan("{\"app\":{\"container\":{\"portMappings\":[]},\"portDefinitions\":[{\"port\":0,\"name\":\"health\"}]}}",
                              &want, &p), 0);
        assert_non_null(strstr(p.body, "\"portIndex\":0"));
        appchecks_plan_free(&p);
}

static void no_health_port(void **state)
{
        struct appchecks_want w = want;
        struct appchecks_plan p;
        (void)state;
        assert_int_equal(plan("{\"app\":{\"portDefinitions\":[{\"port\":0,\"name\":\"rest\"}]}}", &want, &p), -ENOENT);
        /* A check inside the container finds the port without a name, but no readiness. */
        w.protocol = APPCHECKS_MESOS_HTTP;
        assert_int_equal(plan("{\"app\":{\"portDefinitions\":[{\"port\":0,\"name\":\"rest\"}]}}", &w, &p), 0);
        assert_non_null(strstr(p.body, "\"port\":8558"));
        assert_non_null(strstr(p.body, "MESOS_HTTP"));
        assert_false(p.readiness);
        appchecks_plan_free(&p);
}

static void malformed_answers(void **state)
{
        static const char *const bad[] = {
                "", "{", "[]", "{\"app\":[]}", "{\"app\":{\"healthChecks\":{}}}", "{\"app\":{\"healthChecks\":[1]}}",
                "{\"app\":{\"container\":{\"portMappings\":{}}}}", "{\"app\":{\"portDefinitions\":[{\"name\":7}]}}",
                "{\"app\":{\"deployments\":5," PORTS "}}", "{\"app\":{},\"app\":{}}",
        };
        struct appchecks_plan p;
        (void)state;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                assert_int_equal(plan(bad[i], &want, &p), -EPROTO);
                assert_null(p.body);
        }
}

static void probe_targets_by_role(void **state)
{
        struct probe_targets t;
        struct conf c;
        char err[300];
        (void)state;
        conf_init(&c);
        conf_set(&c, "rest.port", "8081", CONF_SRC_DEFAULT);
        conf_set(&c, "rest.bind-port", "18081", CONF_SRC_MESOS);
        conf_set(&c, "jobmanager.rpc.address", "jm.example", CONF_SRC_ENV);
        conf_set(&c, "taskmanager.resource-id", "tm-1", CONF_SRC_ENV);
        assert_int_equal(probe_targets(&c, ROLE_JOBMANAGER, NULL, NULL, NULL, &t, err, sizeof err), 0);
        assert_string_equal(t.url, "http://127.0.0.1:18081/config");
        assert_string_equal(t.leader_path, "");
        assert_int_equal(probe_targets(&c, ROLE_TASKMANAGER, NULL, NULL, NULL, &t, err, sizeof err), 0);
        assert_string_equal(t.url, "http://jm.example:8081/taskmanagers");
        assert_string_equal(t.resource_id, "tm-1");
        assert_int_equal(probe_targets(&c, ROLE_TASKMANAGER, "https://lb:9/", NULL, NULL, &t, err, sizeof err), 0);
        assert_string_equal(t.url, "https://lb:9/taskmanagers");
        assert_int_equal(probe_targets(&c, ROLE_TASKMANAGER, "ftp://x", NULL, NULL, &t, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "SUPERVISOR_PROBE_URL"));
        assert_int_equal(probe_targets(&c, ROLE_HISTORY_SERVER, NULL, NULL, NULL, &t, err, sizeof err), 0);
        assert_string_equal(t.url, "http://127.0.0.1:8082/config");
        conf_free(&c);
}

static void probe_leadership_paths(void **state)
{
        struct probe_targets t;
        struct conf c;
        char err[300];
        (void)state;
        conf_init(&c);
        conf_set(&c, "high-availability.type", "zookeeper", CONF_SRC_ZOOKEEPER);
        conf_set(&c, "high-availability.zookeeper.quorum", "zk1:2181,zk2:2181", CONF_SRC_ENV);
        conf_set(&c, "high-availability.cluster-id", "/prod", CONF_SRC_ZOOKEEPER);
        conf_set(&c, "rest.address", "10.0.0.5", CONF_SRC_MESOS);
        assert_int_equal(probe_targets(&c, ROLE_JOBMANAGER, NULL, "zk1:2181,zk2:2181", "", &t, err, sizeof err), 0);
        assert_string_equal(t.leader_path, "/flink/prod/leader/rest_server/connection_info");
        assert_string_equal(t.rest_address, "//10.0.0.5:8081");
        assert_false(t.leadership_unknown);
        /* The session is chrooted where HA keeps its root: paths are relative to it. */
        conf_set(&c, "high-availability.zookeeper.path.root", "/tenant/flink", CONF_SRC_ENV);
        assert_int_equal(probe_targets(&c, ROLE_APPMASTER, NULL, "zk1:2181,zk2:2181", "/tenant", &t, err, sizeof err), 0);
        assert_string_equal(t.leader_path, "/flink/prod/leader/rest_server/connection_info");
        assert_int_equal(probe_targets(&c, ROLE_JOBMANAGER, NULL, "zk1:2181,zk2:2181", "/tenant/flink", &t, err, sizeof err), 0);
        assert_string_equal(t.leader_path, "/prod/leader/rest_server/connection_info");
        /* Another quorum than ours: leadership cannot be read. */
        assert_int_equal(probe_targets(&c, ROLE_JOBMANAGER, NULL, "other:2181", "", &t, err, sizeof err), 0);
        assert_true(t.leadership_unknown);
        assert_string_equal(t.leader_path, "");
        conf_free(&c);
}

static void a_taskmanager_under_ha_follows_the_leader(void **state)
{
        struct probe_targets t;
        struct conf c;
        char err[300];
        (void)state;
        conf_init(&c);
        conf_set(&c, "jobmanager.rpc.address", "localhost", CONF_SRC_FILE);
        conf_set(&c, "taskmanager.resource-id", "tm-1", CONF_SRC_ENV);
        assert_int_equal(probe_targets(&c, ROLE_TASKMANAGER, NULL, "zk1:2181", "", &t, err, sizeof err), 0);
        assert_false(t.follow_leader);
        conf_set(&c, "high-availability.type", "zookeeper", CONF_SRC_ZOOKEEPER);
        conf_set(&c, "high-availability.zookeeper.quorum", "zk1:2181", CONF_SRC_ENV);
        assert_int_equal(probe_targets(&c, ROLE_TASKMANAGER, NULL, "zk1:2181", "", &t, err, sizeof err), 0);
        assert_true(t.follow_leader);
        assert_string_equal(t.leader_path, "/flink/default/leader/rest_server/connection_info");
        assert_string_equal(t.url, "http://localhost:8081/taskmanagers");
        /* An address given is the one asked. */
        assert_int_equal(probe_targets(&c, ROLE_TASKMANAGER, "http://jm:8081", "zk1:2181", "", &t, err, sizeof err), 0);
        assert_false(t.follow_leader);
        /* HA in a quorum we hold no session with: the configured address. */
        assert_int_equal(probe_targets(&c, ROLE_TASKMANAGER, NULL, "other:2181", "", &t, err, sizeof err), 0);
        assert_false(t.follow_leader);
        conf_free(&c);
}

static void the_leaders_url_comes_out_of_its_node(void **state)
{
        /* As ObjectOutputStream has it: block data, writeUTF's length, the
         * string, then the session id (an object whose bytes start "sr"). */
        static const char node[] = "\xac\xed\x00\x05\x77\x17\x00\x15http://10.0.0.5:38081sr\x00\x0ejava.util.UUID";
        static const char no_length[] = "http://10.0.0.5:38081sr";
        static const char bad[] = "\x00\x0ahttp://a\x01" "bc";
        char url[64], small[8];
        (void)state;
        assert_int_equal(probe_leader_url(node, sizeof node - 1, url, sizeof url), 0);
        assert_string_equal(url, "http://10.0.0.5:38081");
        assert_int_equal(probe_leader_url(node, sizeof node - 1, small, sizeof small), -ENAMETOOLONG);
        assert_int_equal(probe_leader_url(no_length, sizeof no_length - 1, url, sizeof url), -ENOENT);
        assert_int_equal(probe_leader_url(bad, sizeof bad - 1, url, sizeof url), -ENOENT);
        assert_int_equal(probe_leader_url("", 0, url, sizeof url), -ENOENT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(bare_app_gets_both_checks),
                cmocka_unit_test(matching_app_needs_no_write),
                cmocka_unit_test(changed_setting_writes_only_that_array),
                cmocka_unit_test(foreign_checks_are_replaced),
                cmocka_unit_test(port_definitions_when_no_mappings),
                cmocka_unit_test(no_health_port),
                cmocka_unit_test(malformed_answers),
                cmocka_unit_test(probe_targets_by_role),
                cmocka_unit_test(probe_leadership_paths),
                cmocka_unit_test(a_taskmanager_under_ha_follows_the_leader),
                cmocka_unit_test(the_leaders_url_comes_out_of_its_node),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
