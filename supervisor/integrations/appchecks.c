/* appchecks: see appchecks.h. */
#include "integrations/appchecks.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/settings.h"

struct field_default {
        const char *key;
        const char *json;
};

/* MARATHON.md: Marathon's defaults for healthChecks[] and readinessChecks[]. */
static const struct field_default health_defaults[] = {
        { "protocol", "\"HTTP\"" },          { "path", "\"/\"" },
        { "gracePeriodSeconds", "300" },     { "intervalSeconds", "60" },
        { "timeoutSeconds", "20" },          { "maxConsecutiveFailures", "3" },
        { "delaySeconds", "15" },            { "ignoreHttp1xx", "false" },
        { "ipProtocol", "\"IPv4\"" },
};

static const struct field_default ready_defaults[] = {
        { "name", "\"readinessCheck\"" },    { "protocol", "\"HTTP\"" },
        { "path", "\"/\"" },                 { "intervalSeconds", "30" },
        { "timeoutSeconds", "10" },          { "httpStatusCodesForReady", "[200]" },
        { "preserveLastResponse", "false" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A check without the fields that hold Marathon's defaults. */
static json_t *canonical(json_t *check, const struct field_default *defs, size_t n, bool health)
{
        json_t *c = json_deep_copy(check);

        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                json_t *def = json_loads(defs[i].json, JSON_DECODE_ANY, NULL);
                json_t *v = json_object_get(c, defs[i].key);
                if (v && def && json_equal(v, def))
                        json_object_del(c, defs[i].key);
                json_decref(def);
        }
        /* portIndex 0 is what Marathon assumes when no port is given. */
        json_t *idx = json_object_get(c, "portIndex");
        if (health && idx && json_is_integer(idx) && json_integer_value(idx) == 0 && !json_object_get(c, "port"))
                json_object_del(c, "portIndex");
        return c;
}

static bool same_checks(json_t *have, json_t *want, const struct field_default *defs, size_t n, bool health)
{
        bool same = true;

        if (json_array_size(have) != json_array_size(want))
                return false;
        for (size_t i = 0; same && i < json_array_size(want); i++) {
                json_t *a = canonical(json_array_get(have, i), defs, n, health);
                json_t *b = canonical(json_array_get(want, i), defs, n, health);
                same = a && b && json_equal(a, b);
                json_decref(a);
                json_decref(b);
        }
        return same;
}

static int fail(char *err, size_t errlen, int code, const char *what)
{
        snprintf(err, errlen, "Marathon's app definition: %s", what);
        return code;
}

/* Absent, null or an array of objects. */
static bool array_of_objects(json_t *v)
{
        size_t i;
        json_t *e;

        if (!v || json_is_null(v))
                return true;
        if (!json_is_array(v))
                return false;
        json_array_foreach(v, i, e)
                if (!json_is_object(e))
                        return false;
        return true;
}

/* The index of the port named health in the app's ports: portMappings
 * when there are any, else portDefinitions. Returns it, -ENOENT, or -EPROTO. */
static long health_port_index(json_t *app)
{
        json_t *container = json_object_get(app, "container"), *ports = NULL, *p;
        size_t i;

        if (container && !json_is_null(container) && !json_is_object(container))
                return -EPROTO;
        if (container)
                ports = json_object_get(container, "portMappings");
        if (!array_of_objects(ports))
                return -EPROTO;
        if (json_array_size(ports) == 0)
                ports = json_object_get(app, "portDefinitions");
        if (!array_of_objects(ports))
                return -EPROTO;
        json_array_foreach(ports, i, p) {
                json_t *name = json_object_get(p, "name");
                if (name && !json_is_null(name) && !json_is_string(name))
                        return -EPROTO;
                if (name && json_is_string(name) && strcmp(json_string_value(name), APPCHECKS_PORT_NAME) == 0)
                        return (long)i;
        }
        return -ENOENT;
}

static json_t *want_health(const struct appchecks_want *w, long index)
{
        json_t *c = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "protocol",
                              w->protocol == APPCHECKS_MESOS_HTTP ? "MESOS_HTTP" : "HTTP", "path", "/health",
                              "gracePeriodSeconds", (json_int_t)w->grace_s, "intervalSeconds", (json_int_t)w->interval_s,
                              "timeoutSeconds", (json_int_t)w->timeout_s, "maxConsecutiveFailures", (json_int_t)w->failures);

        /* Without a named port only a check inside the container can find us. */
        if (c && json_object_set_new(c, index >= 0 ? "portIndex" : "port",
                                     json_integer(index >= 0 ? index : (json_int_t)w->health_port)) < 0) {
                json_decref(c);
                return NULL;
        }
        return c;
}

