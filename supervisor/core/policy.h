/* policy: the supervision policy as one pure step function.
 *
 *   idle -> starting -> running -> stopping -> [draining] -> exited
 *                                                  |------> backoff -> starting
 *                                                  '------> given-up
 *
 * A process that exited may leave others behind in its process group:
 * the group is drained first (SIGTERM, SIGKILL after the stop timeout)
 * and only then is it decided what comes next.
 *
 * policy_step takes a child's state and one event and returns the next
 * state with the actions that go with it (signal the group, arm the timer,
 * spawn, end for good). It does no I/O and reads no clock: the supervisor
 * gathers the facts an event needs (how long the child ran, whether one more
 * restart trips the crash-loop limit, a random number for jitter), executes
 * the actions, and nothing else decides. An event that cannot happen in a
 * state is refused, so what each state allows is what the tests read. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum restart_policy { RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_NEVER };

enum child_state {
        CHILD_IDLE,
        CHILD_STARTING, /* forked; exec not yet confirmed */
        CHILD_RUNNING,
        CHILD_STOPPING, /* signalled to stop; the deadline timer runs */
        CHILD_EXITED,
        CHILD_BACKOFF,  /* waiting to restart; the backoff timer runs */
        CHILD_GIVEN_UP,
        CHILD_DRAINING, /* exited; what it left in its group is being stopped */
        CHILD_STATE_COUNT,
};

enum child_event {
        CHILD_EV_START,   /* the supervisor starts its children */
        CHILD_EV_EXEC_OK, /* exec succeeded */
        CHILD_EV_EXIT,    /* the process was reaped, or could not be forked */
        CHILD_EV_STOP,    /* stop with a signal */
        CHILD_EV_ROLL,    /* stop gracefully and start again at once */
        CHILD_EV_TIMER,   /* the child's timer fired: backoff over, or the stop deadline */
        CHILD_EV_DRAINED, /* nothing is left of the exited child's process group */
        CHILD_EVENT_COUNT,
};

/* Actions, executed in this order. */
enum {
        POLICY_DISARM = 1u << 0,      /* disarm the child's timer */
        POLICY_SIGNAL = 1u << 1,      /* send signo to the child's process group */
        POLICY_ARM = 1u << 2,         /* arm the child's timer for timer_ms */
        POLICY_SPAWN = 1u << 3,       /* fork and exec the child */
        POLICY_RECORD_CRASH = 1u << 4,/* record a restart in the crash-loop window */
        POLICY_RUNNING = 1u << 5,     /* the child now runs: announce it */
        POLICY_FINAL = 1u << 6,       /* the child has ended for good with final_code */
};

/* Why a step was taken, for the one log line the executor writes. */
enum policy_note {
        POLICY_NOTE_NONE,
        POLICY_NOTE_NEVER_STARTED,    /* stopped before it ever ran */
        POLICY_NOTE_STOPPED_IN_BACKOFF,
        POLICY_NOTE_STOP_TIMEOUT,     /* the deadline passed: SIGKILL */
        POLICY_NOTE_RESTART,          /* a crash: restarting after timer_ms */
        POLICY_NOTE_ROLL_RESTART,     /* stopped for a rolling restart: starting again */
        POLICY_NOTE_GAVE_UP,          /* a crash loop */
        POLICY_NOTE_ENDED,            /* exited, and no restart is wanted */
        POLICY_NOTE_DRAINING,         /* exited with others left in its group */
};

struct policy_config {
        enum restart_policy restart;
        uint64_t stop_timeout_ms;
        uint64_t backoff_min_ms, backoff_max_ms;
        uint64_t backoff_reset_ms;    /* a run this long resets the backoff */
        int gave_up_code;             /* the final code of a child that gave up */
};

/* What the policy keeps of a child. */
struct policy_child {
        enum child_state state;
        unsigned attempt;             /* backoff attempt since the last stable run */
        bool restart_now;             /* stopped for a rolling restart */
        bool killed;                  /* the stop deadline passed: the group had SIGKILL */
        int exit_code;                /* 0-255, 128+N for signal N */
        /* How the process ended, kept while its group drains. */
        bool exec_failed;
        uint64_t ran_ms;
};

struct policy_event {
        enum child_event type;
        int signo;                    /* STOP */
        /* EXIT: */
        int exit_code;
        bool exec_failed;             /* exec failed: restarting cannot help */
        uint64_t ran_ms;
        bool group_left;              /* others are still in its process group */
        /* EXIT, DRAINED and TIMER (what comes after the process): */
        bool over_limit;              /* one more restart now trips the crash-loop limit */
        uint32_t random;              /* for the backoff's jitter */
        bool stopping;                /* the supervisor is stopping */
};

struct policy_actions {
        unsigned flags;
        int signo;                    /* POLICY_SIGNAL */
        uint64_t timer_ms;            /* POLICY_ARM */
        int final_code;               /* POLICY_FINAL */
        enum policy_note note;
};

/* Applies ev to *c. Returns 0 with the actions in *out, or -EINVAL (and
 * *c unchanged) when ev cannot happen in c's state. */
int policy_step(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                struct policy_actions *out);

const char *child_state_name(enum child_state s);
