/* service: the supervisor as its users see it, in every mode: the PID-1
 * core with the integrations around it: the health endpoint, the HTTP
 * client, the checks on our Marathon app and systemd's notifications. The
 * core tells the service through its hooks; the service tells the world. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config/settings.h"
#include "core/supervisor.h"
#include "integrations/health.h"
#include "integrations/http.h"
#include "integrations/marathon.h"
#include "integrations/notify.h"

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
        bool ready_by_owner;          /* readiness is the owner's, not "every child runs" */
        /* Before every spawn of child i (restarts included); may be NULL. */
        void (*before_spawn)(size_t i, uint64_t starts, void *data);
        void *before_spawn_data;
};

/* The supervisor with set's policy; fds are what children keep open.
 * Returns 0 or -errno; service_close is safe after a failure. */
int service_open(struct service *svc, const struct settings *set, const struct child_fds *fds);
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
/* Says whether the service is ready, with a one-line status for systemd:
 * READY=1 goes out when ready first becomes true, STATUS= on every change. */
void service_set_ready(struct service *svc, bool ready, const char *status);
void service_close(struct service *svc);
