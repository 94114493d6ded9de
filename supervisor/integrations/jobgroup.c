/* jobgroup: see jobgroup.h. */
#include "integrations/jobgroup.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const port_names[] = { "rest", "rpc", "blob", "health", "metrics" };

static const char *define_value(const struct jobcli *c, const char *key)
{
        size_t n = strlen(key);
        const char *v = NULL;

        for (size_t i = 0; i < c->n_defines; i++)
                if (strncmp(c->defines[i] + 2, key, n) == 0 && c->defines[i][2 + n] == '=')
                        v = c->defines[i] + 3 + n;
        return v;
}

static int append(json_t *list, const char *s)
{
        return json_array_append_new(list, json_string(s));
}

/* "--jars" gets the file Marathon fetched into the sandbox (its base
 * name: the supervisor makes it file://$MESOS_SANDBOX/NAME), or the path
 * in the image. */
static const char *jar_arg(const char *jar)
{
        return jobcli_jar_is_uri(jar) ? strrchr(jar, '/') + 1 : jar;
}

static json_t *args_of(const struct jobcli *c)
{
        json_t *args = json_array();
        const char *ha = define_value(c, "high-availability.type");
        bool on;
        char buf[600];
        int r = 0;

        if (!ha)
                ha = define_value(c, "high-availability");
        r |= append(args, "appmaster");
        for (size_t i = 0; i < c->n_defines; i++)
                r |= append(args, c->defines[i]);
        /* Under HA every job cluster needs its own znodes and storage: a
         * second cluster on the first one's id would take its jobs. */
        on = ha && strcmp(ha, "NONE") != 0 && strcmp(ha, "none") != 0;
        if (on && !define_value(c, "high-availability.cluster-id")) {
                snprintf(buf, sizeof buf, "-Dhigh-availability.cluster-id=%s", c->id + 1);
                for (char *p = buf; *p; p++)
                        if (*p == '/')
                                *p = '_';
                r |= append(args, buf);
        }
        /* A main() that throws before it submits leaves no job to report
         * the failure; Flink then submits a failed one (it can under HA only). */
        if (on && !define_value(c, "execution.submit-failed-job-on-application-error"))
                r |= append(args, "-Dexecution.submit-failed-job-on-application-error=true");
        if (c->parallelism) {
                snprintf(buf, sizeof buf, "-Dparallelism.default=%ld", c->parallelism);
                r |= append(args, buf);
        }
        if (c->klass) {
                r |= append(args, "--job-classname");
                r |= append(args, c->klass);
        }
        if (c->jar) {
                r |= append(args, "--jars");
                r |= append(args, jar_arg(c->jar));
        }
        if (c->from_savepoint) {
                r |= append(args, "--fromSavepoint");
                r |= append(args, c->from_savepoint);
        }
        if (c->allow_non_restored)
                r |= append(args, "--allowNonRestoredState");
        if (c->n_job_args)
                r |= append(args, "--");
        for (size_t i = 0; i < c->n_job_args; i++)
                r |= append(args, c->job_args[i]);
        if (r) {
                json_decref(args);
                return NULL;
        }
        return args;
}

static json_t *env_of(const struct jobgroup_input *in)
{
        json_t *env = json_pack("{s:s, s:s}", "MARATHON_URL", in->marathon_url, "SUPERVISOR_JOB_GROUP", in->cli->id);
        const char *quorum = define_value(in->cli, "high-availability.zookeeper.quorum");

        /* The appmaster learns its leadership from the HA quorum. */
        if (env && quorum && json_object_set_new(env, "FLINK_ZK_QUORUM", json_string(quorum)) < 0) {
                json_decref(env);
                return NULL;
        }

        for (size_t i = 0; env && i < in->cli->n_env; i++) {
                const char *kv = in->cli->env[i], *eq = strchr(kv, '=');
                if (json_object_setn_new(env, kv, (size_t)(eq - kv), json_string(eq + 1)) < 0) {
                        json_decref(env);
                        return NULL;
                }
        }
        return env;
}

static json_t *ports(void)
{
        json_t *list = json_array();

        for (size_t i = 0; list && i < N(port_names); i++) {
                json_t *p = json_pack("{s:i, s:s, s:s}", "port", 0, "name", port_names[i], "protocol", "tcp");
                /* DC/OS's metrics agent scrapes the ports labelled so. */
                if (p && strcmp(port_names[i], "metrics") == 0)
                        json_object_set_new(p, "labels", json_pack("{s:s}", "DCOS_METRICS_FORMAT", "prometheus"));
                if (json_array_append_new(list, p) < 0) {
                        json_decref(list);
                        return NULL;
                }
        }
        return list;
}

static json_t *fetch_of(const struct jobcli *c)
{
        if (!c->jar || !jobcli_jar_is_uri(c->jar))
                return json_array();
        return json_pack("[{s:s, s:b, s:b, s:b}]", "uri", c->jar, "extract", 0, "executable", 0, "cache", 0);
}

