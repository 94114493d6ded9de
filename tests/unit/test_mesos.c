/* Unit tests: Mesos/Marathon mapping and the whole pipeline's precedence. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config/conf.h"
#include "config/flinkconf.h"
#include "config/mesos.h"

static void check(const struct conf *c, const char *key, const char *value, enum conf_source src)
{
        const struct conf_entry *e = conf_find(c, key);
        if (!e)
                fail_msg("%s is missing", key);
        if (strcmp(e->value, value) != 0)
                fail_msg("%s = \"%s\", expected \"%s\"", key, e->value, value);
        if (e->source != src)
                fail_msg("%s from %s, expected %s", key, conf_source_name(e->source), conf_source_name(src));
}

static int apply(struct conf *c, enum role role, char **envp, const char *hostname, char *err)
{
        struct mesos_env env = { .envp = envp, .hostname = hostname };
        return mesos_apply(c, role, &env, NULL, NULL, err, 256);
}

static void bridge_binds_container_ports_and_advertises_host_ports(void **state)
{
        char *envp[] = { "HOST=agent-7.dc", "PORT_RPC=31001", "PORT_6123=31001", "PORT_UI=31002", "PORT_8081=31002",
                         "PORT_BLOB=31003", "PORT_6124=31003", "PORT0=31002", NULL };
        struct conf c;
        char err[256];
        (void)state;
        conf_init(&c);
        assert_int_equal(apply(&c, ROLE_JOBMANAGER, envp, "3f2a9c", err), 0);
        check(&c, "jobmanager.rpc.address", "agent-7.dc", CONF_SRC_MESOS);
        check(&c, "rest.address", "agent-7.dc", CONF_SRC_MESOS);
        check(&c, "jobmanager.rpc.port", "31001", CONF_SRC_MESOS);
        check(&c, "jobmanager.rpc.bind-port", "6123", CONF_SRC_MESOS);
        check(&c, "rest.port", "31002", CONF_SRC_MESOS);
        check(&c, "rest.bind-port", "8081", CONF_SRC_MESOS);
        check(&c, "blob.server.port", "6124", CONF_SRC_MESOS);
        assert_null(conf_get(&c, "taskmanager.resource-id"));
        conf_free(&c);
}

static void host_networking_binds_what_it_advertises(void **state)
{
        /* HOST networking: the container shares the agent's hostname; the
         * PORT_10000 of a service port must not be taken for a container port. */
        char *envp[] = { "HOST=agent-7.dc", "PORT_RPC=31001", "PORT_10000=31001", "PORT_DATA=31005",
                         "MESOS_TASK_ID=flink_taskmanager.instance-1._app.1", NULL };
        struct conf c;
        char err[256];
        (void)state;
        conf_init(&c);
        assert_int_equal(apply(&c, ROLE_TASKMANAGER, envp, "agent-7", err), 0);
        check(&c, "taskmanager.host", "agent-7.dc", CONF_SRC_MESOS);
        check(&c, "taskmanager.rpc.port", "31001", CONF_SRC_MESOS);
        check(&c, "taskmanager.rpc.bind-port", "31001", CONF_SRC_MESOS);
        check(&c, "taskmanager.data.port", "31005", CONF_SRC_MESOS);
        check(&c, "taskmanager.data.bind-port", "31005", CONF_SRC_MESOS);
        check(&c, "taskmanager.resource-id", "flink_taskmanager.instance-1._app.1", CONF_SRC_MESOS);
        assert_null(conf_get(&c, "jobmanager.rpc.address"));
        conf_free(&c);
}

static void positions_when_ports_have_no_names(void **state)
{
        char *jm[] = { "PORT0=31010", "PORT1=31011", "PORT2=31012", NULL };
        char *tm[] = { "PORT0=31020", "PORT1=31021", NULL };
        struct conf c;
        char err[256];
        (void)state;
        conf_init(&c);
        assert_int_equal(apply(&c, ROLE_APPMASTER, jm, NULL, err), 0);
        check(&c, "rest.port", "31010", CONF_SRC_MESOS);
        check(&c, "jobmanager.rpc.port", "31011", CONF_SRC_MESOS);
        check(&c, "blob.server.port", "31012", CONF_SRC_MESOS);
        conf_free(&c);
        conf_init(&c);
        assert_int_equal(apply(&c, ROLE_TASKMANAGER, tm, NULL, err), 0);
        check(&c, "taskmanager.rpc.port", "31020", CONF_SRC_MESOS);
        check(&c, "taskmanager.data.port", "31021", CONF_SRC_MESOS);
        conf_free(&c);
}

