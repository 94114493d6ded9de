/* report: the bodies of /health, /ready and /metrics, rendered from a
 * snapshot of the supervisor's state. Pure. Nothing in a snapshot is a
 * setting or a secret, so nothing of the configuration can leak here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/child.h"

struct report_child {
        const char *name;
        const char *state;      /* child_state_name() */
        int pid;                /* 0 when not running */
        uint64_t restarts;
        int last_code;          /* -1 before the first exit */
};

struct report_snapshot {
        bool healthy;
        bool ready;
        size_t n_children;
        struct report_child children[CHILD_MAX];
        uint64_t uptime_s;
        uint64_t orphans_reaped;
        bool zk_enabled;
        bool zk_connected;
        uint64_t config_rejections;
        uint64_t config_changes_applied;
        bool marathon_enabled;
        bool marathon_registered;   /* our checks are on the app */
        uint64_t marathon_writes;
        /* the Application Master (role appmaster with MARATHON_URL) */
        bool am_enabled;
        bool am_leader;
        bool am_blocked;            /* scale-up stopped for failed tasks */
        const char *am_reason;      /* the last decision's */
        long am_wanted, am_registered, am_pending, am_instances, am_failed;
        uint64_t am_scale_ups, am_scale_downs, am_writes, am_write_failures;
};

/* Return the length written (truncated to fit, NUL-terminated). */
size_t report_health_json(const struct report_snapshot *s, bool readiness, char *buf, size_t size);
size_t report_metrics(const struct report_snapshot *s, char *buf, size_t size);