int jobgroup_build(const struct jobgroup_input *in, char **body, char *err, size_t errlen)
{
        const struct jobcli *c = in->cli;
        char app_id[600];
        json_t *app, *group = NULL;
        int r = -ENOMEM;

        *body = NULL;
        snprintf(app_id, sizeof app_id, "%s" JOBGROUP_JM, c->id);
        /* The JobManager is replaced only after it stopped: two of one
         * application cluster would run its job twice. */
        app = json_pack("{s:s, s:i, s:f, s:I, s:o*, s:o*, s:{s:s, s:{s:s, s:b}}, s:o*, s:o*, s:{s:s}, s:I, "
                        "s:{s:i, s:i}}",
                        "id", app_id, "instances", 1, "cpus", c->jm_cpus, "mem", (json_int_t)c->jm_mem_mb, "args",
                        args_of(c), "env", env_of(in), "container", "type", "DOCKER", "docker", "image", c->image,
                        "forcePullImage", 0, "portDefinitions", ports(), "fetch", fetch_of(c), "labels",
                        JOBGROUP_LABEL, c->id, "taskKillGracePeriodSeconds", (json_int_t)(in->stop_timeout_s + 5),
                        "upgradeStrategy", "minimumHealthCapacity", 0, "maximumOverCapacity", 0);
        if (!app || !json_object_get(app, "args") || !json_object_get(app, "env") ||
            !json_object_get(app, "portDefinitions") || !json_object_get(app, "fetch"))
                goto out;
        if ((r = appchecks_fill(app, &in->want, err, errlen)) < 0)
                goto out;
        r = -ENOMEM;
        if (!(group = json_pack("{s:s, s:[O]}", "id", c->id, "apps", app)))
                goto out;
        r = (*body = json_dumps(group, JSON_COMPACT | JSON_SORT_KEYS)) ? 0 : -ENOMEM;
out:
        json_decref(group);
        json_decref(app);
        return r;
}

/* The JobManager task's host and REST port (the first of its ports). */
static void read_task(json_t *tasks, struct jobgroup_jm *ret)
{
        json_t *t;
        size_t i;

        json_array_foreach(tasks, i, t) {
                const char *state = json_string_value(json_object_get(t, "state"));
                const char *host = json_string_value(json_object_get(t, "host"));
                json_t *port = json_array_get(json_object_get(t, "ports"), 0);
                if (state && strcmp(state, "TASK_RUNNING") == 0 && host && strlen(host) < sizeof ret->host &&
                    json_is_integer(port) && json_integer_value(port) > 0 && json_integer_value(port) < 65536) {
                        ret->running = true;
                        snprintf(ret->host, sizeof ret->host, "%s", host);
                        ret->rest_port = (long)json_integer_value(port);
                }
        }
}

static int read_app(json_t *app, struct jobgroup_jm *ret)
{
        json_t *failure = json_object_get(app, "lastTaskFailure");
        const char *message = json_string_value(json_object_get(failure, "message"));
        const char *failed_version = json_string_value(json_object_get(failure, "version"));
        const char *version = json_string_value(json_object_get(app, "version"));

        *ret = (struct jobgroup_jm){ 0 };
        if (!json_is_object(app))
                return -EPROTO;
        read_task(json_object_get(app, "tasks"), ret);
        ret->deployments = json_array_size(json_object_get(app, "deployments"));
        /* Marathon may keep a deleted app's last failure for an app of the
         * same id created again (an upgrade): only the current version's counts. */
        if (json_is_object(failure) && !(failed_version && version && strcmp(failed_version, version) != 0)) {
                ret->failures = 1;
                snprintf(ret->failure, sizeof ret->failure, "%s", message ? message : "(no message)");
        }
        return 0;
}

int jobgroup_read_jm(const char *text, size_t len, struct jobgroup_jm *ret)
{
        json_t *root = json_loadb(text, len, 0, NULL);
        int r = read_app(json_object_get(root, "app"), ret);

        json_decref(root);
        return r;
}

int jobgroup_read_job(const char *text, size_t len, struct jobgroup_job *ret)
{
        json_t *root = json_loadb(text, len, 0, NULL), *jobs = json_object_get(root, "jobs"), *j;
        json_int_t newest = -1;
        size_t i;
        int r = json_is_array(jobs) ? 0 : -EPROTO;

        *ret = (struct jobgroup_job){ 0 };
        json_array_foreach(jobs, i, j) {
                const char *id = json_string_value(json_object_get(j, "jid"));
                const char *state = json_string_value(json_object_get(j, "state"));
                json_t *start = json_object_get(j, "start-time");
                if (!id || !state || strlen(id) >= sizeof ret->id || strlen(state) >= sizeof ret->state) {
                        r = -EPROTO;
                        break;
                }
                if (json_integer_value(start) >= newest) {
                        newest = json_integer_value(start);
                        ret->present = true;
                        snprintf(ret->id, sizeof ret->id, "%s", id);
                        snprintf(ret->state, sizeof ret->state, "%s", state);
                }
        }
        json_decref(root);
        return r;
}

