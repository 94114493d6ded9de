/* tmapp: see tmapp.h. */
#include "integrations/tmapp.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What only the appmaster uses: the TaskManagers must not scale, register
 * on Marathon, or bind the appmaster's health port. */
static const char *const own_env_only[] = {
        "FLINK_ROLE", "MARATHON_URL", "MARATHON_CREDENTIALS_FILE", "MARATHON_TOKEN_FILE", "MARATHON_CA_FILE",
        "SUPERVISOR_TM_APP_ID", "SUPERVISOR_TM_MAX", "SUPERVISOR_TM_REGISTRATION_TIMEOUT", "SUPERVISOR_AM_INTERVAL",
        "SUPERVISOR_HEALTH_PORT", "SUPERVISOR_PROBE_URL", "SUPERVISOR_JOB_GROUP", "SUPERVISOR_JOB_LINGER",
};

/* -D keys of the JobManager's own, or of the allocation. */
static const char *const own_key_prefixes[] = {
        "mesos.", "jobmanager.", "rest.", "blob.", "web.", "historyserver.", "taskmanager.resource-id=",
};

static const char *const port_names[] = { "rpc", "data", APPCHECKS_PORT_NAME, "metrics" };

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int fail(char *err, size_t errlen, int code, const char *what)
{
        snprintf(err, errlen, "TaskManager app: %s", what);
        return code;
}

static bool listed(const char *s, const char *const *list, size_t n, bool prefix)
{
        for (size_t i = 0; i < n; i++)
                if (prefix ? strncmp(s, list[i], strlen(list[i])) == 0 : strcmp(s, list[i]) == 0)
                        return true;
        return false;
}

static json_t *env_of(json_t *own)
{
        json_t *env = json_object(), *v;
        const char *k;

        json_object_foreach(json_object_get(own, "env"), k, v)
                if (!listed(k, own_env_only, N(own_env_only), false))
                        json_object_set(env, k, v);
        return env;
}

static json_t *args_of(json_t *own, const struct tmapp_input *in)
{
        json_t *args = json_pack("[s]", "taskmanager"), *v;
        size_t i;

        json_array_foreach(json_object_get(own, "args"), i, v) {
                const char *a = json_string_value(v);
                if (a && strncmp(a, "-D", 2) == 0 && !listed(a + 2, own_key_prefixes, N(own_key_prefixes), true))
                        json_array_append(args, v);
        }
        for (size_t j = 0; j < in->n_extra; j++)
                json_array_append_new(args, json_string(in->extra_args[j]));
        return args;
}

static bool bridged(json_t *own)
{
        json_t *n;
        size_t i;

        json_array_foreach(json_object_get(own, "networks"), i, n)
                if (json_string_value(json_object_get(n, "mode")) &&
                    strcmp(json_string_value(json_object_get(n, "mode")), "container/bridge") == 0)
                        return true;
        return false;
}

static json_t *ports(bool mapped, bool bridge)
{
        json_t *list = json_array();

        for (size_t i = 0; i < N(port_names); i++) {
                json_t *p = mapped ? json_pack("{s:i, s:s, s:s}", "containerPort", 0, "name", port_names[i], "protocol", "tcp")
                                   : json_pack("{s:i, s:s, s:s}", "port", 0, "name", port_names[i], "protocol", "tcp");
                if (mapped && bridge)
                        json_object_set_new(p, "hostPort", json_integer(0));
                /* DC/OS's metrics agent scrapes the ports labelled so. */
                if (strcmp(port_names[i], "metrics") == 0)
                        json_object_set_new(p, "labels", json_pack("{s:s}", "DCOS_METRICS_FORMAT", "prometheus"));
                json_array_append_new(list, p);
        }
        return list;
}

static const char *image_of(json_t *own, const struct tmapp_input *in)
{
        if (in->am->image[0])
                return in->am->image;
        if (in->image_env && *in->image_env)
                return in->image_env;
        return json_string_value(json_object_get(json_object_get(json_object_get(own, "container"), "docker"), "image"));
}

static json_t *container_of_app(json_t *own, const char *image, bool mapped, bool bridge)
{
        json_t *docker = json_pack("{s:s}", "image", image);
        json_t *own_docker = json_object_get(json_object_get(own, "container"), "docker");
        const char *keep[] = { "forcePullImage", "parameters", "pullConfig", "credential" };
        json_t *c;

        for (size_t i = 0; i < N(keep); i++)
                if (json_object_get(own_docker, keep[i]))
                        json_object_set(docker, keep[i], json_object_get(own_docker, keep[i]));
        /* DOCKER or MESOS (UCR running the Docker image): the appmaster's. */
        const char *type = json_string_value(json_object_get(json_object_get(own, "container"), "type"));
        c = json_pack("{s:s, s:o}", "type", type && strcmp(type, "MESOS") == 0 ? "MESOS" : "DOCKER", "docker", docker);
        if (mapped)
                json_object_set_new(c, "portMappings", ports(true, bridge));
        return c;
}

/* Only the secrets the copied environment refers to: the appmaster's own
 * (its Marathon token) stay its own, and a secret the TaskManager app may
 * not read would fail its deployment. */
static int copy_secrets(json_t *app, json_t *own)
{
        json_t *env = json_object_get(app, "env"), *have = json_object_get(own, "secrets"), *out, *v;
        const char *k;

        if (!(out = json_object()))
                return -ENOMEM;
        json_object_foreach(env, k, v) {
                const char *name = json_string_value(json_object_get(v, "secret"));
                if (name && json_object_get(have, name))
                        json_object_set(out, name, json_object_get(have, name));
        }
        if (json_object_size(out) == 0) {
                json_decref(out);
                return 0;
        }
        return json_object_set_new(app, "secrets", out) < 0 ? -ENOMEM : 0;
}

