/* health: the HTTP endpoint (/health, /ready, /metrics) that Docker's
 * HEALTHCHECK and Marathon's health checks ask. libmicrohttpd runs in its
 * external-epoll mode: its epoll fd sits in our loop and a timer serves its
 * connection timeouts, so it has no thread of its own and an idle
 * supervisor has no wakeups. Connections, request sizes and idle time are
 * bounded; it serves nothing but the three paths. The library is loaded
 * by health_open, so a supervisor without the endpoint never maps it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/timer.h"
#include "integrations/report.h"

#define HEALTH_DEFAULT_PORT 8558
#define HEALTH_MAX_CONNECTIONS 128
#define HEALTH_IDLE_TIMEOUT_S 5

struct MHD_Daemon;
struct mhd_api;

typedef void (*health_snapshot_fn)(struct report_snapshot *out, void *data);

struct health {
        struct mhd_api *mhd;      /* the library, loaded by health_open */
        struct MHD_Daemon *daemon;
        struct loop *loop;
        struct loop_source src;   /* libmicrohttpd's epoll fd: it owns it */
        struct timer timer;
        health_snapshot_fn snapshot;
        void *data;
        uint16_t port;
        bool full;                /* the connection limit was reached */
};

/* The port: SUPERVISOR_HEALTH_PORT (0 disables), else the Marathon port
 * named health (its container port in BRIDGE networking), else 8558.
 * Returns 0, or -EINVAL with one line in err. */
int health_port(const char *setting, char *const *envp, const char *hostname, uint16_t *ret, char *err, size_t errlen);

/* Starts serving on port (all interfaces). Returns 0 or -errno. */
int health_open(struct health *h, struct loop *l, uint16_t port, health_snapshot_fn snapshot, void *data);
void health_close(struct health *h);

/* --probe: GET /health on 127.0.0.1:port. Returns 0 when it answered 200,
 * 1 otherwise (refused, timed out, unhealthy). */
int health_probe(uint16_t port);
