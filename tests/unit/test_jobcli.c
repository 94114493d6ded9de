/* Unit tests: the job-cluster commands' command lines (jobcli) and the
 * group they post and the answers they read (jobgroup). */
#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/jobcli.h"
#include "integrations/jobgroup.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const struct appchecks_want want = { .protocol = APPCHECKS_HTTP, .grace_s = 300, .interval_s = 30, .timeout_s = 10,
                                            .failures = 3, .ready_interval_s = 30, .ready_timeout_s = 10 };

static void parse_fails(char **argv, int argc, const char *expected)
{
        struct jobcli c;
        char err[512] = "";

        assert_int_equal(jobcli_parse(&c, argc, argv, err, sizeof err), -EINVAL);
        if (!strstr(err, expected))
                fail_msg("error \"%s\" does not say \"%s\"", err, expected);
}

static void run_job_options_are_read_and_the_job_s_arguments_kept_verbatim(void **state)
{
        char *argv[] = { "run-job", "--id", "/jobs/wc", "--jar", "https://repo/wc.jar", "--class", "WordCount",
                         "--parallelism", "4", "-Da=b", "--env", "K=V", "--detached", "--jm-cpus", "0.5", "--",
                         "--id", "-Dx=y" };
        struct jobcli c;
        char err[256];
        (void)state;
        assert_true(jobcli_is_command("run-job") && jobcli_is_command("stop-job") && jobcli_is_command("list-jobs"));
        assert_false(jobcli_is_command("jobmanager"));
        assert_int_equal(jobcli_parse(&c, ARGC(argv), argv, err, sizeof err), 0);
        assert_int_equal(c.command, JOBCLI_RUN);
        assert_string_equal(c.id, "/jobs/wc");
        assert_string_equal(c.klass, "WordCount");
        assert_int_equal(c.parallelism, 4);
        assert_true(c.detached);
        assert_true(c.jm_cpus == 0.5);
        assert_string_equal(c.image, JOBCLI_DEFAULT_IMAGE);
        assert_int_equal(c.n_defines, 1);
        assert_string_equal(c.defines[0], "-Da=b");
        assert_int_equal(c.n_env, 1);
        assert_int_equal(c.n_job_args, 2);
        assert_string_equal(c.job_args[0], "--id");
        assert_string_equal(c.job_args[1], "-Dx=y");
        jobcli_free(&c);
}

static void missing_contradictory_and_unknown_options_are_refused(void **state)
{
        (void)state;
        parse_fails((char *[]){ "run-job", "--jar", "/a.jar" }, 3, "missing --id");
        parse_fails((char *[]){ "run-job", "--id", "/jobs/x" }, 3, "missing --jar and --class");
        parse_fails((char *[]){ "run-job", "--id", "/Jobs/x", "--jar", "/a.jar" }, 5, "invalid --id");
        parse_fails((char *[]){ "run-job", "--id", "/jobs/-x", "--jar", "/a.jar" }, 5, "invalid --id");
        parse_fails((char *[]){ "run-job", "--id", "/", "--jar", "/a.jar" }, 5, "invalid --id");
        parse_fails((char *[]){ "run-job", "--id", "/jobs/x", "--jar", "a.jar" }, 5, "invalid --jar");
        parse_fails((char *[]){ "run-job", "--id", "/jobs/x", "--jar", "https://h/dir/" }, 5, "not of a directory");
        parse_fails((char *[]){ "run-job", "--id", "/jobs/x", "--class", "C", "--allow-non-restored-state" }, 6,
                    "without --from-savepoint");
        parse_fails((char *[]){ "run-job", "--id", "/jobs/x", "--class", "C", "--parallelism", "0" }, 7,
                    "invalid --parallelism \"0\": expected a whole number from 1 to 32768");
        parse_fails((char *[]){ "run-job", "--id", "/jobs/x", "--class", "C", "--jm-cpus", "lots" }, 7, "invalid --jm-cpus");
        parse_fails((char *[]){ "run-job", "--id", "/jobs/x", "--class", "C", "--env", "=V" }, 7, "expected --env KEY=VALUE");
        parse_fails((char *[]){ "run-job", "--id", "/jobs/x", "--class", "C", "-Dnovalue" }, 6, "expected -Dkey=value");
        parse_fails((char *[]){ "run-job", "--id" }, 2, "missing value after --id");
        parse_fails((char *[]){ "run-job", "--id", "/jobs/x", "--class", "C", "--drain" }, 6, "unknown option \"--drain\"");
        parse_fails((char *[]){ "stop-job", "--id", "/jobs/x", "--jar", "/a.jar" }, 5, "unknown option \"--jar\"");
        parse_fails((char *[]){ "stop-job" }, 1, "missing --id");
}