bool jobgroup_job_ended(const char *state)
{
        return strcmp(state, "FINISHED") == 0 || strcmp(state, "FAILED") == 0 || strcmp(state, "CANCELED") == 0;
}

static void copy_upto(const char *s, size_t n, char *out, size_t size)
{
        n = n < size ? n : size - 1;
        memcpy(out, s, n);
        out[n] = '\0';
}

static void first_line(const char *s, char *out, size_t size)
{
        copy_upto(s, strcspn(s, "\r\n"), out, size);
}

void jobgroup_read_exception(const char *text, size_t len, char *out, size_t size)
{
        json_t *root = json_loadb(text, len, 0, NULL);
        json_t *entry = json_array_get(json_object_get(json_object_get(root, "exceptionHistory"), "entries"), 0);
        const char *s = json_string_value(json_object_get(entry, "stacktrace")), *cause = NULL;

        /* The history's newest entry is the root cause of the failure;
         * older Flink versions have only root-exception. */
        if (!s)
                s = json_string_value(json_object_get(root, "root-exception"));
        first_line(s ? s : "(Flink gave no exception)", out, size);
        /* Flink wraps the cause ("Could not start the JobMaster"): the
         * deepest "Caused by:" is what went wrong. */
        for (const char *p = s ? strstr(s, "\nCaused by: ") : NULL; p; p = strstr(p + 1, "\nCaused by: "))
                cause = p + 12;
        if (cause) {
                size_t n = strlen(out);
                if (n + 14 < size) {
                        memcpy(out + n, "; caused by: ", 14);
                        first_line(cause, out + n + 13, size - n - 13);
                }
        }
        json_decref(root);
}

void jobgroup_read_flink_error(const char *text, size_t len, char *out, size_t size)
{
        json_t *root = json_loadb(text, len, 0, NULL), *errors = json_object_get(root, "errors"), *e;
        const char *s = NULL;
        size_t i;

        /* Flink's handlers put "Internal server error." first and the
         * cause after it. */
        json_array_foreach(errors, i, e)
                if (json_string_value(e) && (!s || strncmp(s, "Internal server error", 21) == 0))
                        s = json_string_value(e);
        /* ... and the cause's stack trace under a heading line. */
        if (s && strncmp(s, "<Exception on server side:", 26) == 0 && strchr(s, '\n'))
                s = strchr(s, '\n') + 1;
        first_line(s ? s : "(Flink gave no reason)", out, size);
        json_decref(root);
}

int jobgroup_read_trigger(const char *text, size_t len, char *out, size_t size)
{
        json_t *root = json_loadb(text, len, 0, NULL);
        const char *id = json_string_value(json_object_get(root, "request-id"));
        int r = id && strlen(id) < size ? 0 : -EPROTO;

        if (r == 0)
                copy_upto(id, strlen(id), out, size);
        json_decref(root);
        return r;
}

int jobgroup_read_savepoint(const char *text, size_t len, bool *done, bool *failed, char *out, size_t size)
{
        json_t *root = json_loadb(text, len, 0, NULL), *op = json_object_get(root, "operation");
        const char *status = json_string_value(json_object_get(json_object_get(root, "status"), "id"));
        const char *location = json_string_value(json_object_get(op, "location"));
        json_t *cause = json_object_get(op, "failure-cause");
        int r = status ? 0 : -EPROTO;

        *done = status && strcmp(status, "COMPLETED") == 0;
        *failed = *done && !location;
        if (*done && location)
                copy_upto(location, strlen(location), out, size);
        else if (*failed)
                first_line(json_string_value(json_object_get(cause, "stack-trace"))
                                   ? json_string_value(json_object_get(cause, "stack-trace"))
                                   : "(Flink gave no reason)",
                           out, size);
        json_decref(root);
        return r;
}

int jobgroup_read_list(const char *text, size_t len, struct jobgroup_listed *out, size_t max, size_t *n)
{
        json_t *root = json_loadb(text, len, 0, NULL), *apps = json_object_get(root, "apps"), *app;
        size_t i;
        int r = json_is_array(apps) ? 0 : -EPROTO;

        *n = 0;
        json_array_foreach(apps, i, app) {
                const char *group = json_string_value(json_object_get(json_object_get(app, "labels"), JOBGROUP_LABEL));
                if (!group || *n >= max || strlen(group) >= sizeof out[0].group)
                        continue;
                if ((r = read_app(app, &out[*n].jm)) < 0)
                        break;
                snprintf(out[*n].group, sizeof out[0].group, "%s", group);
                ++*n;
        }
        json_decref(root);
        return r;
}