static json_t *constraints_of(const struct amconf *am)
{
        json_t *list = json_array();

        for (size_t i = 0; i < am->n_constraints; i++)
                json_array_append_new(list, json_pack("[s, s, s]", am->constraints[i].field, "CLUSTER", am->constraints[i].value));
        return list;
}

int tmapp_build(const struct tmapp_input *in, char **body, char *err, size_t errlen)
{
        json_t *root = json_loadb(in->own_text, in->own_len, 0, NULL), *own = json_object_get(root, "app"), *app = NULL;
        const char *image;
        bool mapped, bridge;
        int r = -ENOMEM;

        *body = NULL;
        if (!json_is_object(own)) {
                r = fail(err, errlen, -EPROTO, "the appmaster's own definition is not {\"app\": {...}}");
                goto out;
        }
        if (!(image = image_of(own, in))) {
                r = fail(err, errlen, -ENOENT,
                         "no image: expected mesos.resourcemanager.tasks.container.image.name, or a Docker appmaster app");
                goto out;
        }
        mapped = json_array_size(json_object_get(json_object_get(own, "container"), "portMappings")) > 0;
        bridge = bridged(own);
        app = json_pack("{s:s, s:I, s:f, s:I, s:o, s:o, s:o, s:{s:s}, s:I, s:o}", "id", in->am->tm_app_id, "instances",
                        (json_int_t)in->instances, "cpus", in->am->cpus, "mem", (json_int_t)in->am->mem_mb, "args",
                        args_of(own, in), "env", env_of(own), "container", container_of_app(own, image, mapped, bridge),
                        "labels", TMAPP_OWNER_LABEL, in->own_app_id, "taskKillGracePeriodSeconds",
                        (json_int_t)(in->stop_timeout_s + 5), "constraints", constraints_of(in->am));
        if (!app)
                goto out;
        if (json_object_get(own, "networks"))
                json_object_set(app, "networks", json_object_get(own, "networks"));
        if ((r = copy_secrets(app, own)) < 0)
                goto out;
        if (!mapped)
                json_object_set_new(app, "portDefinitions", ports(false, false));
        if ((r = appchecks_fill(app, &in->want, err, errlen)) < 0)
                goto out;
        r = (*body = json_dumps(app, JSON_COMPACT | JSON_SORT_KEYS)) ? 0 : -ENOMEM;
out:
        json_decref(app);
        json_decref(root);
        return r;
}

int tmapp_read(const char *text, size_t len, struct amplan_obs *o, char *err, size_t errlen)
{
        json_t *root = json_loadb(text, len, 0, NULL), *app = json_object_get(root, "app"), *t;
        json_t *instances = json_object_get(app, "instances"), *tasks = json_object_get(app, "tasks");
        const char *failed = json_string_value(json_object_get(json_object_get(app, "lastTaskFailure"), "taskId"));
        size_t i;
        int r = 0;

        o->n_tasks = 0;
        o->last_failure[0] = '\0';
        if (!json_is_object(app) || !json_is_integer(instances) || json_integer_value(instances) < 0 ||
            (tasks && !json_is_array(tasks))) {
                r = fail(err, errlen, -EPROTO, "Marathon's answer has no app with instances and tasks");
                goto out;
        }
        o->app_exists = true;
        o->instances = (long)json_integer_value(instances);
        o->deployments = json_array_size(json_object_get(app, "deployments"));
        json_array_foreach(tasks, i, t) {
                const char *id = json_string_value(json_object_get(t, "id"));
                if (!id || strlen(id) >= sizeof o->tasks[0].id) {
                        r = fail(err, errlen, -EPROTO, "a task without an id");
                        goto out;
                }
                if (o->n_tasks < AMPLAN_MAX_TMS)
                        snprintf(o->tasks[o->n_tasks++].id, sizeof o->tasks[0].id, "%s", id);
        }
        if (failed && strlen(failed) < sizeof o->last_failure)
                snprintf(o->last_failure, sizeof o->last_failure, "%s", failed);
out:
        json_decref(root);
        return r;
}

static void note(char *out, size_t size, const char *field)
{
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s%s", len ? "," : "", field);
}

void tmapp_differences(const char *have_text, size_t have_len, const char *want_body, char *out, size_t size)
{
        static const char *const fields[] = { "cpus", "mem", "args", "constraints", "networks" };
        json_t *root = json_loadb(have_text, have_len, 0, NULL), *have = json_object_get(root, "app");
        json_t *want = json_loads(want_body, 0, NULL);
        const char *own = json_string_value(json_object_get(json_object_get(want, "labels"), TMAPP_OWNER_LABEL));
        const char *owner = json_string_value(json_object_get(json_object_get(have, "labels"), TMAPP_OWNER_LABEL));
        json_t *hi = json_object_get(json_object_get(json_object_get(have, "container"), "docker"), "image");
        json_t *wi = json_object_get(json_object_get(json_object_get(want, "container"), "docker"), "image");

        out[0] = '\0';
        for (size_t i = 0; i < N(fields); i++) {
                json_t *a = json_object_get(have, fields[i]), *b = json_object_get(want, fields[i]);
                /* Marathon's GET fills in defaults: only what we would set counts. */
                if (b && !(a && (json_equal(a, b) || (json_is_number(a) && json_is_number(b) &&
                                                      json_number_value(a) == json_number_value(b)))))
                        note(out, size, fields[i]);
        }
        if (!json_equal(hi, wi))
                note(out, size, "container.docker.image");
        if (!owner || !own || strcmp(owner, own) != 0)
                note(out, size, "labels." TMAPP_OWNER_LABEL);
        json_decref(want);
        json_decref(root);
}
