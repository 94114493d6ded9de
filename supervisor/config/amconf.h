/* amconf: what the Application Master (role appmaster) allocates, read
 * from the effective Flink configuration and the supervisor's settings.
 * Pure: it validates and derives, it asks nobody.
 *
 * The keys are the seed's (Flink 1.2-1.13's Mesos ResourceManager): they
 * mean what they meant there, in every layer (-D, FLINK_PROPERTIES,
 * ZooKeeper documents). What the seed did not have are SUPERVISOR_*
 * settings. */
#pragma once

#include <stddef.h>

#include "config/conf.h"
#include "config/settings.h"

#define AMCONF_MAX_CONSTRAINTS 16
/* The TaskManager app's id when MARATHON_APP_ID is /a/b: /a/b-taskmanagers. */
#define AMCONF_TM_APP_SUFFIX "-taskmanagers"

struct amconf_constraint {
        char field[64];
        char value[128];
};

struct amconf {
        long initial_tasks;           /* mesos.initial-tasks: instances at creation, and the floor */
        long max_tasks;               /* SUPERVISOR_TM_MAX, lowered by slotmanager.number-of-slots.max */
        long max_failed;              /* mesos.maximum-failed-tasks; -1 in Flink meant initial-tasks */
        double cpus;                  /* mesos.resourcemanager.tasks.cpus; 0: one per slot */
        long mem_mb;                  /* mesos.resourcemanager.tasks.mem, else process size + headroom */
        long slots;                   /* a TaskManager's, as its supervisor derives it */
        char image[512];              /* mesos.resourcemanager.tasks.container.image.name; "": our own */
        struct amconf_constraint constraints[AMCONF_MAX_CONSTRAINTS];
        size_t n_constraints;         /* mesos.constraints.hard.hostattribute */
        long idle_timeout_ms;         /* resourcemanager.taskmanager-timeout */
        long registration_timeout_ms; /* SUPERVISOR_TM_REGISTRATION_TIMEOUT */
        long interval_ms;             /* SUPERVISOR_AM_INTERVAL */
        char tm_app_id[600];          /* "": no MARATHON_APP_ID to derive it from */
        char job_group[600];          /* SUPERVISOR_JOB_GROUP: removed once the jobs ended; "": none */
        long job_linger_ms;           /* SUPERVISOR_JOB_LINGER */
};

/* Reads *ret from c and set; app_id is MARATHON_APP_ID (may be NULL).
 * Returns 0, or -EINVAL with one line in err naming the key and what was
 * expected. SUPERVISOR_JOB_GROUP must hold app_id: an appmaster removes
 * no group but its own. */
int amconf_load(struct amconf *ret, const struct conf *c, const struct settings *set, const char *app_id, char *err,
                size_t errlen);

/* Flink's duration syntax (TimeUtils): "30000" (ms), "30 s", "1min", ...
 * Returns 0 or -EINVAL. */
int amconf_parse_duration_ms(const char *s, long *ret);
/* Flink's memory size syntax (MemorySize): "1728m", "1 gb", "512mb",
 * bytes without a unit. In whole megabytes, rounded down. Returns 0 or -EINVAL. */
int amconf_parse_memory_mb(const char *s, long *ret);
