/* jobgroup: a job cluster's Marathon group and what Marathon and Flink say
 * about it. Pure: from the command line to the body of POST /v2/groups,
 * and from Marathon's and Flink's answers to what the client follows.
 *
 * The group holds one app, <group>/jobmanager: an appmaster in
 * application mode (its TaskManager app, <group>/jobmanager-taskmanagers,
 * it creates itself), on host networking with the named ports rest, rpc,
 * blob, health and metrics, the checks registration writes (so it never
 * writes them again: a write would restart the JobManager), the label
 * JOBGROUP_LABEL, and SUPERVISOR_JOB_GROUP so that it removes the group
 * once its job ended. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config/jobcli.h"
#include "integrations/appchecks.h"

#define JOBGROUP_LABEL "FLINK_APPLIANCE_JOB_CLUSTER"
#define JOBGROUP_JM "/jobmanager"
#define JOBGROUP_MAX_MESSAGE 512

struct jobgroup_input {
        const struct jobcli *cli;
        const char *marathon_url;     /* what the appmaster reaches Marathon at */
        struct appchecks_want want;
        long stop_timeout_s;
};

/* The body of POST /v2/groups (malloc'd JSON). Returns 0, -ENOMEM, or
 * -EINVAL with one line in err. */
int jobgroup_build(const struct jobgroup_input *in, char **body, char *err, size_t errlen);

/* The JobManager app as GET /v2/apps/<group>/jobmanager shows it. */
struct jobgroup_jm {
        bool running;                 /* a task is TASK_RUNNING with its ports */
        char host[256];
        long rest_port;
        long failures;                /* a lastTaskFailure of the app's current version */
        char failure[JOBGROUP_MAX_MESSAGE]; /* its message */
        size_t deployments;
};

/* Returns 0 or -EPROTO. */
int jobgroup_read_jm(const char *text, size_t len, struct jobgroup_jm *ret);

/* The job of an application cluster, from GET /jobs/overview. */
struct jobgroup_job {
        bool present;
        char id[40];
        char state[24];               /* Flink's JobStatus */
};

/* Returns 0 or -EPROTO. The newest job counts when there are several. */
int jobgroup_read_job(const char *text, size_t len, struct jobgroup_job *ret);
/* FINISHED, FAILED, CANCELED: the job will not run again. */
bool jobgroup_job_ended(const char *state);
/* GET /jobs/:id/exceptions: the first line of the root exception and,
 * when it has causes, "; caused by: " and the first line of the deepest. */
void jobgroup_read_exception(const char *text, size_t len, char *out, size_t size);
/* A Flink REST error answer ({"errors": [...]}): the first line of its
 * cause, into out. */
void jobgroup_read_flink_error(const char *text, size_t len, char *out, size_t size);
/* POST /jobs/:id/stop: the trigger id. Returns 0 or -EPROTO. */
int jobgroup_read_trigger(const char *text, size_t len, char *out, size_t size);
/* GET /jobs/:id/savepoints/:trigger: 0 and *done false while it runs;
 * done with the location in out, or with failed and the reason in out.
 * Returns 0 or -EPROTO. */
int jobgroup_read_savepoint(const char *text, size_t len, bool *done, bool *failed, char *out, size_t size);
/* One job cluster in GET /v2/apps?label=JOBGROUP_LABEL&embed=apps.tasks. */
struct jobgroup_listed {
        char group[512];
        struct jobgroup_jm jm;
};

/* At most max into out, *n of them. Returns 0 or -EPROTO. */
int jobgroup_read_list(const char *text, size_t len, struct jobgroup_listed *out, size_t max, size_t *n);
