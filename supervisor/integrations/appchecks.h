/* appchecks: the health and readiness checks the supervisor wants on its
 * Marathon app, and whether the app already has them. Pure: from the text
 * of Marathon's GET /v2/apps/{id} answer to the body of the partial update
 * to send, or none.
 *
 * The supervisor owns the app's healthChecks and readinessChecks arrays.
 * Checks are compared in a canonical form where every field that holds
 * Marathon's default is left out, so it makes no difference which defaults
 * a Marathon version fills in: a matching app is never written again (a
 * write makes Marathon replace every task). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Marathon's answers are bounded before they are parsed. */
#define APPCHECKS_MAX_TEXT (1u << 20)
#define APPCHECKS_PORT_NAME "health"

enum appchecks_protocol { APPCHECKS_HTTP, APPCHECKS_MESOS_HTTP };

struct appchecks_want {
        enum appchecks_protocol protocol;
        long grace_s, interval_s, timeout_s, failures;
        long ready_interval_s, ready_timeout_s;
        uint16_t health_port;     /* the container port we serve on */
};

struct appchecks_plan {
        char *body;               /* malloc'd JSON to PATCH; NULL: the app has our checks */
        size_t deployments;       /* deployments holding the app: wait before writing */
        bool readiness;           /* a readiness check is part of what we want */
};

/* What the settings (SUPERVISOR_CHECK_*, SUPERVISOR_READY_*) ask for,
 * with the health endpoint on health_port. */
struct settings;
struct appchecks_want appchecks_want_of(const struct settings *set, uint16_t health_port);

/* Reads the app from text (the whole {"app": {...}} answer) and plans the
 * write. Returns 0, -ENOMEM, or -EPROTO (malformed or wrongly typed) /
 * -ENOENT (no port to check) with one line in err. */
int appchecks_plan(const char *text, size_t len, const struct appchecks_want *want, struct appchecks_plan *ret,
                   char *err, size_t errlen);
void appchecks_plan_free(struct appchecks_plan *p);

/* Puts the checks registration would write on a definition of our own
 * making (a jansson object), so that registration finds them there and
 * never writes. Returns 0, -ENOMEM, or appchecks_plan's error. */
struct json_t;
int appchecks_fill(struct json_t *app, const struct appchecks_want *want, char *err, size_t errlen);
