/* Unit tests: what a role runs (launch), application mode included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "flink/launch.h"

static char *environ_with_sandbox[] = { "PATH=/bin", "MESOS_SANDBOX=/mnt/mesos/sandbox", NULL };

static void an_appmaster_with_a_job_runs_standalone_job_with_fetched_jars(void **state)
{
        struct flinkhome fh = { .home = "/opt/flink" };
        char *args[] = { "--job-classname", "Count", "--jars", "count.jar", "--jars", "/opt/j.jar", "--jars",
                         "s3://b/k.jar", "--", "--jars", "x.jar" };
        struct launch l;
        (void)state;
        assert_true(launch_is_application(ROLE_APPMASTER, args, 11));
        assert_int_equal(launch_plan(&l, ROLE_APPMASTER, &fh, args, 11, environ_with_sandbox, "/run/conf"), 0);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.names[0], "standalone-job");
        assert_string_equal(l.argv[0][0], "/opt/flink/bin/standalone-job.sh");
        assert_string_equal(l.argv[0][1], "start-foreground");
        assert_string_equal(l.argv[0][5], "file:///mnt/mesos/sandbox/count.jar");
        assert_string_equal(l.argv[0][7], "file:///opt/j.jar");
        assert_string_equal(l.argv[0][9], "s3://b/k.jar");
        /* After "--" the job's own arguments stay as they are. */
        assert_string_equal(l.argv[0][12], "x.jar");
        assert_null(l.argv[0][13]);
        launch_free(&l);
}

static void an_appmaster_without_a_job_is_a_session_jobmanager(void **state)
{
        struct flinkhome fh = { .home = "/opt/flink" };
        char *args[] = { "--", "--job-classname", "X" };
        struct launch l;
        (void)state;
        assert_false(launch_is_application(ROLE_APPMASTER, args, 3));
        assert_false(launch_is_application(ROLE_JOBMANAGER, (char *[]){ "--jars", "a.jar" }, 2));
        assert_int_equal(launch_plan(&l, ROLE_APPMASTER, &fh, NULL, 0, environ_with_sandbox, "/run/conf"), 0);
        assert_string_equal(l.names[0], "jobmanager");
        assert_string_equal(l.argv[0][0], "/opt/flink/bin/jobmanager.sh");
        launch_free(&l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(an_appmaster_with_a_job_runs_standalone_job_with_fetched_jars),
                cmocka_unit_test(an_appmaster_without_a_job_is_a_session_jobmanager),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