static void stop_and_list_take_their_own_options(void **state)
{
        char *stop[] = { "stop-job", "--id", "/jobs/x", "--savepoint", "s3://b/sp", "--drain", "--timeout", "60" };
        char *list[] = { "list-jobs", "--marathon", "http://m:8080" };
        struct jobcli c;
        char err[256];
        (void)state;
        assert_int_equal(jobcli_parse(&c, ARGC(stop), stop, err, sizeof err), 0);
        assert_int_equal(c.command, JOBCLI_STOP);
        assert_string_equal(c.savepoint_dir, "s3://b/sp");
        assert_true(c.drain);
        assert_int_equal(c.timeout_s, 60);
        jobcli_free(&c);
        assert_int_equal(jobcli_parse(&c, ARGC(list), list, err, sizeof err), 0);
        assert_int_equal(c.command, JOBCLI_LIST);
        assert_string_equal(c.marathon, "http://m:8080");
        jobcli_free(&c);
}

static void a_jar_is_a_uri_when_a_scheme_comes_before_its_slashes(void **state)
{
        (void)state;
        assert_true(jobcli_jar_is_uri("https://h/a.jar"));
        assert_true(jobcli_jar_is_uri("file:///a.jar"));
        assert_true(jobcli_jar_is_uri("s3a://b/a.jar"));
        assert_false(jobcli_jar_is_uri("/opt/flink/a.jar"));
        assert_false(jobcli_jar_is_uri("/x://a.jar"));
        assert_false(jobcli_jar_is_uri("://a.jar"));
}

static json_t *built(char **argv, int argc)
{
        struct jobcli c;
        char err[256], *body;
        json_t *group;

        assert_int_equal(jobcli_parse(&c, argc, argv, err, sizeof err), 0);
        struct jobgroup_input in = { .cli = &c, .marathon_url = "http://marathon.mesos:8080", .want = want,
                                     .stop_timeout_s = 8 };
        assert_int_equal(jobgroup_build(&in, &body, err, sizeof err), 0);
        group = json_loads(body, 0, NULL);
        assert_non_null(group);
        free(body);
        jobcli_free(&c);
        return group;
}

static const char *arg(json_t *args, size_t i)
{
        return json_string_value(json_array_get(args, i));
}

static void the_group_holds_an_application_mode_appmaster_that_fetches_its_jar(void **state)
{
        char *argv[] = { "run-job", "--id", "/jobs/wc", "--jar", "https://repo/x/wc.jar", "--class", "WordCount",
                         "--parallelism", "2", "--from-savepoint", "s3://b/sp-1", "--allow-non-restored-state",
                         "-Dhigh-availability.type=zookeeper", "-Dhigh-availability.zookeeper.quorum=zk:2181",
                         "--env", "MARATHON_URL=http://inside:8080", "--", "--input", "x" };
        json_t *group = built(argv, ARGC(argv)), *app = json_array_get(json_object_get(group, "apps"), 0);
        json_t *args = json_object_get(app, "args"), *env = json_object_get(app, "env");
        (void)state;
        assert_string_equal(json_string_value(json_object_get(group, "id")), "/jobs/wc");
        assert_int_equal(json_array_size(json_object_get(group, "apps")), 1);
        assert_string_equal(json_string_value(json_object_get(app, "id")), "/jobs/wc/jobmanager");
        assert_int_equal(json_integer_value(json_object_get(app, "instances")), 1);
        const char *want_args[] = { "appmaster", "-Dhigh-availability.type=zookeeper",
                                    "-Dhigh-availability.zookeeper.quorum=zk:2181", "-Dhigh-availability.cluster-id=jobs_wc",
                                    "-Dexecution.submit-failed-job-on-application-error=true", "-Dparallelism.default=2",
                                    "--job-classname", "WordCount", "--jars", "wc.jar", "--fromSavepoint", "s3://b/sp-1",
                                    "--allowNonRestoredState", "--", "--input", "x" };
        assert_int_equal(json_array_size(args), sizeof want_args / sizeof want_args[0]);
        for (size_t i = 0; i < sizeof want_args / sizeof want_args[0]; i++)
                assert_string_equal(arg(args, i), want_args[i]);
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(app, "fetch"), 0), "uri")),
                            "https://repo/x/wc.jar");
        /* --env wins over what run-job sets. */
        assert_string_equal(json_string_value(json_object_get(env, "MARATHON_URL")), "http://inside:8080");
        assert_string_equal(json_string_value(json_object_get(env, "SUPERVISOR_JOB_GROUP")), "/jobs/wc");
        assert_string_equal(json_string_value(json_object_get(env, "FLINK_ZK_QUORUM")), "zk:2181");
        assert_string_equal(json_string_value(json_object_get(json_object_get(app, "labels"), JOBGROUP_LABEL)), "/jobs/wc");
        /* The checks registration wants, on the port named health (index 3). */
        json_t *health = json_array_get(json_object_get(app, "healthChecks"), 0);
        assert_int_equal(json_integer_value(json_object_get(health, "portIndex")), 3);
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(app, "portDefinitions"), 3), "name")),
                            "health");
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(app, "readinessChecks"), 0),
                                                              "portName")),
                            "health");
        assert_int_equal(json_integer_value(json_object_get(app, "taskKillGracePeriodSeconds")), 13);
        json_decref(group);
}

