/* tmapp: the TaskManager app an appmaster owns on Marathon. Pure: builds
 * its definition from the appmaster's own (Marathon's GET answer), and
 * reads Marathon's answers about it into the planner's observation.
 *
 * The definition is the appmaster's own with the role taskmanager: the
 * same image, networking, environment (less what only the appmaster
 * uses) and -D arguments (less the JobManager's and the mesos.* ones),
 * named ports rpc, data, health and metrics, the checks registration
 * writes, resources and constraints from amconf, an owner label. */
#pragma once

#include <stddef.h>

#include "config/amconf.h"
#include "flink/amplan.h"
#include "integrations/appchecks.h"

#define TMAPP_OWNER_LABEL "FLINK_APPLIANCE_OWNER"

struct tmapp_input {
        const char *own_text;         /* GET /v2/apps/<own id>: {"app": {...}} */
        size_t own_len;
        const char *own_app_id;
        const struct amconf *am;
        const char *image_env;        /* MARATHON_APP_DOCKER_IMAGE, or NULL */
        long instances;
        char *const *extra_args;      /* "-Dkey=value" the TaskManagers need besides */
        size_t n_extra;
        struct appchecks_want want;
        long stop_timeout_s;
};

/* The body of POST /v2/apps (malloc'd JSON). Returns 0, -ENOMEM, or
 * -EPROTO / -ENOENT (no image to run) with one line in err. */
int tmapp_build(const struct tmapp_input *in, char **body, char *err, size_t errlen);

/* Marathon's GET /v2/apps/<tm app> answer into o (app_exists, instances,
 * deployments, tasks, last_failure). Returns 0 or -EPROTO with one line in err. */
int tmapp_read(const char *text, size_t len, struct amplan_obs *o, char *err, size_t errlen);

/* The fields in which an adopted app (its GET answer) differs from
 * want (tmapp_build's body), comma separated into out ("" when none).
 * Only instances is ever written to an adopted app: this is for the log. */
void tmapp_differences(const char *have_text, size_t have_len, const char *want_body, char *out, size_t size);
