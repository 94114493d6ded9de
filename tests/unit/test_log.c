/* Unit tests: log line formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "base/log.h"

#define FIELDS(...) ((const struct log_field[]){ __VA_ARGS__, LOG_END })
#define T "2026-01-01T00:00:00.000Z"

static void text_line(void **state)
{
        char buf[512];
        (void)state;
        log_format_line(buf, sizeof buf, LOG_FORMAT_TEXT, T, LOG_LEVEL_INFO, "child.exited",
                        FIELDS(LOG_STR("child", "main"), LOG_INT("code", -3), LOG_STR("cmd", "a b"),
                               LOG_STR("empty", ""), LOG_STR("q", "say \"hi\"=x")));
        assert_string_equal(buf, T " level=info event=child.exited child=main code=-3 cmd=\"a b\" empty=\"\" q=\"say \\\"hi\\\"=x\"\n");
}

static void json_line(void **state)
{
        char buf[512];
        (void)state;
        log_format_line(buf, sizeof buf, LOG_FORMAT_JSON, T, LOG_LEVEL_ERROR, "x",
                        FIELDS(LOG_STR("s", "a\"b\\c\nd\x01"), LOG_INT("n", 42)));
        assert_string_equal(buf, "{\"time\":\"" T "\",\"level\":\"error\",\"event\":\"x\",\"s\":\"a\\\"b\\\\c\\nd\\u0001\",\"n\":42}\n");
}

static void secrets_are_masked(void **state)
{
        char buf[512];
        (void)state;
        log_format_line(buf, sizeof buf, LOG_FORMAT_TEXT, T, LOG_LEVEL_WARN, "auth",
                        FIELDS(LOG_SECRET("password")));
        assert_non_null(strstr(buf, "password=******"));
        log_format_line(buf, sizeof buf, LOG_FORMAT_JSON, T, LOG_LEVEL_WARN, "auth",
                        FIELDS(LOG_SECRET("password")));
        assert_non_null(strstr(buf, "\"password\":\"******\""));
}

static void long_lines_are_cut_but_stay_lines(void **state)
{
        char big[3000], buf[256];
        memset(big, 'y', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        (void)state;
        size_t n = log_format_line(buf, sizeof buf, LOG_FORMAT_TEXT, T, LOG_LEVEL_INFO, "e",
                                   FIELDS(LOG_STR("v", big)));
        assert_true(n < sizeof buf);
        assert_int_equal(buf[n - 1], '\n');
        assert_int_equal(strlen(buf), n);
        n = log_format_line(buf, sizeof buf, LOG_FORMAT_JSON, T, LOG_LEVEL_INFO, "e", FIELDS(LOG_STR("v", big)));
        assert_string_equal(buf, "{\"time\":\"" T "\",\"level\":\"error\",\"event\":\"log.truncated\"}\n");
}

static void level_filter(void **state)
{
        (void)state;
        log_setup(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
        assert_false(log_enabled(LOG_LEVEL_INFO));
        assert_true(log_enabled(LOG_LEVEL_ERROR));
        log_setup(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(text_line),
                cmocka_unit_test(json_line),
                cmocka_unit_test(secrets_are_masked),
                cmocka_unit_test(long_lines_are_cut_but_stay_lines),
                cmocka_unit_test(level_filter),
        };
        return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
