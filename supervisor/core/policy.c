/* policy: see policy.h. */
#include "core/policy.h"

#include <errno.h>
#include <signal.h>

#include "core/backoff.h"

static const char *const state_names[CHILD_STATE_COUNT] = {
        [CHILD_IDLE] = "idle",         [CHILD_STARTING] = "starting", [CHILD_RUNNING] = "running",
        [CHILD_STOPPING] = "stopping", [CHILD_EXITED] = "exited",     [CHILD_BACKOFF] = "backoff",
        [CHILD_GIVEN_UP] = "given-up",
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

static int exited(const struct policy_config *cfg, struct policy_child *c, const struct policy_event *ev,
                  struct policy_actions *out)
{
        bool roll = c->restart_now;

        c->exit_code = ev->exit_code;
        c->restart_now = false;
        out->flags = POLICY_DISARM;
        if (roll && !ev->stopping && !ev->exec_failed) {
                /* A rolling restart counts neither as a crash nor for the backoff. */
                c->state = CHILD_BACKOFF;
                out->flags |= POLICY_ARM;
                out->timer_ms = 0;
                out->note = POLICY_NOTE_ROLL_RESTART;
                return 0;
        }
        if (ev->stopping || ev->exec_failed || !restart_wanted(cfg, ev->exit_code)) {
                end(c, CHILD_EXITED, ev->exit_code, POLICY_NOTE_ENDED, out);
                return 0;
        }
        if (ev->ran_ms >= cfg->backoff_reset_ms)
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
        return 0;
}

/* NULL: the event cannot happen in that state. A timer that fires where
 * none is armed is a late one (disarmed after the kernel queued it). */
static const step_fn table[CHILD_STATE_COUNT][CHILD_EVENT_COUNT] = {
        /*                  START   EXEC_OK  EXIT    STOP          ROLL  TIMER */
        [CHILD_IDLE]     = { spawn, NULL,    NULL,   stop_idle,    NULL, nothing },
        [CHILD_STARTING] = { NULL,  exec_ok, exited, stop_live,    roll, nothing },
        [CHILD_RUNNING]  = { NULL,  NULL,    exited, stop_live,    roll, nothing },
        [CHILD_STOPPING] = { NULL,  exec_ok, exited, stop_live,    NULL, deadline },
        [CHILD_EXITED]   = { NULL,  NULL,    NULL,   nothing,      NULL, nothing },
        [CHILD_BACKOFF]  = { NULL,  NULL,    NULL,   stop_backoff, NULL, spawn },
        [CHILD_GIVEN_UP] = { NULL,  NULL,    NULL,   nothing,      NULL, nothing },
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