static void a_jar_in_the_image_is_not_fetched_and_without_ha_nothing_of_ha_is_added(void **state)
{
        char *argv[] = { "run-job", "--id", "/jobs/wc", "--jar", "/opt/flink/examples/streaming/WordCount.jar",
                         "-Dhigh-availability.type=NONE" };
        json_t *group = built(argv, ARGC(argv)), *app = json_array_get(json_object_get(group, "apps"), 0);
        json_t *args = json_object_get(app, "args");
        (void)state;
        assert_int_equal(json_array_size(json_object_get(app, "fetch")), 0);
        assert_int_equal(json_array_size(args), 4);
        assert_string_equal(arg(args, 3), "/opt/flink/examples/streaming/WordCount.jar");
        assert_null(json_object_get(json_object_get(app, "env"), "FLINK_ZK_QUORUM"));
        json_decref(group);
}

static void the_jobmanager_task_job_and_savepoint_are_read_from_the_answers(void **state)
{
        const char *app = "{\"app\":{\"tasks\":[{\"state\":\"TASK_STAGING\",\"host\":\"a\",\"ports\":[1]},"
                          "{\"state\":\"TASK_RUNNING\",\"host\":\"agent-3\",\"ports\":[31000,31001]}],"
                          "\"deployments\":[{\"id\":\"d\"}],\"lastTaskFailure\":{\"message\":\"Failed to fetch all URIs\"}}}";
        const char *jobs = "{\"jobs\":[{\"jid\":\"a1\",\"state\":\"FAILED\",\"start-time\":5},"
                           "{\"jid\":\"b2\",\"state\":\"RUNNING\",\"start-time\":9}]}";
        const char *exc = "{\"root-exception\":\"old\",\"exceptionHistory\":{\"entries\":[{\"stacktrace\":"
                          "\"java.lang.RuntimeException: boom\\n\\tat X.y\"}]}}";
        const char *sp = "{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"location\":\"s3://b/savepoint-1\"}}";
        const char *sp_failed = "{\"status\":{\"id\":\"COMPLETED\"},\"operation\":{\"failure-cause\":"
                                "{\"stack-trace\":\"java.io.IOException: disk full\\n\\tat Z\"}}}";
        struct jobgroup_jm jm;
        struct jobgroup_job job;
        char out[256];
        bool done, failed;
        (void)state;
        assert_int_equal(jobgroup_read_jm(app, strlen(app), &jm), 0);
        assert_true(jm.running);
        assert_string_equal(jm.host, "agent-3");
        assert_int_equal(jm.rest_port, 31000);
        assert_int_equal(jm.deployments, 1);
        assert_int_equal(jm.failures, 1);
        assert_string_equal(jm.failure, "Failed to fetch all URIs");
        assert_int_equal(jobgroup_read_jm("[]", 2, &jm), -EPROTO);
        const char *old_failure = "{\"app\":{\"version\":\"2026-12-03T10:00:00.000Z\",\"lastTaskFailure\":"
                                  "{\"message\":\"m\",\"version\":\"2026-12-01T10:00:00.000Z\"}}}";
        assert_int_equal(jobgroup_read_jm(old_failure, strlen(old_failure), &jm), 0);
        assert_int_equal(jm.failures, 0);
        assert_int_equal(jobgroup_read_job(jobs, strlen(jobs), &job), 0);
        assert_true(job.present);
        assert_string_equal(job.id, "b2");
        assert_string_equal(job.state, "RUNNING");
        assert_int_equal(jobgroup_read_job("{\"jobs\":[]}", 11, &job), 0);
        assert_false(job.present);
        assert_int_equal(jobgroup_read_job("{}", 2, &job), -EPROTO);
        assert_true(jobgroup_job_ended("FINISHED") && jobgroup_job_ended("FAILED") && jobgroup_job_ended("CANCELED"));
        assert_false(jobgroup_job_ended("SUSPENDED") || jobgroup_job_ended("RUNNING") || jobgroup_job_ended("FAILING"));
        jobgroup_read_exception(exc, strlen(exc), out, sizeof out);
        assert_string_equal(out, "java.lang.RuntimeException: boom");
        const char *old = "{\"root-exception\":\"E: x\\nmore\"}";
        jobgroup_read_exception(old, strlen(old), out, sizeof out);
        assert_string_equal(out, "E: x");
        const char *wrapped = "{\"root-exception\":\"JobInitializationException: Could not start the JobMaster.\\n\\tat A\\n"
                              "Caused by: RuntimeException: x\\n\\tat B\\nCaused by: java.io.FileNotFoundException: "
                              "Cannot find savepoint 's'\\n\\tat C\"}";
        jobgroup_read_exception(wrapped, strlen(wrapped), out, sizeof out);
        assert_string_equal(out, "JobInitializationException: Could not start the JobMaster.; caused by: "
                                 "java.io.FileNotFoundException: Cannot find savepoint 's'");
        jobgroup_read_exception(wrapped, strlen(wrapped), out, 20);
        assert_string_equal(out, "JobInitializationEx");
        assert_int_equal(jobgroup_read_trigger("{\"request-id\":\"t-1\"}", 20, out, sizeof out), 0);
        assert_string_equal(out, "t-1");
        assert_int_equal(jobgroup_read_savepoint(sp, strlen(sp), &done, &failed, out, sizeof out), 0);
        assert_true(done && !failed);
        assert_string_equal(out, "s3://b/savepoint-1");
        assert_int_equal(jobgroup_read_savepoint(sp_failed, strlen(sp_failed), &done, &failed, out, sizeof out), 0);
        assert_true(done && failed);
        assert_string_equal(out, "java.io.IOException: disk full");
        assert_int_equal(jobgroup_read_savepoint("{\"status\":{\"id\":\"IN_PROGRESS\"}}", 31, &done, &failed, out, sizeof out), 0);
        assert_false(done);
        const char *errors = "{\"errors\":[\"Internal server error.\",\"<Exception on server side:\\nX: no dir\"]}";
        jobgroup_read_flink_error(errors, strlen(errors), out, sizeof out);
        assert_string_equal(out, "X: no dir");
}