static void warn_count(const char *msg, void *data)
{
        (void)msg;
        ++*(int *)data;
}

/* jobmanager.json names rest, rpc, blob and health: its PORT3 is the
 * health port, which Flink's metrics reporter must not be given; and a
 * metrics container port that differs from its host port is what BRIDGE
 * does, not a mistake worth a warning, while the blob server's is. */
static void named_ports_take_no_positions(void **state)
{
        char *envp[] = { "HOST=agent-7.dc", "PORT_REST=31010", "PORT_8081=31010", "PORT_RPC=31011", "PORT_6123=31011",
                         "PORT_BLOB=31012", "PORT_HEALTH=31013", "PORT_8558=31013", "PORT0=31010", "PORT1=31011",
                         "PORT2=31012", "PORT3=31013", NULL };
        char *metrics[] = { "HOST=agent-7.dc", "PORT_METRICS=31014", "PORT_9249=31014", NULL };
        struct mesos_env env = { .envp = envp, .hostname = "3f2a9c" };
        struct conf c;
        char err[256];
        int warnings = 0;
        (void)state;
        conf_init(&c);
        assert_int_equal(mesos_apply(&c, ROLE_JOBMANAGER, &env, warn_count, &warnings, err, sizeof err), 0);
        assert_null(conf_get(&c, "metrics.reporter.prom.port"));
        check(&c, "blob.server.port", "31012", CONF_SRC_MESOS);
        assert_int_equal(warnings, 0);
        conf_free(&c);
        conf_init(&c);
        env.envp = metrics;
        assert_int_equal(mesos_apply(&c, ROLE_TASKMANAGER, &env, warn_count, &warnings, err, sizeof err), 0);
        check(&c, "metrics.reporter.prom.port", "9249", CONF_SRC_MESOS);
        assert_int_equal(warnings, 0);
        conf_free(&c);
}

static void bad_ports_and_resources_are_rejected(void **state)
{
        static const struct {
                char *var;
                const char *needle;
        } cases[] = {
                { "PORT_RPC=http", "invalid PORT_RPC=\"http\": expected a port number from 1 to 65535" },
                { "PORT0=70000", "invalid PORT0=\"70000\"" },
                { "PORT_DATA=-1", "invalid PORT_DATA=\"-1\"" },
                { "MARATHON_APP_RESOURCE_MEM=lots", "invalid MARATHON_APP_RESOURCE_MEM=\"lots\"" },
                { "MARATHON_APP_RESOURCE_CPUS=1,5", "invalid MARATHON_APP_RESOURCE_CPUS=\"1,5\"" },
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *envp[] = { cases[i].var, NULL };
                struct conf c;
                char err[256] = "";
                conf_init(&c);
                assert_int_equal(apply(&c, ROLE_TASKMANAGER, envp, NULL, err), -EINVAL);
                if (!strstr(err, cases[i].needle))
                        fail_msg("\"%s\" lacks \"%s\"", err, cases[i].needle);
                conf_free(&c);
        }
}

