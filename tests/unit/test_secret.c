/* Unit tests: reading secret files and wiping them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/secret.h"

/* A temp file holding len bytes of text; its path goes to path. */
static void write_file(char *path, size_t size, const char *text, size_t len)
{
        snprintf(path, size, "/tmp/test_secret.XXXXXX");
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, len), (ssize_t)len);
        close(fd);
}

static int read_text(const char *text, size_t len, char *buf, size_t size)
{
        char path[64];
        write_file(path, sizeof path, text, len);
        int r = secret_read_file(path, buf, size);
        unlink(path);
        return r;
}

/* Reads text through a buffer of size bytes and expects want back. */
static void assert_reads(const char *text, size_t size, const char *want)
{
        char buf[64];
        assert_true(size <= sizeof buf);
        assert_int_equal(read_text(text, strlen(text), buf, size), (int)strlen(want));
        assert_string_equal(buf, want);
}

static void first_line_without_its_end(void **state)
{
        static const char *const cases[][2] = {
                { "user:pw\nsecond\n", "user:pw" }, { "token\r\n", "token" }, { "no line end", "no line end" },
                { "", "" },                          { "\nafter", "" },
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                assert_reads(cases[i][0], 32, cases[i][1]);
}

static void what_follows_the_line_is_wiped(void **state)
{
        char buf[32];
        (void)state;
        memset(buf, 'x', sizeof buf);
        assert_int_equal(read_text("ab\nsecret2", 10, buf, sizeof buf), 2);
        for (size_t i = 2; i < 10; i++)
                assert_int_equal(buf[i], 0);
}

static void a_line_that_does_not_fit_is_refused_and_wiped(void **state)
{
        char buf[8];
        (void)state;
        /* 7 bytes and the NUL fit, with or without the line end. */
        assert_reads("1234567\n", sizeof buf, "1234567");
        assert_reads("1234567", sizeof buf, "1234567");
        assert_int_equal(read_text("12345678", 8, buf, sizeof buf), -E2BIG);
        assert_int_equal(read_text("12345678\n", 9, buf, sizeof buf), -E2BIG);
        for (size_t i = 0; i < sizeof buf; i++)
                assert_int_equal(buf[i], 0);
}

static void a_missing_file_is_its_errno(void **state)
{
        char buf[8];
        (void)state;
        assert_int_equal(secret_read_file("/nonexistent/secret", buf, sizeof buf), -ENOENT);
        assert_int_equal(secret_read_file("/", buf, sizeof buf), -EISDIR);
        assert_string_equal(secret_strerror(-ENOENT), strerror(ENOENT));
        assert_string_equal(secret_strerror(-E2BIG), "its first line is too long");
}

static void wipe_zeroes(void **state)
{
        char buf[16];
        (void)state;
        memset(buf, 'x', sizeof buf);
        secret_wipe(buf + 4, 8);
        assert_int_equal(buf[3], 'x');
        for (size_t i = 4; i < 12; i++)
                assert_int_equal(buf[i], 0);
        assert_int_equal(buf[12], 'x');
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(first_line_without_its_end),
                cmocka_unit_test(what_follows_the_line_is_wiped),
                cmocka_unit_test(a_line_that_does_not_fit_is_refused_and_wiped),
                cmocka_unit_test(a_missing_file_is_its_errno),
                cmocka_unit_test(wipe_zeroes),
        };
        return cmocka_run_group_tests_name("secret", tests, NULL, NULL);
}
