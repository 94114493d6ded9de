/* Unit tests: the Application Master's decisions (amplan), its settings
 * (amconf), what it reads from Flink (flinkrest) and the TaskManager app
 * it builds and reads (tmapp). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/amconf.h"
#include "flink/amplan.h"
#include "flink/flinkrest.h"
#include "integrations/tmapp.h"

static struct amconf cfg(void)
{
        return (struct amconf){ .initial_tasks = 1, .max_tasks = 4, .max_failed = 2, .cpus = 1, .mem_mb = 1056, .slots = 2,
                                .idle_timeout_ms = 30000, .registration_timeout_ms = 60000, .interval_ms = 1000,
                                .tm_app_id = "/flink/am-taskmanagers" };
}

static struct amplan_obs *obs(long instances, size_t n_tasks, uint64_t now)
{
        static struct amplan_obs o;
        memset(&o, 0, sizeof o);
        o.leader = o.flink = o.marathon = o.app_exists = true;
        o.instances = instances;
        o.n_tasks = n_tasks;
        for (size_t i = 0; i < n_tasks; i++)
                snprintf(o.tasks[i].id, sizeof o.tasks[i].id, "t%zu", i);
        o.now_ms = now;
        return &o;
}

static void tm(struct amplan_obs *o, const char *id, long slots, long free_slots)
{
        struct amplan_tm *t = &o->tms[o->n_tms++];
        snprintf(t->id, sizeof t->id, "%s", id);
        t->slots = slots;
        t->free = free_slots;
}

static struct amplan_memory mem;

static struct amplan_action step(const struct amconf *c, const struct amplan_obs *o)
{
        struct amplan_action a;
        amplan_step(c, o, &mem, &a);
        return a;
}

static int setup(void **state)
{
        (void)state;
        amplan_init(&mem);
        return 0;
}

static void standby_never_acts(void **state)
{
        struct amconf c = cfg();
        struct amplan_obs *o = obs(0, 0, 1000);
        (void)state;
        o->leader = false;
        o->app_exists = false;
        o->slots_needed = 10;
        struct amplan_action a = step(&c, o);
        assert_int_equal(a.kind, AMPLAN_WAIT);
        assert_non_null(strstr(a.reason, "standby"));
}

static void missing_app_is_created_at_the_initial_tasks(void **state)
{
        struct amconf c = cfg();
        struct amplan_obs *o = obs(0, 0, 1000);
        (void)state;
        o->app_exists = false;
        c.initial_tasks = 2;
        struct amplan_action a = step(&c, o);
        assert_int_equal(a.kind, AMPLAN_CREATE);
        assert_int_equal(a.instances, 2);
}

static void jobs_needing_slots_scale_up_once_to_what_they_need(void **state)
{
        struct amconf c = cfg();
        struct amplan_obs *o = obs(1, 1, 1000);
        (void)state;
        tm(o, "t0", 2, 0);
        o->slots_needed = 5;  /* 3 TaskManagers of 2 slots */
        struct amplan_action a = step(&c, o);
        assert_int_equal(a.kind, AMPLAN_SCALE);
        assert_int_equal(a.instances, 3);
        assert_int_equal(a.wanted, 3);
        /* Marathon took it: the tasks start; nothing more is written. */
        o = obs(3, 3, 2000);
        tm(o, "t0", 2, 0);
        o->slots_needed = 5;
        a = step(&c, o);
        assert_int_equal(a.kind, AMPLAN_WAIT);
        assert_int_equal(a.pending, 2);
}

static void scale_up_stops_at_the_maximum(void **state)
{
        struct amconf c = cfg();
        struct amplan_obs *o = obs(1, 1, 1000);
        (void)state;
        tm(o, "t0", 2, 0);
        o->slots_needed = 100;
        struct amplan_action a = step(&c, o);
        assert_int_equal(a.kind, AMPLAN_SCALE);
        assert_int_equal(a.instances, 4);
        o = obs(4, 4, 2000);
        o->slots_needed = 100;
        assert_int_equal(step(&c, o).kind, AMPLAN_WAIT);
}

