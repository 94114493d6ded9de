/* policy: see policy.h. */
#include "core/policy.h"

#include <errno.h>
#include <signal.h>

#include "core/backoff.h"

static const char *const state_names[CHILD_STATE_COUNT] = {
        [CHILD_IDLE] = "idle",         [CHILD_STARTING] = "starting", [CHILD_RUNNING] = "running",
        [CHILD_STOPPING] = "stopping", [CHILD_EXITED] = "exited",     [CHILD_BACKOFF] = "backoff",
        [CHILD_GIVEN_UP] = "given-up", [CHILD_DRAINING] = "draining",
};

const char *child_state_name(enum child_state s)
{
        return (unsigned)s < CHILD_STATE_COUNT ? state_names[s] : "invalid";
}

typedef int (*step_fn)(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                       struct policy_actions *out);

static int spawn(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                 struct policy_actions *out)
{
        (void)cfg;
        (void)ev;
        c->state = CHILD_STARTING;
        out->flags = POLICY_SPAWN;
        return 0;
}

static int exec_ok(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                   struct policy_actions *out)
{
        (void)cfg;
        (void)ev;
        /* A stop that came before exec was confirmed stands. */
        if (c->state == CHILD_STARTING) {
                c->state = CHILD_RUNNING;
                out->flags = POLICY_RUNNING;
        }
        return 0;
}

static void end(struct policy_child *c, enum child_state state, int code, enum policy_note note,
                struct policy_actions *out)
{
        c->state = state;
        out->flags |= POLICY_FINAL;
        out->final_code = code;
        out->note = note;
}

static bool restart_wanted(const struct policy_config *cfg, int code)
{
        return cfg->restart == RESTART_ALWAYS || (cfg->restart == RESTART_ON_FAILURE && code != 0);
}

/* The process and its group are gone: restart, or end. The exit's facts
 * are in c; ev has the supervisor's now. */
static int decide(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                  struct policy_actions *out)
{
        bool roll = c->restart_now;

        c->restart_now = false;
        c->killed = false;
        out->flags |= POLICY_DISARM;
        if (roll && !ev->stopping && !c->exec_failed) {
                /* A rolling restart counts neither as a crash nor for the backoff. */
                c->state = CHILD_BACKOFF;
                out->flags |= POLICY_ARM;
                out->timer_ms = 0;
                out->note = POLICY_NOTE_ROLL_RESTART;
                return 0;
        }
        if (ev->stopping || c->exec_failed || !restart_wanted(cfg, c->exit_code)) {
                end(c, CHILD_EXITED, c->exit_code, POLICY_NOTE_ENDED, out);
                return 0;
        }
        if (c->ran_ms >= cfg->backoff_reset_ms)
                c->attempt = 0;
        out->flags |= POLICY_RECORD_CRASH;
        if (ev->over_limit) {
                end(c, CHILD_GIVEN_UP, cfg->gave_up_code, POLICY_NOTE_GAVE_UP, out);
                return 0;
        }
        c->state = CHILD_BACKOFF;
        out->flags |= POLICY_ARM;
        out->timer_ms = backoff_delay_ms(c->attempt, cfg->backoff_min_ms, cfg->backoff_max_ms, ev->random);
        out->note = POLICY_NOTE_RESTART;
        c->attempt++;
        return 0;
}

static int exited(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                  struct policy_actions *out)
{
        c->exit_code = ev->exit_code;
        c->exec_failed = ev->exec_failed;
        c->ran_ms = ev->ran_ms;
        /* Killed at the deadline, the group had SIGKILL already. */
        if (!ev->group_left || c->killed)
                return decide(cfg, c, ev, out);
        out->note = POLICY_NOTE_DRAINING;
        if (c->state == CHILD_STOPPING) {
                /* The group had the stop signal with the process, and the
                 * deadline that runs bounds them too. */
                c->state = CHILD_DRAINING;
                return 0;
        }
        c->state = CHILD_DRAINING;
        out->flags = POLICY_DISARM | POLICY_SIGNAL | POLICY_ARM;
        out->signo = SIGTERM;
        out->timer_ms = cfg->stop_timeout_ms;
        return 0;
}

