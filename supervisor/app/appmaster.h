/* appmaster: the Application Master's executor. Every interval it
 * observes (Flink's REST: TaskManagers, jobs and their needs; Marathon:
 * the TaskManager app and its tasks), asks the planner (flink/amplan) for
 * one decision and performs it, one request at a time on the loop: at
 * most one write is ever in flight, and only while this JobManager leads.
 * What Marathon answers is the next round's observation; nothing of the
 * TaskManagers is stored anywhere but in Marathon and Flink. Failures of
 * either are logged and the round is retried with backoff: the running
 * cluster is never touched for them. A job cluster's appmaster
 * (SUPERVISOR_JOB_GROUP) removes its group once its jobs ended. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config/amconf.h"
#include "core/timer.h"
#include "flink/amplan.h"
#include "flink/flinkrest.h"
#include "integrations/http.h"
#include "integrations/marathon.h"
#include "integrations/report.h"

#define APPMASTER_MAX_EXTRA 4

typedef bool (*appmaster_leader_fn)(void *data);

struct appmaster_config {
        const struct amconf *am;
        struct marathon_config marathon;  /* url, own app id, credentials, checks */
        const char *rest_base;            /* "http://127.0.0.1:<rest port>" */
        const char *image_env;            /* MARATHON_APP_DOCKER_IMAGE, or NULL */
        char *const *extra_args;          /* "-Dkey=value" the TaskManagers need besides */
        size_t n_extra;
        long stop_timeout_s;
};

enum appmaster_phase { AM_IDLE, AM_TMS, AM_JOBS, AM_REQUIREMENTS, AM_DETAIL, AM_APP, AM_OWN, AM_WRITE };

struct appmaster {
        struct http *http;
        struct loop *loop;
        struct timer timer;
        struct http_call *call;
        struct amconf am;
        struct marathon_auth auth;
        char apps_url[600];               /* <MARATHON_URL>/v2/apps */
        char groups_url[600];             /* <MARATHON_URL>/v2/groups */
        char own_url[1200], tm_url[1200];
        char own_app_id[520];
        char rest[620];
        char image_env[512];
        char *extra[APPMASTER_MAX_EXTRA];
        size_t n_extra;
        struct appchecks_want want;
        long stop_timeout_s;
        appmaster_leader_fn leader;
        void *data;
        /* this round */
        enum appmaster_phase phase;
        struct amplan_obs *obs;
        struct amplan_memory *mem;
        char jobs[FLINKREST_MAX_JOBS][FLINKREST_JOB_ID];
        size_t n_jobs, job;
        long need;
        bool adopting;                    /* the own app is read to compare */
        bool compared;                    /* an adopted app was compared once */
        bool use_put;                     /* this Marathon has no PATCH */
        char *body;
        struct amplan_action act;
        unsigned failures;
        uint64_t rng;
        /* what was last said, not to say it every round */
        const char *said;
        long said_wanted, said_instances, said_registered;
        bool said_blocked;
        /* for /health and /metrics */
        struct amplan_action last;
        long instances;
        bool leading;
        uint64_t writes, scale_ups, scale_downs, creates, write_failures;
};

/* Starts the rounds. leader tells whether this JobManager leads. Returns 0 or -errno. */
int appmaster_open(struct appmaster *a, struct loop *l, struct http *http, const struct appmaster_config *cfg,
                   appmaster_leader_fn leader, void *data);
/* Adds what the appmaster knows to a health/metrics snapshot. */
void appmaster_report(const struct appmaster *a, struct report_snapshot *out);
void appmaster_close(struct appmaster *a);