static void a_deployment_is_waited_for(void **state)
{
        struct amconf c = cfg();
        struct amplan_obs *o = obs(1, 1, 1000);
        (void)state;
        o->deployments = 1;
        o->slots_needed = 8;
        struct amplan_action a = step(&c, o);
        assert_int_equal(a.kind, AMPLAN_WAIT);
        assert_non_null(strstr(a.reason, "deployment"));
}

static void no_view_of_flink_means_no_scaling(void **state)
{
        struct amconf c = cfg();
        struct amplan_obs *o = obs(1, 1, 1000);
        (void)state;
        o->flink = false;
        o->slots_needed = 8;
        assert_int_equal(step(&c, o).kind, AMPLAN_WAIT);
        o->flink = true;
        o->marathon = false;
        assert_int_equal(step(&c, o).kind, AMPLAN_WAIT);
}

static void idle_taskmanager_goes_after_the_timeout_by_its_task_id(void **state)
{
        struct amconf c = cfg();
        struct amplan_obs *o;
        struct amplan_action a;
        (void)state;
        for (uint64_t t = 0; t < 30000; t += 10000) {
                o = obs(3, 3, 1000 + t);
                tm(o, "t0", 2, 2);
                tm(o, "t1", 2, 1);  /* a slot in use: never removed */
                tm(o, "t2", 2, 2);
                o->slots_needed = 1;
                a = step(&c, o);
                assert_int_equal(a.kind, AMPLAN_WAIT);
        }
        o = obs(3, 3, 31000);
        tm(o, "t0", 2, 2);
        tm(o, "t1", 2, 1);
        tm(o, "t2", 2, 2);
        o->slots_needed = 1;
        a = step(&c, o);
        assert_int_equal(a.kind, AMPLAN_KILL);
        assert_int_equal(a.instances, 2);
        assert_true(strcmp(a.task, "t0") == 0 || strcmp(a.task, "t2") == 0);
        assert_string_not_equal(a.task, "t1");
}

static void busy_again_restarts_the_idle_clock(void **state)
{
        struct amconf c = cfg();
        struct amplan_obs *o = obs(2, 2, 0);
        (void)state;
        tm(o, "t0", 2, 0);
        tm(o, "t1", 2, 2);
        step(&c, o);
        o = obs(2, 2, 20000);
        tm(o, "t0", 2, 0);
        tm(o, "t1", 2, 0);  /* in use */
        o->slots_needed = 4;
        step(&c, o);
        o = obs(2, 2, 35000);
        tm(o, "t0", 2, 0);
        tm(o, "t1", 2, 2);
        assert_int_equal(step(&c, o).kind, AMPLAN_WAIT);  /* idle 0 s, not 35 */
        o = obs(2, 2, 65000);
        tm(o, "t0", 2, 0);
        tm(o, "t1", 2, 2);
        struct amplan_action a = step(&c, o);
        assert_int_equal(a.kind, AMPLAN_KILL);
        assert_string_equal(a.task, "t1");
}

static void never_below_the_floor(void **state)
{
        struct amconf c = cfg();
        struct amplan_obs *o;
        (void)state;
        c.initial_tasks = 2;
        for (uint64_t t = 0; t <= 100000; t += 50000) {
                o = obs(2, 2, t);
                tm(o, "t0", 2, 2);
                tm(o, "t1", 2, 2);
                assert_int_equal(step(&c, o).kind, AMPLAN_WAIT);
        }
}

static void an_unknown_taskmanager_is_not_killed(void **state)
{
        struct amconf c = cfg();
        struct amplan_obs *o;
        (void)state;
        for (uint64_t t = 0; t <= 100000; t += 50000) {
                o = obs(2, 2, t);
                tm(o, "t0", 2, 0);
                tm(o, "started-by-hand", 2, 2);
                assert_int_equal(step(&c, o).kind, AMPLAN_WAIT);
        }
}

