/* probe: asks Flink whether the role is alive and ready, on the loop.
 *
 * JobManager roles (and the history server): GET <rest>/config on this
 * container's REST port. Any HTTP answer shows the JVM serves; 200 and,
 * under ZooKeeper HA, the leader's REST address in ZooKeeper being ours,
 * make it ready. TaskManager: GET <JobManager rest>/taskmanagers, ready
 * once our resource id is listed.
 *
 * Liveness is conservative, for it is what Marathon kills on: within the
 * grace after a (re)start nothing counts against it, later only a
 * JobManager whose REST has not answered at all for `failures` probes in a
 * row is unhealthy. A TaskManager is never unhealthy for what the
 * JobManager says or does not say. Under ZooKeeper HA a TaskManager asks
 * the leading JobManager, whose REST address it reads from Flink's leader
 * node each time. The probe owns nothing of the child:
 * it learns the child's pid through a callback and starts over on a new pid. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/timer.h"
#include "flink/probetarget.h"
#include "integrations/http.h"

struct zk;

struct probe_timing {
        long interval_ms, timeout_ms, grace_ms;
        long failures;
};

typedef int (*probe_pid_fn)(void *data);
typedef void (*probe_changed_fn)(void *data);

struct probe {
        struct probe_targets t;
        char url[640];            /* what is asked now: t.url, or the leader's */
        struct probe_timing timing;
        struct http *http;
        struct zk *zk;            /* NULL: no session to read leadership from */
        struct timer timer;
        struct loop *loop;
        struct http_call *call;
        bool zk_busy;             /* a leader read is in flight */
        bool closed;
        int pid;                  /* the child we probe; 0: none runs */
        uint64_t since_ms;        /* when that child started */
        long failed;              /* REST probes in a row without any answer */
        bool answered;            /* the last probe got 200 (JobManager) or the list (TaskManager) */
        bool leads;
        bool ready;
        bool told_unreachable;    /* said once per streak of probes without an answer */
        bool told_no_leader;
        probe_pid_fn pid_fn;
        probe_changed_fn changed; /* readiness changed */
        void *data;
};

int probe_open(struct probe *p, struct loop *l, struct http *http, struct zk *zk, const struct probe_timing *timing,
               probe_pid_fn pid_fn, probe_changed_fn changed, void *data);
/* New targets (after a configuration change); probing goes on. */
void probe_set_targets(struct probe *p, const struct probe_targets *t);
bool probe_alive(const struct probe *p, uint64_t now_ms);
bool probe_ready(const struct probe *p);
void probe_close(struct probe *p);
