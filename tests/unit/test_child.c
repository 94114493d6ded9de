/* Unit tests: exit codes and the command lookup done before fork. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/child.h"

static void exit_codes(void **state)
{
        (void)state;
        for (int code = 0; code < 256; code++)
                assert_int_equal(child_exit_code(code << 8), code);
        assert_int_equal(child_exit_code(SIGKILL), 137);
        assert_int_equal(child_exit_code(SIGTERM), 143);
        assert_int_equal(child_exit_code(SIGSEGV | 0x80), 139); /* core dumped */
}

static char dir[64];

static int make_dir(void **state)
{
        FILE *f;

        (void)state;
        snprintf(dir, sizeof dir, "/tmp/test_child.XXXXXX");
        assert_non_null(mkdtemp(dir));
        assert_int_equal(chdir(dir), 0);
        f = fopen("prog", "w");
        assert_non_null(f);
        fclose(f);
        assert_int_equal(chmod("prog", 0755), 0);
        f = fopen("data", "w");
        assert_non_null(f);
        fclose(f);
        return 0;
}

static int remove_dir(void **state)
{
        (void)state;
        unlink("prog");
        unlink("data");
        assert_int_equal(chdir("/"), 0);
        rmdir(dir);
        return 0;
}

static void an_empty_path_entry_is_the_current_directory(void **state)
{
        char buf[PATH_MAX];

        (void)state;
        assert_int_equal(child_resolve("prog", "/nonexistent:", NULL, buf, sizeof buf), 0);
        assert_string_equal(buf, "./prog");
        assert_int_equal(child_resolve("prog", ":/nonexistent", NULL, buf, sizeof buf), 0);
        assert_string_equal(buf, "./prog");
        assert_int_equal(child_resolve("prog", "/nonexistent::/bin", NULL, buf, sizeof buf), 0);
        assert_string_equal(buf, "./prog");
}

static void the_first_executable_match_wins(void **state)
{
        char buf[PATH_MAX], path[128];

        (void)state;
        snprintf(path, sizeof path, "/nonexistent:%s:/bin", dir);
        assert_int_equal(child_resolve("prog", path, NULL, buf, sizeof buf), 0);
        assert_string_equal(buf + strlen(dir), "/prog");
        assert_int_equal(child_resolve("sh", "/nonexistent:/bin", NULL, buf, sizeof buf), 0);
        assert_string_equal(buf, "/bin/sh");
        /* A name with a slash is taken as it is. */
        assert_int_equal(child_resolve("./nothing-here", "/bin", NULL, buf, sizeof buf), 0);
        assert_string_equal(buf, "./nothing-here");
}

static void not_found_and_not_executable(void **state)
{
        char buf[PATH_MAX], path[128];

        (void)state;
        assert_int_equal(child_resolve("no-such-program-xyz", "/bin:/usr/bin", NULL, buf, sizeof buf), -ENOENT);
        assert_int_equal(child_resolve("", "/bin", NULL, buf, sizeof buf), -ENOENT);
        snprintf(path, sizeof path, "%s", dir);
        assert_int_equal(child_resolve("data", path, NULL, buf, sizeof buf), -EACCES);
        /* A directory is not a program. */
        assert_int_equal(child_resolve("tmp", "/", NULL, buf, sizeof buf), -EACCES);
}

static void a_path_that_does_not_fit_is_an_error(void **state)
{
        char buf[16];

        (void)state;
        assert_int_equal(child_resolve("a-rather-long-name", "/bin", NULL, buf, sizeof buf), -ENAMETOOLONG);
        assert_int_equal(child_resolve("/usr/bin/a-rather-long-name", NULL, NULL, buf, sizeof buf), -ENAMETOOLONG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(exit_codes),
                cmocka_unit_test(an_empty_path_entry_is_the_current_directory),
                cmocka_unit_test(the_first_executable_match_wins),
                cmocka_unit_test(not_found_and_not_executable),
                cmocka_unit_test(a_path_that_does_not_fit_is_an_error),
        };
        return cmocka_run_group_tests_name("child", tests, make_dir, remove_dir);
}