static void the_list_has_the_labelled_apps_only(void **state)
{
        const char *apps = "{\"apps\":[{\"id\":\"/jobs/a/jobmanager\",\"labels\":{\"" JOBGROUP_LABEL "\":\"/jobs/a\"},"
                           "\"tasks\":[{\"state\":\"TASK_RUNNING\",\"host\":\"h\",\"ports\":[8081]}]},"
                           "{\"id\":\"/other\",\"labels\":{}}]}";
        struct jobgroup_listed listed[4];
        size_t n;
        (void)state;
        assert_int_equal(jobgroup_read_list(apps, strlen(apps), listed, 4, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(listed[0].group, "/jobs/a");
        assert_int_equal(listed[0].jm.rest_port, 8081);
        assert_int_equal(jobgroup_read_list("{}", 2, listed, 4, &n), -EPROTO);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(run_job_options_are_read_and_the_job_s_arguments_kept_verbatim),
                cmocka_unit_test(missing_contradictory_and_unknown_options_are_refused),
                cmocka_unit_test(stop_and_list_take_their_own_options),
                cmocka_unit_test(a_jar_is_a_uri_when_a_scheme_comes_before_its_slashes),
                cmocka_unit_test(the_group_holds_an_application_mode_appmaster_that_fetches_its_jar),
                cmocka_unit_test(a_jar_in_the_image_is_not_fetched_and_without_ha_nothing_of_ha_is_added),
                cmocka_unit_test(the_jobmanager_task_job_and_savepoint_are_read_from_the_answers),
                cmocka_unit_test(the_list_has_the_labelled_apps_only),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