static int drained(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                   struct policy_actions *out)
{
        return decide(cfg, c, ev, out);
}

static int drain_deadline(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                          struct policy_actions *out)
{
        /* SIGKILL cannot be refused: what it leaves are zombies about to go. */
        out->flags = POLICY_SIGNAL;
        out->signo = SIGKILL;
        return decide(cfg, c, ev, out);
}

static int forward(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                   struct policy_actions *out)
{
        (void)cfg;
        (void)c;
        out->flags = POLICY_SIGNAL;
        out->signo = ev->signo;
        return 0;
}

static int stop_live(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                     struct policy_actions *out)
{
        out->flags = POLICY_SIGNAL;
        out->signo = ev->signo;
        /* Passed on again while stopping, but the grace period is not cut short. */
        if (c->state != CHILD_STOPPING) {
                c->state = CHILD_STOPPING;
                out->flags |= POLICY_ARM;
                out->timer_ms = cfg->stop_timeout_ms;
        }
        return 0;
}

static int stop_idle(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                     struct policy_actions *out)
{
        (void)cfg;
        c->exit_code = 128 + ev->signo;
        end(c, CHILD_EXITED, c->exit_code, POLICY_NOTE_NEVER_STARTED, out);
        return 0;
}

static int stop_backoff(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                        struct policy_actions *out)
{
        (void)cfg;
        (void)ev;
        out->flags = POLICY_DISARM;
        end(c, CHILD_EXITED, c->exit_code, POLICY_NOTE_STOPPED_IN_BACKOFF, out);
        return 0;
}

static int nothing(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                   struct policy_actions *out)
{
        (void)cfg;
        (void)c;
        (void)ev;
        (void)out;
        return 0;
}

static int roll(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                struct policy_actions *out)
{
        const struct policy_event stop = { .type = CHILD_EV_STOP, .signo = SIGTERM };

        (void)ev;
        c->restart_now = true;
        return stop_live(cfg, c, &stop, out);
}

static int deadline(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                    struct policy_actions *out)
{
        (void)cfg;
        (void)c;
        (void)ev;
        out->flags = POLICY_SIGNAL;
        out->signo = SIGKILL;
        out->note = POLICY_NOTE_STOP_TIMEOUT;
        c->killed = true;
        return 0;
}

/* NULL: the event cannot happen in that state. A timer that fires where
 * none is armed is a late one (disarmed after the kernel queued it). */
static const step_fn table[CHILD_STATE_COUNT][CHILD_EVENT_COUNT] = {
        /*                  START   EXEC_OK  EXIT    STOP          ROLL  TIMER           DRAINED */
        [CHILD_IDLE]     = { spawn, NULL,    NULL,   stop_idle,    NULL, nothing,        NULL },
        [CHILD_STARTING] = { NULL,  exec_ok, exited, stop_live,    roll, nothing,        NULL },
        [CHILD_RUNNING]  = { NULL,  NULL,    exited, stop_live,    roll, nothing,        NULL },
        [CHILD_STOPPING] = { NULL,  exec_ok, exited, stop_live,    NULL, deadline,       NULL },
        [CHILD_EXITED]   = { NULL,  NULL,    NULL,   nothing,      NULL, nothing,        NULL },
        [CHILD_BACKOFF]  = { NULL,  NULL,    NULL,   stop_backoff, NULL, spawn,          NULL },
        [CHILD_GIVEN_UP] = { NULL,  NULL,    NULL,   nothing,      NULL, nothing,        NULL },
        [CHILD_DRAINING] = { NULL,  NULL,    NULL,   forward,      NULL, drain_deadline, drained },
};

int policy_step(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                struct policy_actions *out)
{
        struct policy_child next = *c;
        step_fn fn;
        int r;

        *out = (struct policy_actions){ .note = POLICY_NOTE_NONE };
        if ((unsigned)c->state >= CHILD_STATE_COUNT || (unsigned)ev->type >= CHILD_EVENT_COUNT)
                return -EINVAL;
        fn = table[c->state][ev->type];
        if (!fn)
                return -EINVAL;
        r = fn(cfg, &next, ev, out);
        if (r == 0)
                *c = next;
        return r;
}
