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
 * JobManager says or does not say. The probe owns nothing of the child:
 * it learns the child's pid through a callback and starts over on a new pid. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/conf.h"
#include "integrations/http.h"
#include "config/role.h"
#include "core/timer.h"

struct zk;

enum probe_kind { PROBE_REST, PROBE_TASKMANAGER };

/* What to ask; derived from the effective configuration by probe_targets. */
struct probe_targets {
        enum probe_kind kind;
        char url[640];            /* the whole URL to GET */
        char resource_id[256];    /* PROBE_TASKMANAGER */
        char leader_path[640];    /* ZooKeeper HA, relative to the session's chroot; "" none */
        char rest_address[320];   /* "//host:port": how Flink publishes this REST endpoint */
        bool leadership_unknown;  /* HA in a ZooKeeper we have no session with */
};

struct probe_timing {
        long interval_ms, timeout_ms, grace_ms;
        long failures;
};

typedef int (*probe_pid_fn)(void *data);
typedef void (*probe_changed_fn)(void *data);

struct probe {
        struct probe_targets t;
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
        probe_pid_fn pid_fn;
        probe_changed_fn changed; /* readiness changed */
        void *data;
};

/* Pure: what a role with configuration c asks. url_setting
 * (SUPERVISOR_PROBE_URL, may be NULL) replaces the REST base URL; zk_hosts
 * and zk_chroot describe the ZooKeeper session the supervisor holds (NULL:
 * none). Returns 0, or -EINVAL with one line in err. */
int probe_targets(const struct conf *c, enum role role, const char *url_setting, const char *zk_hosts,
                  const char *zk_chroot, struct probe_targets *ret, char *err, size_t errlen);

int probe_open(struct probe *p, struct loop *l, struct http *http, struct zk *zk, const struct probe_timing *timing,
               probe_pid_fn pid_fn, probe_changed_fn changed, void *data);
/* New targets (after a configuration change); probing goes on. */
void probe_set_targets(struct probe *p, const struct probe_targets *t);
bool probe_alive(const struct probe *p, uint64_t now_ms);
bool probe_ready(const struct probe *p);
void probe_close(struct probe *p);
