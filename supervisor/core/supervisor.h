/* supervisor: the context that owns the loop, the signal source, the
 * mailbox and the child table, and the policy that drives the children:
 * forwarding, stopping with a deadline, reaping, restarting with backoff,
 * giving up on a crash loop, and the exit status. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/child.h"
#include "integrations/health.h"
#include "integrations/http.h"
#include "core/loop.h"
#include "core/mailbox.h"
#include "integrations/marathon.h"
#include "integrations/notify.h"
#include "config/settings.h"
#include "core/sig.h"

#define SUP_MAX_CHILDREN 2

/* Exit codes of the supervisor itself (the child's own code otherwise). */
enum {
        EXIT_USAGE = 2,              /* bad command line or setting */
        EXIT_GAVE_UP = 111,          /* crash loop: let the scheduler move the task */
        EXIT_SUPERVISOR_FAILED = 125,/* the supervisor could not set itself up */
        /* 126 and 127: CHILD_EXIT_NOT_EXECUTABLE and CHILD_EXIT_NOT_FOUND (child.h) */
};

struct sup {
        struct settings set;
        struct loop loop;
        struct loop_source signals;
        struct mailbox mailbox;
        struct sig_saved saved;
        struct child children[SUP_MAX_CHILDREN];
        size_t n_children;
        bool stopping;
        int exit_code;          /* -1 until the first child ends for good */
        uint64_t rng;
        bool pid1;
        bool started;           /* the children were started */
        size_t rolling;         /* child being restarted in a rolling restart; SIZE_MAX: none */
        bool roll_again;        /* a rolling restart was asked for during one */
        uint64_t orphans_reaped;
        uint64_t started_ms;
        struct health health;
        bool health_on;
        health_snapshot_fn snapshot_extra;  /* adds what the owner knows (ZooKeeper) */
        void *snapshot_data;
        struct notify notify;   /* systemd's READY=1, STATUS=, WATCHDOG=1, STOPPING=1 */
        bool ready_by_owner;    /* readiness comes from the owner's probe, not from "every child runs" */
        struct http http;       /* opened by the first sup_http */
        bool http_on, http_tried;
        struct marathon marathon;
        bool marathon_on;
        /* Called before every spawn of a child, restarts included. */
        void (*before_spawn)(struct sup *s, struct child *c, void *data);
        void *before_spawn_data;
};

/* Sets up the loop, signals and mailbox; becomes a child subreaper unless
 * PID 1. Returns 0 or -errno; sup_close is safe after a failure. */
int sup_init(struct sup *s, const struct settings *set);
/* Adds a child to start by sup_run; argv, envp and creds are borrowed
 * (creds NULL: the child runs as the supervisor's user). */
int sup_add_child(struct sup *s, const char *name, char *const *argv, char *const *envp,
                  const struct child_creds *creds);
/* Runs the loop until every child has ended for good; returns the exit
 * code. With start false the children wait for sup_start (their config may
 * still be coming); the loop already serves signals meanwhile. */
int sup_run(struct sup *s, bool start);
void sup_start(struct sup *s);
/* Restarts the children one after the other, each stopped gracefully and
 * started again at once, the next one once the previous runs. Restarts
 * like these count neither as crashes nor for the backoff. */
void sup_rolling_restart(struct sup *s);
/* Serves /health, /ready and /metrics on port; extra (may be NULL) adds to
 * each snapshot. A port that cannot be bound is logged and skipped: the
 * children run regardless. */
void sup_serve_health(struct sup *s, uint16_t port, health_snapshot_fn extra, void *data);
/* The supervisor's part of a snapshot: healthy and ready while every child
 * runs. */
void sup_snapshot(struct sup *s, struct report_snapshot *out);

/* Says whether the service is ready, with a one-line status for systemd:
 * READY=1 goes out when ready first becomes true, STATUS= on every change.
 * The supervisor calls it itself once every child runs. */
void sup_set_ready(struct sup *s, bool ready, const char *status);

/* The loop's HTTP client, opened on first use; NULL when libcurl is missing. */
struct http *sup_http(struct sup *s);
/* Registers the health checks on MARATHON_APP_ID when MARATHON_URL is set
 * (after sup_serve_health: the checks point at its port). Never fails the
 * supervisor: what goes wrong is logged. */
void sup_register(struct sup *s);

/* Ends the supervisor with code: stops whatever runs, as for SIGTERM. */
void sup_finish(struct sup *s, int code);
void sup_close(struct sup *s);
