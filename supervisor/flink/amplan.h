/* amplan: the Application Master's decisions. Pure: from what Flink and
 * Marathon were last seen to say, the settings and the clock, to at most
 * one action (create the TaskManager app, set its instances, kill one task
 * with scale=true, remove a job cluster's group) or a wait, always with the
 * reason and the numbers it was made from. Nothing else decides; the executor (app/appmaster.c)
 * performs the action and brings the answer back as the next observation.
 *
 * Capacity is counted in Marathon's instances, not in registered
 * TaskManagers: tasks still starting are capacity already asked for, so a
 * need is written once. The planner's memory (how long each TaskManager
 * has been idle, the failures since one last registered) is kept in a
 * struct the caller owns and passes back each step. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/amconf.h"

#define AMPLAN_MAX_TMS 256
#define AMPLAN_ID_MAX 256

struct amplan_tm {                    /* a TaskManager registered with Flink */
        char id[AMPLAN_ID_MAX];       /* its resource id: the Marathon task id */
        long slots, free;
};

struct amplan_task {                  /* a live task of the TaskManager app */
        char id[AMPLAN_ID_MAX];
};

struct amplan_obs {
        bool leader;                  /* this JobManager leads (only a leader writes) */
        bool flink;                   /* Flink's view below is from this round */
        long slots_needed;            /* by the jobs that run or wait to */
        size_t n_tms;
        struct amplan_tm tms[AMPLAN_MAX_TMS];
        bool marathon;                /* Marathon's view below is from this round */
        bool app_exists;
        long instances;
        size_t deployments;           /* deployments holding the app */
        size_t n_tasks;
        struct amplan_task tasks[AMPLAN_MAX_TMS];
        char last_failure[AMPLAN_ID_MAX]; /* lastTaskFailure's task id; "" none */
        bool jobs_ended;              /* Flink has jobs, every one globally terminal */
        uint64_t now_ms;
};

struct amplan_seen {
        char id[AMPLAN_ID_MAX];
        uint64_t since_ms;
};

struct amplan_memory {
        struct amplan_seen idle[AMPLAN_MAX_TMS];   /* TaskManagers with every slot free, since */
        size_t n_idle;
        struct amplan_seen tasks[AMPLAN_MAX_TMS];  /* tasks not registered yet, first seen at */
        size_t n_tasks;
        struct amplan_seen registered[AMPLAN_MAX_TMS];
        size_t n_registered;
        char last_failure[AMPLAN_ID_MAX];          /* the last lastTaskFailure counted */
        long failed;                               /* task failures since a TaskManager last registered */
        bool marathon_seen;                        /* later failures are ours to count */
        uint64_t ended_since_ms;                   /* the jobs were first seen ended; 0: not */
};

/* REMOVE: a job cluster's jobs ended (FINISHED, FAILED or CANCELED, not a
 * failover's SUSPENDED) SUPERVISOR_JOB_LINGER ago: its group goes, so
 * Marathon never runs the job again. */
enum amplan_kind { AMPLAN_WAIT, AMPLAN_CREATE, AMPLAN_SCALE, AMPLAN_KILL, AMPLAN_REMOVE };

struct amplan_action {
        enum amplan_kind kind;
        long instances;               /* CREATE, SCALE: the new count */
        char task[AMPLAN_ID_MAX];     /* KILL */
        const char *reason;           /* a static phrase */
        bool blocked;                 /* scale-up stopped for failed tasks */
        /* What the decision was made from. */
        long wanted, registered, pending, slots_needed, slots_free, failed;
};

void amplan_init(struct amplan_memory *m);
/* One decision. m is updated with what o shows. */
void amplan_step(const struct amconf *cfg, const struct amplan_obs *o, struct amplan_memory *m, struct amplan_action *ret);
const char *amplan_kind_name(enum amplan_kind kind);
