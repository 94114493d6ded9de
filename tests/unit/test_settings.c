/* Unit tests: settings parsing from the table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/settings.h"

struct env {
        const char *pairs[16][2];
        char reports[8][512];
        int n_reports;
};

static const char *lookup(const char *name, void *data)
{
        struct env *e = data;
        for (int i = 0; e->pairs[i][0]; i++)
                if (strcmp(e->pairs[i][0], name) == 0)
                        return e->pairs[i][1];
        return NULL;
}

static void report(const char *msg, void *data)
{
        struct env *e = data;
        if (e->n_reports < 8)
                snprintf(e->reports[e->n_reports], sizeof e->reports[0], "%s", msg);
        e->n_reports++;
}

static int load(struct env *e, struct settings *s)
{
        return settings_load(s, lookup, e, report, e);
}

static void defaults(void **state)
{
        struct env e = { 0 };
        struct settings s;
        (void)state;
        assert_int_equal(load(&e, &s), 0);
        assert_int_equal(s.restart, RESTART_ON_FAILURE);
        assert_int_equal(s.stop_timeout_s, 8);
        assert_int_equal(s.backoff_min_ms, 1000);
        assert_int_equal(s.backoff_max_ms, 60000);
        assert_int_equal(s.backoff_reset_s, 60);
        assert_int_equal(s.max_restarts, 5);
        assert_int_equal(s.restart_window_s, 300);
        assert_int_equal(s.log_level, LOG_LEVEL_INFO);
        assert_int_equal(s.log_format, LOG_FORMAT_TEXT);
        assert_int_equal(e.n_reports, 0);
}

static void overrides(void **state)
{
        struct env e = { .pairs = { { "SUPERVISOR_RESTART", "always" },
                                    { "SUPERVISOR_STOP_TIMEOUT", "0" },
                                    { "SUPERVISOR_MAX_RESTARTS", "1000" },
                                    { "SUPERVISOR_LOG_FORMAT", "json" },
                                    { "SUPERVISOR_LOG_LEVEL", "debug" } } };
        struct settings s;
        (void)state;
        assert_int_equal(load(&e, &s), 0);
        assert_int_equal(s.restart, RESTART_ALWAYS);
        assert_int_equal(s.stop_timeout_s, 0);
        assert_int_equal(s.max_restarts, 1000);
        assert_int_equal(s.log_format, LOG_FORMAT_JSON);
        assert_int_equal(s.log_level, LOG_LEVEL_DEBUG);
}

static void empty_is_unset(void **state)
{
        struct env e = { .pairs = { { "SUPERVISOR_RESTART", "" } } };
        struct settings s;
        (void)state;
        assert_int_equal(load(&e, &s), 0);
        assert_int_equal(s.restart, RESTART_ON_FAILURE);
}

static void strict_integers(void **state)
{
        static const char *const bad[] = { "", " 1", "1 ", "+1", "1.0", "0x10", "1e3", "--1", "-",
                                           "99999999999999999999", "86401", "-1", "ten" };
        long v;
        (void)state;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_true(settings_parse_long(bad[i], 0, 86400, &v) < 0);
        assert_int_equal(settings_parse_long("86400", 0, 86400, &v), 0);
        assert_int_equal(v, 86400);
        assert_int_equal(settings_parse_long("-5", -10, 10, &v), 0);
        assert_int_equal(v, -5);
        assert_int_equal(settings_parse_long("007", 0, 10, &v), 0);
        assert_int_equal(v, 7);
        assert_int_equal(settings_parse_long("11", 0, 10, &v), -ERANGE);
}

static void every_error_is_reported_with_name_value_expected(void **state)
{
        struct env e = { .pairs = { { "SUPERVISOR_RESTART", "sometimes" },
                                    { "SUPERVISOR_STOP_TIMEOUT", "5s" } } };
        struct settings s;
        (void)state;
        assert_int_equal(load(&e, &s), -EINVAL);
        assert_int_equal(e.n_reports, 2);
        assert_string_equal(e.reports[0],
                            "invalid SUPERVISOR_RESTART=\"sometimes\": expected one of always, on-failure, never");
        assert_string_equal(e.reports[1],
                            "invalid SUPERVISOR_STOP_TIMEOUT=\"5s\": expected an integer from 0 to 86400 (seconds)");
}

static void min_above_max(void **state)
{
        struct env e = { .pairs = { { "SUPERVISOR_BACKOFF_MIN_MS", "2000" },
                                    { "SUPERVISOR_BACKOFF_MAX_MS", "1000" } } };
        struct settings s;
        (void)state;
        assert_int_equal(load(&e, &s), -EINVAL);
        assert_int_equal(e.n_reports, 1);
        assert_non_null(strstr(e.reports[0], "expected at most SUPERVISOR_BACKOFF_MAX_MS=1000"));
}

static void long_values_are_cut_in_the_message(void **state)
{
        char big[600];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        struct env e = { .pairs = { { "SUPERVISOR_LOG_LEVEL", big } } };
        struct settings s;
        (void)state;
        assert_int_equal(load(&e, &s), -EINVAL);
        assert_true(strlen(e.reports[0]) < 200);
}

static void describe_lists_every_variable(void **state)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        (void)state;
        assert_non_null(f);
        settings_describe(f);
        assert_int_equal(fclose(f), 0);
        assert_non_null(strstr(buf, "SUPERVISOR_RESTART"));
        assert_non_null(strstr(buf, "SUPERVISOR_RESTART_WINDOW"));
        assert_non_null(strstr(buf, "SUPERVISOR_LOG_FORMAT"));
        assert_non_null(strstr(buf, "one of always, on-failure, never"));
        free(buf);
}

static void child_env_leaves_out_the_secrets(void **state)
{
        char *envp[] = { "PATH=/bin", "FLINK_ZK_AUTH=digest:u:pw", "MARATHON_TOKEN_FILE=/t", "FLINK_CONF_DIR=/old",
                         "MARATHON_CREDENTIALS_FILE=/c", "FLINK_ZK_AUTHX=kept", "MARATHON_URL=http://m:8080", NULL };
        char set[] = "FLINK_CONF_DIR=/new";
        char **out;
        (void)state;
        out = settings_child_env(envp, NULL);
        assert_non_null(out);
        assert_string_equal(out[0], "PATH=/bin");
        assert_string_equal(out[1], "FLINK_CONF_DIR=/old");
        assert_string_equal(out[2], "FLINK_ZK_AUTHX=kept");
        assert_string_equal(out[3], "MARATHON_URL=http://m:8080");
        assert_null(out[4]);
        free(out);
        out = settings_child_env(envp, set);
        assert_non_null(out);
        assert_string_equal(out[0], "PATH=/bin");
        assert_string_equal(out[1], "FLINK_ZK_AUTHX=kept");
        assert_string_equal(out[2], "MARATHON_URL=http://m:8080");
        assert_ptr_equal(out[3], set);
        assert_null(out[4]);
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(defaults),
                cmocka_unit_test(overrides),
                cmocka_unit_test(empty_is_unset),
                cmocka_unit_test(strict_integers),
                cmocka_unit_test(every_error_is_reported_with_name_value_expected),
                cmocka_unit_test(min_above_max),
                cmocka_unit_test(long_values_are_cut_in_the_message),
                cmocka_unit_test(describe_lists_every_variable),
                cmocka_unit_test(child_env_leaves_out_the_secrets),
        };
        return cmocka_run_group_tests_name("settings", tests, NULL, NULL);
}