static void memory_and_slots_are_derived_unless_explicit(void **state)
{
        char *envp[] = { "MARATHON_APP_RESOURCE_MEM=2048.0", "MARATHON_APP_RESOURCE_CPUS=2.5", NULL };
        struct mesos_env cg = { .cgroup_limit_mb = 4096 };
        struct conf c;
        char err[256];
        (void)state;
        conf_init(&c);
        conf_set(&c, "taskmanager.memory.process.size", "1728m", CONF_SRC_FILE);
        assert_int_equal(apply(&c, ROLE_TASKMANAGER, envp, NULL, err), 0);
        check(&c, "taskmanager.memory.process.size", "2016m", CONF_SRC_MESOS); /* 2048 - 32 headroom */
        check(&c, "taskmanager.numberOfTaskSlots", "2", CONF_SRC_MESOS);
        conf_free(&c);

        conf_init(&c);
        conf_set(&c, "taskmanager.numberOfTaskSlots", "8", CONF_SRC_ENV);
        conf_set(&c, "taskmanager.memory.process.size", "1g", CONF_SRC_ARG);
        assert_int_equal(apply(&c, ROLE_TASKMANAGER, envp, NULL, err), 0);
        check(&c, "taskmanager.numberOfTaskSlots", "8", CONF_SRC_ENV);
        check(&c, "taskmanager.memory.process.size", "1g", CONF_SRC_ARG);
        conf_free(&c);

        /* No Marathon resources: the cgroup limit; local splits it 2:3. */
        char *none[] = { NULL };
        conf_init(&c);
        assert_int_equal(mesos_apply(&c, ROLE_LOCAL, &(struct mesos_env){ .envp = none, .cgroup_limit_mb = cg.cgroup_limit_mb },
                                     NULL, NULL, err, sizeof err), 0);
        check(&c, "jobmanager.memory.process.size", "1625m", CONF_SRC_MESOS);
        check(&c, "taskmanager.memory.process.size", "2439m", CONF_SRC_MESOS);
        conf_free(&c);

        char *fractional[] = { "MARATHON_APP_RESOURCE_CPUS=0.5", "MARATHON_APP_RESOURCE_MEM=128", NULL };
        conf_init(&c);
        assert_int_equal(apply(&c, ROLE_TASKMANAGER, fractional, NULL, err), 0);
        check(&c, "taskmanager.numberOfTaskSlots", "1", CONF_SRC_MESOS);
        assert_null(conf_get(&c, "taskmanager.memory.process.size")); /* too small to size from */
        conf_free(&c);
}

static void pipeline_precedence_and_provenance(void **state)
{
        char *envp[] = { "PORT_REST=31002", "HOST=agent", NULL };
        char *defines[] = { "rest.port=9999", "s3.secret-key=x" };
        const char *file = "rest:\n  port: 8082\nparallelism.default: 2\nrecovery.zookeeper.path.mesos-workers: /w\n"
                           "high-availability: zookeeper\nhigh-availability.zookeeper.quorum: zk:2181\n";
        struct flinkconf_input in = {
                .role = ROLE_JOBMANAGER, .file_name = "conf/config.yaml", .file_text = file, .file_len = strlen(file),
                .jm_rpc_address = "from-env-var", .properties = "parallelism.default: 5\njobmanager.rpc.address: props",
                .defines = defines, .n_defines = 2, .mesos = { .envp = envp, .hostname = "container" },
        };
        struct conf c;
        char err[256];
        (void)state;
        conf_init(&c);
        assert_int_equal(flinkconf_build(&c, &in, NULL, NULL, err, sizeof err), 0);
        check(&c, "rest.bind-address", "0.0.0.0", CONF_SRC_DEFAULT);
        check(&c, "parallelism.default", "5", CONF_SRC_ENV);
        check(&c, "jobmanager.rpc.address", "agent", CONF_SRC_MESOS);
        check(&c, "rest.port", "9999", CONF_SRC_ARG);
        check(&c, "high-availability", "zookeeper", CONF_SRC_FILE);
        check(&c, "high-availability.zookeeper.quorum", "zk:2181", CONF_SRC_FILE);
        assert_null(conf_get(&c, "recovery.zookeeper.path.mesos-workers"));
        conf_free(&c);

        in.file_text = "rest: [";
        in.file_len = strlen(in.file_text);
        conf_init(&c);
        assert_int_equal(flinkconf_build(&c, &in, NULL, NULL, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "conf/config.yaml: line "));
        conf_free(&c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(bridge_binds_container_ports_and_advertises_host_ports),
                cmocka_unit_test(host_networking_binds_what_it_advertises),
                cmocka_unit_test(positions_when_ports_have_no_names),
                cmocka_unit_test(named_ports_take_no_positions),
                cmocka_unit_test(bad_ports_and_resources_are_rejected),
                cmocka_unit_test(memory_and_slots_are_derived_unless_explicit),
                cmocka_unit_test(pipeline_precedence_and_provenance),
        };
        return cmocka_run_group_tests_name("mesos", tests, NULL, NULL);
}