static void failed_tasks_stop_scale_up_until_one_registers(void **state)
{
        struct amconf c = cfg();
        struct amplan_obs *o;
        struct amplan_action a;
        const char *failures[] = { "old", "f1", "f2" };
        (void)state;
        for (size_t i = 0; i < 3; i++) {
                o = obs(2, 1, 1000 * i);
                tm(o, "t0", 2, 0);
                snprintf(o->last_failure, sizeof o->last_failure, "%s", failures[i]);
                o->slots_needed = 6;
                a = step(&c, o);
        }
        /* "old" was there before us; f1 and f2 reach the limit of 2. */
        assert_int_equal(a.failed, 2);
        assert_true(a.blocked);
        assert_int_equal(a.kind, AMPLAN_WAIT);
        assert_non_null(strstr(a.reason, "stopped"));
        o = obs(2, 2, 5000);
        tm(o, "t0", 2, 0);
        tm(o, "t1", 2, 0);
        snprintf(o->last_failure, sizeof o->last_failure, "f2");
        o->slots_needed = 6;
        a = step(&c, o);
        assert_false(a.blocked);
        assert_int_equal(a.kind, AMPLAN_SCALE);
        assert_int_equal(a.instances, 3);
}

static void a_task_that_never_registers_counts_as_failed_once(void **state)
{
        struct amconf c = cfg();
        struct amplan_obs *o;
        struct amplan_action a;
        (void)state;
        c.max_failed = 1;
        for (uint64_t t = 0; t <= 120000; t += 30000) {
                o = obs(2, 2, t);
                tm(o, "t0", 2, 0);
                o->slots_needed = 6;
                a = step(&c, o);
                if (t < 60000)
                        assert_int_equal(a.failed, 0);
        }
        assert_int_equal(a.failed, 1);
        assert_true(a.blocked);
}

static void leadership_lost_forgets_everything(void **state)
{
        struct amconf c = cfg();
        struct amplan_obs *o = obs(2, 2, 0);
        (void)state;
        tm(o, "t0", 2, 2);
        tm(o, "t1", 2, 2);
        step(&c, o);
        o = obs(2, 2, 40000);
        o->leader = false;
        step(&c, o);
        o = obs(2, 2, 41000);
        tm(o, "t0", 2, 2);
        tm(o, "t1", 2, 2);
        /* Idle since it leads again, not since 0. */
        assert_int_equal(step(&c, o).kind, AMPLAN_WAIT);
}

static struct conf conf_of(const char *const *kv)
{
        struct conf c;
        conf_init(&c);
        for (; kv && kv[0]; kv += 2)
                assert_int_equal(conf_set(&c, kv[0], kv[1], CONF_SRC_ARG), 0);
        return c;
}

static const struct settings settings = { .tm_max = 10, .tm_registration_timeout_s = 180, .am_interval_s = 1 };

static void amconf_defaults_follow_flink(void **state)
{
        struct conf c = conf_of(NULL);
        struct amconf a;
        char err[300];
        (void)state;
        assert_int_equal(amconf_load(&a, &c, &settings, "/flink/am", err, sizeof err), 0);
        assert_int_equal(a.initial_tasks, 1);
        assert_int_equal(a.max_failed, 1);
        assert_int_equal(a.slots, 1);
        assert_true(a.cpus == 1.0);
        assert_int_equal(a.mem_mb, 1728 + 32);
        assert_int_equal(a.idle_timeout_ms, 30000);
        assert_int_equal(a.max_tasks, 10);
        assert_string_equal(a.tm_app_id, "/flink/am-taskmanagers");
        conf_free(&c);
}