static json_t *want_ready(const struct appchecks_want *w)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:[i], s:b}", "name", "readinessCheck", "protocol", "HTTP",
                         "path", "/ready", "portName", APPCHECKS_PORT_NAME, "intervalSeconds",
                         (json_int_t)w->ready_interval_s, "timeoutSeconds", (json_int_t)w->ready_timeout_s,
                         "httpStatusCodesForReady", 200, "preserveLastResponse", 0);
}

static int plan_app(json_t *app, const struct appchecks_want *want, struct appchecks_plan *ret, char *err, size_t errlen)
{
        json_t *have_h = json_object_get(app, "healthChecks"), *have_r = json_object_get(app, "readinessChecks");
        json_t *deps = json_object_get(app, "deployments"), *body = NULL, *h = NULL, *r = NULL;
        long index = health_port_index(app);
        int rc = -ENOMEM;

        if (index == -EPROTO)
                return fail(err, errlen, -EPROTO, "container.portMappings or portDefinitions is not an array of ports with string names");
        if (!array_of_objects(have_h) || !array_of_objects(have_r))
                return fail(err, errlen, -EPROTO, "healthChecks or readinessChecks is not an array of objects");
        if (deps && !json_is_array(deps) && !json_is_null(deps))
                return fail(err, errlen, -EPROTO, "deployments is not an array");
        if (index < 0 && want->protocol == APPCHECKS_HTTP)
                return fail(err, errlen, -ENOENT,
                            "no port named \"health\": expected a container.portMappings (or portDefinitions) entry named health for the HTTP check");
        ret->deployments = json_array_size(deps);
        ret->readiness = index >= 0;
        if (!(body = json_object()) || !(h = json_pack("[o]", want_health(want, index))) ||
            !(r = ret->readiness ? json_pack("[o]", want_ready(want)) : json_array()))
                goto out;
        if (!same_checks(have_h, h, health_defaults, N(health_defaults), true) && json_object_set(body, "healthChecks", h) < 0)
                goto out;
        if (!same_checks(have_r, r, ready_defaults, N(ready_defaults), false) && json_object_set(body, "readinessChecks", r) < 0)
                goto out;
        if (json_object_size(body) > 0 && !(ret->body = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS)))
                goto out;
        rc = 0;
out:
        json_decref(h);
        json_decref(r);
        json_decref(body);
        return rc;
}

int appchecks_plan(const char *text, size_t len, const struct appchecks_want *want, struct appchecks_plan *ret,
                   char *err, size_t errlen)
{
        json_error_t jerr;
        json_t *root, *app;
        int rc;

        *ret = (struct appchecks_plan){ 0 };
        if (len > APPCHECKS_MAX_TEXT)
                return fail(err, errlen, -EPROTO, "answer over 1 MiB");
        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root) {
                snprintf(err, errlen, "Marathon's app definition: invalid JSON at line %d: %.80s: expected {\"app\": {...}}",
                         jerr.line, jerr.text);
                return -EPROTO;
        }
        app = json_object_get(root, "app");
        if (!json_is_object(app))
                rc = fail(err, errlen, -EPROTO, "no \"app\" object: expected {\"app\": {...}}");
        else
                rc = plan_app(app, want, ret, err, errlen);
        json_decref(root);
        if (rc < 0)
                appchecks_plan_free(ret);
        return rc;
}

void appchecks_plan_free(struct appchecks_plan *p)
{
        free(p->body);
        p->body = NULL;
}

int appchecks_fill(json_t *app, const struct appchecks_want *want, char *err, size_t errlen)
{
        json_t *wrapped = json_pack("{s:O}", "app", app), *checks;
        char *text = wrapped ? json_dumps(wrapped, JSON_COMPACT) : NULL;
        struct appchecks_plan plan;
        int r = text ? appchecks_plan(text, strlen(text), want, &plan, err, errlen) : -ENOMEM;

        free(text);
        json_decref(wrapped);
        if (r < 0)
                return r;
        checks = plan.body ? json_loads(plan.body, 0, NULL) : NULL;
        if (checks)
                json_object_update(app, checks);
        json_decref(checks);
        appchecks_plan_free(&plan);
        return 0;
}

struct appchecks_want appchecks_want_of(const struct settings *set, uint16_t health_port)
{
        return (struct appchecks_want){ .protocol = set->check_protocol == CHECK_MESOS_HTTP ? APPCHECKS_MESOS_HTTP : APPCHECKS_HTTP,
                                        .grace_s = set->check_grace_s, .interval_s = set->check_interval_s,
                                        .timeout_s = set->check_timeout_s, .failures = set->check_failures,
                                        .ready_interval_s = set->ready_interval_s, .ready_timeout_s = set->ready_timeout_s,
                                        .health_port = health_port };
}
