/* Unit tests: command line and role parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "config/cli.h"
#include "config/role.h"


static int parse(struct cli *c, int argc, char **argv, char *err)
{
        return cli_parse(c, argc, argv, err, 256);
}

static void command_mode(void **state)
{
        char *argv[] = { "flink-supervisor", "--", "sleep", "-h", "--", NULL };
        struct cli c;
        char err[256];
        (void)state;
        assert_int_equal(parse(&c, 5, argv, err), 0);
        assert_int_equal(c.action, CLI_RUN);
        assert_null(c.role_arg);
        assert_string_equal(c.cmd[0], "sleep");
        assert_string_equal(c.cmd[1], "-h"); /* the command's own option */
        assert_string_equal(c.cmd[2], "--");
        assert_null(c.cmd[3]);
        cli_free(&c);
}

static void role_with_defines_and_args(void **state)
{
        char *argv[] = { "flink-supervisor", "-Da=1", "standalone-job", "--job-classname", "X",
                         "-Dtaskmanager.numberOfTaskSlots=4", NULL };
        struct cli c;
        char err[256];
        (void)state;
        assert_int_equal(parse(&c, 6, argv, err), 0);
        assert_string_equal(c.role_arg, "standalone-job");
        assert_int_equal(c.n_defines, 2);
        assert_string_equal(c.defines[0], "a=1");
        assert_string_equal(c.defines[1], "taskmanager.numberOfTaskSlots=4");
        assert_int_equal(c.n_role_args, 2);
        assert_string_equal(c.role_args[0], "--job-classname");
        assert_string_equal(c.role_args[1], "X");
        assert_null(c.role_args[2]);
        cli_free(&c);
}

/* After the role's "--", a -D is the job's argument, not a setting. */
static void job_arguments_after_the_role_are_verbatim(void **state)
{
        char *argv[] = { "flink-supervisor", "appmaster", "--job-classname", "X", "-Da=1", "--", "-Db=2", "--", NULL };
        struct cli c;
        char err[256];
        (void)state;
        assert_int_equal(parse(&c, 8, argv, err), 0);
        assert_null(c.cmd);
        assert_int_equal(c.n_defines, 1);
        assert_string_equal(c.defines[0], "a=1");
        assert_int_equal(c.n_role_args, 5);
        assert_string_equal(c.role_args[2], "--");
        assert_string_equal(c.role_args[3], "-Db=2");
        assert_string_equal(c.role_args[4], "--");
        cli_free(&c);
}

static void options(void **state)
{
        char *h[] = { "x", "--help", NULL }, *v[] = { "x", "-V", NULL }, *k[] = { "x", "--check", "--", "true", NULL };
        struct cli c;
        char err[256];
        (void)state;
        assert_int_equal(parse(&c, 2, h, err), 0);
        assert_int_equal(c.action, CLI_HELP);
        cli_free(&c);
        assert_int_equal(parse(&c, 2, v, err), 0);
        assert_int_equal(c.action, CLI_VERSION);
        cli_free(&c);
        assert_int_equal(parse(&c, 4, k, err), 0);
        assert_int_equal(c.action, CLI_CHECK);
        assert_string_equal(c.cmd[0], "true");
        cli_free(&c);
}

static void errors(void **state)
{
        struct {
                char *argv[5];
                int argc;
                const char *needle;
        } cases[] = {
                { { "x", "--nope", NULL }, 2, "unknown option \"--nope\"" },
                { { "x", "--", NULL }, 2, "missing command after \"--\"" },
                { { "x", "-D", NULL }, 2, "expected -Dkey=value" },
                { { "x", "-D=v", NULL }, 2, "expected -Dkey=value" },
                { { "x", "jobmanager", "-Dnoequals", NULL }, 3, "expected -Dkey=value" },
                { { "x", "-Dk=v", "--", "true", NULL }, 4, "need a Flink role" },
        };
        char err[256];
        struct cli c;
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                err[0] = '\0';
                assert_int_equal(parse(&c, cases[i].argc, cases[i].argv, err), -EINVAL);
                assert_non_null(strstr(err, cases[i].needle));
        }
}

static void roles(void **state)
{
        enum role r;
        (void)state;
        for (int i = 0; i < ROLE_COUNT; i++) {
                assert_int_equal(role_parse(role_name((enum role)i), &r), 0);
                assert_int_equal(r, i);
        }
        assert_int_equal(role_parse("JobManager", &r), -EINVAL);
        assert_int_equal(role_parse("", &r), -EINVAL);
        assert_non_null(strstr(role_expected(), "history-server"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(command_mode),
                cmocka_unit_test(role_with_defines_and_args),
                cmocka_unit_test(job_arguments_after_the_role_are_verbatim),
                cmocka_unit_test(options),
                cmocka_unit_test(errors),
                cmocka_unit_test(roles),
        };
        return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