static void amconf_reads_the_seed_keys(void **state)
{
        const char *kv[] = { "mesos.initial-tasks", "3", "mesos.resourcemanager.tasks.cpus", "2.5",
                             "mesos.resourcemanager.tasks.mem", "2048", "mesos.maximum-failed-tasks", "7",
                             "mesos.constraints.hard.hostattribute", "rack:r1,zone:a",
                             "mesos.resourcemanager.tasks.container.image.name", "repo/flink:1",
                             "resourcemanager.taskmanager-timeout", "2 min", "slotmanager.number-of-slots.max", "8", NULL };
        struct conf c = conf_of(kv);
        struct amconf a;
        char err[300];
        (void)state;
        assert_int_equal(amconf_load(&a, &c, &settings, "/am", err, sizeof err), 0);
        assert_int_equal(a.initial_tasks, 3);
        assert_true(a.cpus == 2.5);
        assert_int_equal(a.slots, 2);
        assert_int_equal(a.mem_mb, 2048);
        assert_int_equal(a.max_failed, 7);
        assert_int_equal(a.n_constraints, 2);
        assert_string_equal(a.constraints[1].field, "zone");
        assert_string_equal(a.constraints[1].value, "a");
        assert_string_equal(a.image, "repo/flink:1");
        assert_int_equal(a.idle_timeout_ms, 120000);
        assert_int_equal(a.max_tasks, 4);  /* 8 slots of 2 */
        conf_free(&c);
}

static void amconf_memory_follows_the_process_size(void **state)
{
        const char *kv[] = { "taskmanager.memory.process.size", "1 gb", "taskmanager.numberOfTaskSlots", "3", NULL };
        struct conf c = conf_of(kv);
        struct amconf a;
        char err[300];
        (void)state;
        assert_int_equal(amconf_load(&a, &c, &settings, "/am", err, sizeof err), 0);
        assert_int_equal(a.mem_mb, 1024 + 32);
        assert_int_equal(a.slots, 3);
        assert_true(a.cpus == 3.0);
        conf_free(&c);
}

static void amconf_refuses_bad_values_with_one_line(void **state)
{
        const char *bad[][2] = {
                { "mesos.initial-tasks", "many" }, { "mesos.resourcemanager.tasks.cpus", "-1" },
                { "mesos.resourcemanager.tasks.mem", "1g" }, { "mesos.constraints.hard.hostattribute", "rack" },
                { "resourcemanager.taskmanager-timeout", "soon" }, { "mesos.initial-tasks", "11" },
                { "mesos.resourcemanager.tasks.container.image.name", "" },
        };
        (void)state;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                const char *kv[] = { bad[i][0], bad[i][1], NULL };
                struct conf c = conf_of(kv);
                struct amconf a;
                char err[300] = "";
                assert_int_equal(amconf_load(&a, &c, &settings, "/am", err, sizeof err), -EINVAL);
                assert_non_null(strstr(err, bad[i][0]));
                assert_non_null(strstr(err, "expected"));
                assert_null(strchr(err, '\n'));
                conf_free(&c);
        }
}

static void durations_and_sizes_parse_as_flink_does(void **state)
{
        long v;
        (void)state;
        assert_int_equal(amconf_parse_duration_ms("30000", &v), 0);
        assert_int_equal(v, 30000);
        assert_int_equal(amconf_parse_duration_ms("30 s", &v), 0);
        assert_int_equal(v, 30000);
        assert_int_equal(amconf_parse_duration_ms("1h", &v), 0);
        assert_int_equal(v, 3600000);
        assert_int_equal(amconf_parse_duration_ms("1 fortnight", &v), -EINVAL);
        assert_int_equal(amconf_parse_memory_mb("1728m", &v), 0);
        assert_int_equal(v, 1728);
        assert_int_equal(amconf_parse_memory_mb("2 GB", &v), 0);
        assert_int_equal(v, 2048);
        assert_int_equal(amconf_parse_memory_mb("lots", &v), -EINVAL);
}

