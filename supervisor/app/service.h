/* service: the supervisor as its users see it, in every mode: the PID-1
 * core with the integrations around it: the health endpoint, the HTTP
 * client, Flink's probe, the checks on our Marathon app and systemd's
 * notifications. The core tells the service through its hooks; the service
 * tells the world. Readiness and health are decided here, in one place:
 * every child runs and, for a role, the probe says Flink is alive and ready. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config/settings.h"
#include "core/supervisor.h"
#include "integrations/health.h"
#include "integrations/http.h"
#include "integrations/marathon.h"
#include "integrations/notify.h"
#include "integrations/probe.h"

struct service {
        const struct settings *set;
        struct sup *sup;
        struct health health;
        bool health_on;
        health_snapshot_fn extra;     /* adds what the owner knows (ZooKeeper, the probe) */
        void *extra_data;
        struct http http;             /* opened by the first service_http */
        bool http_on, http_tried;
        struct marathon marathon;
        bool marathon_on;
        struct notify notify;
        struct probe probe;
        bool probing;                 /* readiness is Flink's, not just "every child runs" */
        /* Before every spawn of child i (restarts included); may be NULL. */
        void (*before_spawn)(size_t i, uint64_t starts, void *data);
        void *before_spawn_data;
};

/* The supervisor with set's policy; start is what children start with
 * (descriptors, directory). Returns 0 or -errno; service_close is safe after a failure. */
int service_open(struct service *svc, const struct settings *set, const struct child_start *start);
/* Serves /health, /ready and /metrics on port (0: off); extra (may be
 * NULL) adds to each snapshot. A port that cannot be bound is logged and
 * skipped: the children run regardless. */
void service_serve_health(struct service *svc, uint16_t port, health_snapshot_fn extra, void *data);
/* The loop's HTTP client, opened on first use; NULL when libcurl is missing. */
struct http *service_http(struct service *svc);
/* Registers the health checks on MARATHON_APP_ID when MARATHON_URL is set
 * (after service_serve_health: the checks point at its port). Never fails
 * the supervisor: what goes wrong is logged. */
void service_register(struct service *svc);
/* The checks registration writes, and the appmaster puts on its TaskManager app. */
struct appchecks_want service_checks_want(const struct service *svc);
/* Probes Flink in the first child (its JVM) with timing; zk (may be NULL)
 * is the session that leadership is read from. Without libcurl readiness
 * stays "every child runs", and that is logged. Returns 0 or -errno. */
int service_probe(struct service *svc, const struct probe_timing *timing, struct zk *zk);
/* What the probe asks from now on (a configuration was applied). */
void service_probe_targets(struct service *svc, const struct probe_targets *t);
/* Ends the probe before what it reads from (the ZooKeeper session) goes;
 * service_close does it too. */
void service_close_probe(struct service *svc);
void service_close(struct service *svc);
