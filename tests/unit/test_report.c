/* Unit tests: the /health and /metrics bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "integrations/report.h"

static const struct report_snapshot two = {
        .healthy = true, .ready = false, .n_children = 2, .uptime_s = 42, .orphans_reaped = 7,
        .children = { { "jobmanager", "running", 100, 0, -1 }, { "taskmanager", "backoff", 0, 3, 137 } },
        .zk_enabled = true, .zk_connected = true, .config_rejections = 2, .config_changes_applied = 1,
};

static void health_json(void **state)
{
        char buf[1024];
        (void)state;
        report_health_json(&two, false, buf, sizeof buf);
        assert_string_equal(buf, "{\"status\":\"ok\",\"uptime_s\":42,\"children\":["
                                 "{\"name\":\"jobmanager\",\"state\":\"running\",\"pid\":100,\"restarts\":0},"
                                 "{\"name\":\"taskmanager\",\"state\":\"backoff\",\"pid\":0,\"restarts\":3,\"last_exit_code\":137}],"
                                 "\"zookeeper\":{\"connected\":true,\"config_rejections\":2}}\n");
        report_health_json(&two, true, buf, sizeof buf);
        assert_non_null(strstr(buf, "\"status\":\"unavailable\""));
}

static void metrics_text(void **state)
{
        char buf[4096];
        (void)state;
        report_metrics(&two, buf, sizeof buf);
        assert_non_null(strstr(buf, "\nflink_supervisor_up 1\n"));
        assert_non_null(strstr(buf, "\nflink_supervisor_ready 0\n"));
        assert_non_null(strstr(buf, "\nflink_supervisor_child_restarts_total{child=\"taskmanager\"} 3\n"));
        assert_non_null(strstr(buf, "\nflink_supervisor_child_running{child=\"jobmanager\"} 1\n"));
        assert_non_null(strstr(buf, "\nflink_supervisor_config_rejections_total 2\n"));
        /* every sample line carries the prefix; every metric has HELP and TYPE */
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
                assert_true(line[0] == '#' || strncmp(line, "flink_supervisor_", 17) == 0);
}

static void small_buffers_are_cut_not_overrun(void **state)
{
        char buf[16];
        (void)state;
        assert_true(report_metrics(&two, buf, sizeof buf) < sizeof buf);
        assert_int_equal(buf[sizeof buf - 1], '\0');
        assert_true(report_health_json(&two, false, buf, sizeof buf) < sizeof buf);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(health_json),
                cmocka_unit_test(metrics_text),
                cmocka_unit_test(small_buffers_are_cut_not_overrun),
        };
        return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