static void flinkrest_reads_the_answers(void **state)
{
        const char *tms = "{\"taskmanagers\":[{\"id\":\"a.instance-1._app.1\",\"slotsNumber\":2,\"freeSlots\":1},"
                          "{\"id\":\"b\",\"slotsNumber\":2,\"freeSlots\":2}]}";
        const char *jobs = "{\"jobs\":[{\"jid\":\"0123abcd\",\"state\":\"RUNNING\"},{\"jid\":\"ff\",\"state\":\"FINISHED\"},"
                           "{\"jid\":\"ee\",\"state\":\"CREATED\"}]}";
        const char *req = "{\"v1\":{\"parallelism\":{\"lowerBound\":1,\"upperBound\":4}},"
                          "\"v2\":{\"parallelism\":{\"lowerBound\":1,\"upperBound\":6}}}";
        const char *job = "{\"jid\":\"x\",\"vertices\":[{\"id\":\"v\",\"parallelism\":3},{\"id\":\"w\",\"parallelism\":5}]}";
        struct amplan_tm out[4];
        char ids[4][FLINKREST_JOB_ID];
        size_t n;
        long slots;
        bool ended;
        (void)state;
        assert_int_equal(flinkrest_taskmanagers(tms, strlen(tms), out, 4, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(out[0].id, "a.instance-1._app.1");
        assert_int_equal(out[0].free, 1);
        assert_int_equal(flinkrest_active_jobs(jobs, strlen(jobs), ids, 4, &n, &ended), 0);
        assert_int_equal(n, 2);
        assert_string_equal(ids[1], "ee");
        assert_false(ended);
        assert_int_equal(flinkrest_requirements(req, strlen(req), &slots), 0);
        assert_int_equal(slots, 6);
        assert_int_equal(flinkrest_parallelism(job, strlen(job), &slots), 0);
        assert_int_equal(slots, 5);
        assert_int_equal(flinkrest_taskmanagers("[]", 2, out, 4, &n), -EPROTO);
        assert_int_equal(flinkrest_active_jobs("{\"jobs\":[{\"jid\":\"../x\",\"state\":\"RUNNING\"}]}", 44, ids, 4, &n, &ended), -EPROTO);
        assert_int_equal(flinkrest_requirements("{\"errors\":[\"no\"]}", 18, &slots), -EPROTO);
}

#define OWN "{\"app\":{\"id\":\"/flink/am\",\"args\":[\"appmaster\",\"-Dmesos.initial-tasks=2\",\"-Dstate.backend=rocksdb\"," \
            "\"-Djobmanager.memory.process.size=1g\",\"-Drest.port=8081\"],\"env\":{\"FLINK_ZK_QUORUM\":\"zk:2181\"," \
            "\"MARATHON_URL\":\"http://m:8080\",\"SUPERVISOR_TM_MAX\":\"3\",\"FLINK_PROPERTIES\":\"a: b\"}," \
            "\"networks\":[{\"mode\":\"container/bridge\"}],\"container\":{\"type\":\"DOCKER\",\"docker\":{\"image\":\"own:1\"}," \
            "\"portMappings\":[{\"containerPort\":8081,\"name\":\"rest\"},{\"containerPort\":8558,\"name\":\"health\"}]}}}"

/* A job cluster's group goes once its jobs ended and the linger passed;
 * a failover's SUSPENDED is no end, and a job running again starts over. */
static void an_ended_job_clusters_group_is_removed_after_the_linger(void **state)
{
        struct amconf c = cfg();
        struct amplan_obs *o;
        (void)state;
        snprintf(c.job_group, sizeof c.job_group, "/jobs/wc");
        c.job_linger_ms = 5000;
        o = obs(1, 1, 1000);
        tm(o, "t0", 2, 2);
        o->jobs_ended = true;
        assert_int_equal(step(&c, o).kind, AMPLAN_WAIT);
        o = obs(1, 1, 3000);
        tm(o, "t0", 2, 0);
        o->jobs_ended = false;
        assert_int_equal(step(&c, o).kind, AMPLAN_WAIT);
        o = obs(1, 1, 4000);
        o->jobs_ended = true;
        assert_int_equal(step(&c, o).kind, AMPLAN_WAIT);
        o = obs(1, 1, 8999);
        o->jobs_ended = true;
        assert_int_equal(step(&c, o).kind, AMPLAN_WAIT);
        o = obs(1, 1, 9000);
        o->jobs_ended = true;
        o->marathon = false;
        struct amplan_action a = step(&c, o);
        assert_int_equal(a.kind, AMPLAN_REMOVE);
        assert_non_null(strstr(a.reason, "ended"));
        o = obs(1, 1, 9500);
        o->jobs_ended = true;
        o->leader = false;
        assert_int_equal(step(&c, o).kind, AMPLAN_WAIT);
}

/* Without SUPERVISOR_JOB_GROUP (a session cluster) nothing is removed. */
static void a_session_cluster_is_never_removed(void **state)
{
        struct amconf c = cfg();
        struct amplan_obs *o = obs(1, 1, 1000);
        (void)state;
        tm(o, "t0", 2, 2);
        o->jobs_ended = true;
        step(&c, o);
        o = obs(1, 1, 1000000);
        tm(o, "t0", 2, 2);
        o->jobs_ended = true;
        assert_int_not_equal(step(&c, o).kind, AMPLAN_REMOVE);
}

static void amconf_job_group_must_hold_the_own_app(void **state)
{
        struct conf c = conf_of(NULL);
        struct amconf a;
        struct settings set = settings;
        char err[300];
        (void)state;
        set.job_group = "/jobs/wc";
        set.job_linger_s = 7;
        assert_int_equal(amconf_load(&a, &c, &set, "/jobs/wc/jobmanager", err, sizeof err), 0);
        assert_string_equal(a.job_group, "/jobs/wc");
        assert_int_equal(a.job_linger_ms, 7000);
        const char *bad[] = { "/jobs/w", "/jobs/wc/", "/", "jobs/wc", "/other" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                set.job_group = bad[i];
                err[0] = 0;
                assert_int_equal(amconf_load(&a, &c, &set, "/jobs/wc/jobmanager", err, sizeof err), -EINVAL);
                assert_non_null(strstr(err, "SUPERVISOR_JOB_GROUP"));
                assert_non_null(strstr(err, "expected"));
        }
        conf_free(&c);
}

static void flinkrest_tells_when_every_job_ended(void **state)
{
        static const char *const cases[][2] = {
                { "{\"jobs\":[]}", "no" },
                { "{\"jobs\":[{\"jid\":\"a\",\"state\":\"FINISHED\"}]}", "yes" },
                { "{\"jobs\":[{\"jid\":\"a\",\"state\":\"FAILED\"},{\"jid\":\"b\",\"state\":\"CANCELED\"}]}", "yes" },
                { "{\"jobs\":[{\"jid\":\"a\",\"state\":\"FINISHED\"},{\"jid\":\"b\",\"state\":\"RUNNING\"}]}", "no" },
                { "{\"jobs\":[{\"jid\":\"a\",\"state\":\"SUSPENDED\"}]}", "no" },
        };
        char ids[1][FLINKREST_JOB_ID];
        size_t n;
        bool ended;
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                assert_int_equal(flinkrest_active_jobs(cases[i][0], strlen(cases[i][0]), ids, 1, &n, &ended), 0);
                assert_int_equal(ended, strcmp(cases[i][1], "yes") == 0);
        }
        assert_int_equal(flinkrest_active_jobs("{\"jobs\":[{}]}", 13, ids, 1, &n, &ended), -EPROTO);
        assert_false(ended);
        assert_int_equal(flinkrest_active_jobs("[]", 2, ids, 1, &n, &ended), -EPROTO);
}

static void tmapp_is_built_from_the_own_app(void **state)
{
        struct amconf c = cfg();
        char *extra[] = { "-Dhigh-availability.cluster-id=flink/am" };
        struct tmapp_input in = { .own_text = OWN, .own_len = strlen(OWN), .own_app_id = "/flink/am", .am = &c,
                                  .image_env = "env:2", .instances = 2, .extra_args = extra, .n_extra = 1,
                                  .want = { .protocol = APPCHECKS_HTTP, .grace_s = 300, .interval_s = 30, .timeout_s = 10,
                                            .failures = 3, .ready_interval_s = 30, .ready_timeout_s = 10 },
                                  .stop_timeout_s = 20 };
        char *body, err[300];
        (void)state;
        c.n_constraints = 1;
        snprintf(c.constraints[0].field, sizeof c.constraints[0].field, "rack");
        snprintf(c.constraints[0].value, sizeof c.constraints[0].value, "r1");
        assert_int_equal(tmapp_build(&in, &body, err, sizeof err), 0);
        assert_non_null(strstr(body, "\"id\":\"/flink/am-taskmanagers\""));
        assert_non_null(strstr(body, "\"instances\":2"));
        assert_non_null(strstr(body, "\"image\":\"env:2\""));
        assert_non_null(strstr(body, "\"args\":[\"taskmanager\",\"-Dstate.backend=rocksdb\",\"-Dhigh-availability.cluster-id=flink/am\"]"));
        assert_non_null(strstr(body, "\"FLINK_ZK_QUORUM\":\"zk:2181\""));
        assert_non_null(strstr(body, "\"FLINK_PROPERTIES\":\"a: b\""));
        assert_null(strstr(body, "MARATHON_URL"));
        assert_null(strstr(body, "SUPERVISOR_TM_MAX"));
        assert_non_null(strstr(body, "\"constraints\":[[\"rack\",\"CLUSTER\",\"r1\"]]"));
        assert_non_null(strstr(body, "\"FLINK_APPLIANCE_OWNER\":\"/flink/am\""));
        assert_non_null(strstr(body, "\"taskKillGracePeriodSeconds\":25"));
        assert_non_null(strstr(body, "\"name\":\"rpc\""));
        assert_non_null(strstr(body, "\"name\":\"data\""));
        assert_non_null(strstr(body, "\"name\":\"metrics\""));
        assert_non_null(strstr(body, "\"DCOS_METRICS_FORMAT\":\"prometheus\""));
        assert_non_null(strstr(body, "\"hostPort\":0"));
        assert_non_null(strstr(body, "\"path\":\"/health\""));
        assert_non_null(strstr(body, "\"portName\":\"health\""));
        assert_non_null(strstr(body, "\"mem\":1056"));
        assert_non_null(strstr(body, "\"type\":\"DOCKER\""));
        assert_null(strstr(body, "\"secrets\""));
        char diff[256];
        tmapp_differences(OWN, strlen(OWN), body, diff, sizeof diff);
        assert_non_null(strstr(diff, "container.docker.image"));
        free(body);
        c.image[0] = '\0';
        in.image_env = NULL;
        in.own_text = "{\"app\":{\"id\":\"/x\",\"cmd\":\"sleep 1\"}}";
        in.own_len = strlen(in.own_text);
        assert_int_equal(tmapp_build(&in, &body, err, sizeof err), -ENOENT);
        assert_non_null(strstr(err, "image"));
}

static void tmapp_keeps_ucr_and_only_the_secrets_its_env_uses(void **state)
{
        const char *own = "{\"app\":{\"id\":\"/f\",\"container\":{\"type\":\"MESOS\",\"docker\":{\"image\":\"img:1\"}},"
                          "\"env\":{\"S3_KEY\":{\"secret\":\"s3\"},\"MARATHON_TOKEN_FILE\":\"/mnt/mesos/sandbox/t\"},"
                          "\"secrets\":{\"s3\":{\"source\":\"f/s3\"},\"token\":{\"source\":\"f/token\"}}}}";
        struct amconf c = cfg();
        struct tmapp_input in = { .own_text = own, .own_len = strlen(own), .own_app_id = "/f", .am = &c, .instances = 1,
                                  .want = { .protocol = APPCHECKS_HTTP, .grace_s = 300, .interval_s = 30, .timeout_s = 10,
                                            .failures = 3, .ready_interval_s = 30, .ready_timeout_s = 10 } };
        char *body, err[300];
        (void)state;
        assert_int_equal(tmapp_build(&in, &body, err, sizeof err), 0);
        assert_non_null(strstr(body, "\"type\":\"MESOS\""));
        assert_non_null(strstr(body, "\"image\":\"img:1\""));
        assert_non_null(strstr(body, "\"secrets\":{\"s3\":{\"source\":\"f/s3\"}}"));
        assert_null(strstr(body, "f/token"));
        free(body);
}

static void tmapp_reads_marathons_answer(void **state)
{
        const char *text = "{\"app\":{\"id\":\"/t\",\"instances\":3,\"deployments\":[{\"id\":\"d\"}],"
                           "\"tasks\":[{\"id\":\"t.instance-1._app.1\",\"state\":\"TASK_RUNNING\"}],"
                           "\"lastTaskFailure\":{\"taskId\":\"t.instance-0._app.1\",\"state\":\"TASK_FAILED\"}}}";
        static struct amplan_obs o;
        char err[300];
        (void)state;
        assert_int_equal(tmapp_read(text, strlen(text), &o, err, sizeof err), 0);
        assert_true(o.app_exists);
        assert_int_equal(o.instances, 3);
        assert_int_equal(o.deployments, 1);
        assert_int_equal(o.n_tasks, 1);
        assert_string_equal(o.tasks[0].id, "t.instance-1._app.1");
        assert_string_equal(o.last_failure, "t.instance-0._app.1");
        assert_int_equal(tmapp_read("{\"app\":{}}", 10, &o, err, sizeof err), -EPROTO);
        assert_non_null(strstr(err, "instances"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(standby_never_acts, setup),
                cmocka_unit_test_setup(missing_app_is_created_at_the_initial_tasks, setup),
                cmocka_unit_test_setup(jobs_needing_slots_scale_up_once_to_what_they_need, setup),
                cmocka_unit_test_setup(scale_up_stops_at_the_maximum, setup),
                cmocka_unit_test_setup(a_deployment_is_waited_for, setup),
                cmocka_unit_test_setup(no_view_of_flink_means_no_scaling, setup),
                cmocka_unit_test_setup(idle_taskmanager_goes_after_the_timeout_by_its_task_id, setup),
                cmocka_unit_test_setup(busy_again_restarts_the_idle_clock, setup),
                cmocka_unit_test_setup(never_below_the_floor, setup),
                cmocka_unit_test_setup(an_unknown_taskmanager_is_not_killed, setup),
                cmocka_unit_test_setup(failed_tasks_stop_scale_up_until_one_registers, setup),
                cmocka_unit_test_setup(a_task_that_never_registers_counts_as_failed_once, setup),
                cmocka_unit_test_setup(leadership_lost_forgets_everything, setup),
                cmocka_unit_test_setup(an_ended_job_clusters_group_is_removed_after_the_linger, setup),
                cmocka_unit_test_setup(a_session_cluster_is_never_removed, setup),
                cmocka_unit_test(amconf_job_group_must_hold_the_own_app),
                cmocka_unit_test(flinkrest_tells_when_every_job_ended),
                cmocka_unit_test(amconf_defaults_follow_flink),
                cmocka_unit_test(amconf_reads_the_seed_keys),
                cmocka_unit_test(amconf_memory_follows_the_process_size),
                cmocka_unit_test(amconf_refuses_bad_values_with_one_line),
                cmocka_unit_test(durations_and_sizes_parse_as_flink_does),
                cmocka_unit_test(flinkrest_reads_the_answers),
                cmocka_unit_test(tmapp_is_built_from_the_own_app),
                cmocka_unit_test(tmapp_keeps_ucr_and_only_the_secrets_its_env_uses),
                cmocka_unit_test(tmapp_reads_marathons_answer),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
