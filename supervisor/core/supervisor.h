/* supervisor: the PID-1 core. It owns the loop, the signal source, the
 * mailbox and the children, and executes the policy (policy.h) for them:
 * forwarding, stopping with a deadline, reaping, restarting with backoff,
 * giving up on a crash loop, and the exit status. It knows nothing of
 * Flink, settings or the integrations: what it tells the world goes
 * through the hooks, and the struct is opaque. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/child.h"
#include "core/loop.h"
#include "core/mailbox.h"
#include "core/policy.h"

struct sup;

struct sup_config {
        struct policy_config policy;
        unsigned max_restarts;        /* more within restart_window_ms: give up */
        uint64_t restart_window_ms;
        struct child_start start;       /* what children start with; borrowed */
};

/* What the supervisor tells its owner; every hook may be NULL. Each runs
 * on the loop thread. */
struct sup_hooks {
        /* A child changed state: one line, as for systemd's STATUS=. */
        void (*status)(const char *line, void *data);
        /* A child's exec was confirmed; all_running: every child now runs. */
        void (*running)(const char *line, bool all_running, void *data);
        /* The supervisor stops (once), or exits (line "exiting N"). */
        void (*stopping)(const char *line, void *data);
        /* Before every spawn of child i, restarts included; starts counts
         * its earlier processes. */
        void (*before_spawn)(size_t i, uint64_t starts, void *data);
        void *data;
};

/* What /health and /metrics show of a child. */
struct sup_child_view {
        const char *name;
        const char *state;
        pid_t pid;                    /* 0 unless running */
        uint64_t restarts;
        int last_code;                /* -1 before the first exit */
};

/* Sets up the loop, signals and mailbox; becomes a child subreaper unless
 * PID 1. Returns 0 or -errno, with *ret NULL on failure. */
int sup_new(struct sup **ret, const struct sup_config *cfg);
void sup_free(struct sup *s);
void sup_set_hooks(struct sup *s, const struct sup_hooks *hooks);
struct loop *sup_loop(struct sup *s);
struct mailbox *sup_mailbox(struct sup *s);

/* Adds a child to start by sup_run; name, argv, envp and creds are
 * borrowed (creds NULL: the child runs as the supervisor's user). At most
 * CHILD_MAX children: -ENOSPC. */
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
/* Ends the supervisor with code: stops whatever runs, as for SIGTERM. */
void sup_finish(struct sup *s, int code);

bool sup_started(const struct sup *s);
bool sup_stopping(const struct sup *s);
/* Child i's pid while it runs, else 0. */
pid_t sup_running_pid(const struct sup *s, size_t i);
/* Up to max children into out; returns how many there are. */
size_t sup_children(const struct sup *s, struct sup_child_view *out, size_t max);
uint64_t sup_orphans_reaped(const struct sup *s);
uint64_t sup_uptime_s(const struct sup *s);
