/* supervisor: see supervisor.h. */
#include "core/supervisor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/exitcode.h"
#include "base/log.h"
#include "core/backoff.h"

/* One STATUS= style line; the longest systemd takes whole. */
#define SUP_STATUS_MAX 256

struct sup {
        struct sup_config cfg;
        struct sup_hooks hooks;
        struct loop loop;
        struct loop_source signals;
        struct mailbox mailbox;
        struct sig_saved saved;
        struct child children[CHILD_MAX];
        size_t n_children;
        bool stopping;
        int exit_code;          /* -1 until the first child ends for good */
        uint64_t rng;
        bool pid1;
        int self;               /* our pid, to tell our own SIGPIPE from one sent to us */
        bool started;           /* the children were started */
        size_t rolling;         /* child being restarted in a rolling restart; SIZE_MAX: none */
        bool roll_again;        /* a rolling restart was asked for during one */
        uint64_t orphans_reaped;
        uint64_t started_ms;
};

__attribute__((format(printf, 2, 3)))
static void status(struct sup *s, const char *fmt, ...)
{
        char buf[SUP_STATUS_MAX];
        va_list ap;

        if (!s->hooks.status)
                return;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        s->hooks.status(buf, s->hooks.data);
}

static bool is_final(const struct child *c)
{
        return c->p.state == CHILD_EXITED || c->p.state == CHILD_GIVEN_UP;
}

static bool all_final(const struct sup *s)
{
        for (size_t i = 0; i < s->n_children; i++)
                if (!is_final(&s->children[i]))
                        return false;
        return true;
}

static bool all_running(const struct sup *s)
{
        for (size_t i = 0; i < s->n_children; i++)
                if (s->children[i].p.state != CHILD_RUNNING)
                        return false;
        return true;
}

static void step(struct sup *s, struct child *c, const struct policy_event *ev);

static void stop_all(struct sup *s, int signo, const char *reason)
{
        bool first = !s->stopping;
        const struct policy_event ev = { .type = CHILD_EV_STOP, .signo = signo };
        char buf[16];

        s->stopping = true;
        if (first) {
                const char *name = sig_name(signo, buf, sizeof buf);
                char line[64];

                log_info("supervisor.stopping", LOG_STR("reason", reason), LOG_STR("signal", name),
                         LOG_INT("timeout_s", s->cfg.policy.stop_timeout_ms / 1000u));
                if (s->hooks.stopping) {
                        snprintf(line, sizeof line, "stopping: %s %s", reason, name);
                        s->hooks.stopping(line, s->hooks.data);
                }
        }
        for (size_t i = 0; i < s->n_children; i++)
                step(s, &s->children[i], &ev);
}

/* A child has ended for good: the first one decides the exit code, and
 * the others are stopped, so the container ends as one unit. */
static void child_final(struct sup *s, struct child *c, int code)
{
        if (s->exit_code < 0)
                s->exit_code = code;
        if (c->p.state == CHILD_GIVEN_UP)
                status(s, "%s gave up", c->name);
        if (!s->stopping && !all_final(s))
                stop_all(s, SIGTERM, "child_ended");
        if (all_final(s))
                loop_quit(&s->loop);
}

static void roll_next(struct sup *s);

/* The facts of "what comes after the process" for a step at now. */
static struct policy_event after(struct sup *s, struct child *c, enum child_event type)
{
        return (struct policy_event){ .type = type, .stopping = s->stopping,
                                      .over_limit = crashloop_peek(&c->crashes, timer_now_ms()),
                                      .random = backoff_random(&s->rng) };
}

static void on_exec_status(struct loop_source *src, uint32_t events);

static void spawn(struct sup *s, struct child *c)
{
        int r;

        if (s->hooks.before_spawn)
                s->hooks.before_spawn((size_t)(c - s->children), c->starts, s->hooks.data);
        r = child_spawn(c, &s->saved, &s->cfg.start);
        c->starts++;
        c->started_ms = timer_now_ms();
        if (r < 0) {
                log_error("child.spawn_failed", LOG_STR("child", c->name), LOG_STR("error", strerror(-r)));
                struct policy_event ev = after(s, c, CHILD_EV_EXIT);

                ev.exit_code = EXIT_SUPERVISOR_FAILED;
                c->exits++;
                step(s, c, &ev);
                return;
        }
        c->exec_pipe.handler = on_exec_status;
        if (loop_add(&s->loop, &c->exec_pipe, EPOLLIN) < 0) {
                /* Without the pipe, the exit status still tells exec failures apart. */
                close(c->exec_pipe.fd);
                c->exec_pipe.fd = -1;
        }
        log_info("child.started", LOG_STR("child", c->name), LOG_INT("pid", c->pid), LOG_STR("command", c->argv[0]));
}

static void log_note(struct sup *s, const struct child *c, const struct policy_actions *a)
{
        switch (a->note) {
        case POLICY_NOTE_NEVER_STARTED:
        case POLICY_NOTE_STOPPED_IN_BACKOFF:
                log_info(a->note == POLICY_NOTE_NEVER_STARTED ? "child.never_started" : "child.stopped_in_backoff",
                         LOG_STR("child", c->name), LOG_INT("code", c->p.exit_code));
                break;
        case POLICY_NOTE_STOP_TIMEOUT:
                log_warn("child.stop_timeout", LOG_STR("child", c->name), LOG_INT("pid", c->pid),
                         LOG_INT("timeout_s", s->cfg.policy.stop_timeout_ms / 1000u),
                         LOG_STR("action", "SIGKILL to its process group"));
                break;
        case POLICY_NOTE_RESTART:
                log_info("child.restart_scheduled", LOG_STR("child", c->name), LOG_INT("delay_ms", a->timer_ms),
                         LOG_INT("attempt", c->p.attempt));
                status(s, "%s backoff %llu.%llus", c->name, (unsigned long long)(a->timer_ms / 1000u),
                       (unsigned long long)(a->timer_ms % 1000u / 100u));
                break;
        case POLICY_NOTE_DRAINING:
                log_info("child.draining", LOG_STR("child", c->name), LOG_INT("pgid", c->pgid),
                         LOG_INT("timeout_s", s->cfg.policy.stop_timeout_ms / 1000u),
                         LOG_STR("meaning", "processes it left in its group get SIGTERM, then SIGKILL"));
                break;
        case POLICY_NOTE_GAVE_UP:
                log_error("child.gave_up", LOG_STR("child", c->name), LOG_INT("code", c->p.exit_code),
                          LOG_INT("max_restarts", s->cfg.max_restarts),
                          LOG_INT("window_s", s->cfg.restart_window_ms / 1000u), LOG_INT("exit", EXIT_GAVE_UP));
                break;
        default:
                break;
        }
}

static void announce_running(struct sup *s, struct child *c)
{
        char line[SUP_STATUS_MAX];

        log_debug("child.running", LOG_STR("child", c->name), LOG_INT("pid", c->pid));
        snprintf(line, sizeof line, "%s running pid %d", c->name, (int)c->pid);
        if (s->hooks.running)
                s->hooks.running(line, all_running(s), s->hooks.data);
        if (s->rolling < s->n_children && &s->children[s->rolling] == c) {
                s->rolling++;
                roll_next(s);
        }
}

/* The one place the policy's decisions are carried out. */
static void step(struct sup *s, struct child *c, const struct policy_event *ev)
{
        struct policy_actions a;
        enum child_state was = c->p.state;

        if (policy_step(&s->cfg.policy, &c->p, ev, &a) < 0) {
                /* The callers only send events the policy allows; a refusal
                 * is a bug, and staying in the old state is the safe reaction. */
                log_error("child.bad_transition", LOG_STR("child", c->name), LOG_STR("state", child_state_name(was)),
                          LOG_INT("event", ev->type));
                return;
        }
        if (was == CHILD_DRAINING && ev->type == CHILD_EV_TIMER)
                log_warn("child.drain_timeout", LOG_STR("child", c->name), LOG_INT("pgid", c->pgid),
                         LOG_INT("timeout_s", s->cfg.policy.stop_timeout_ms / 1000u),
                         LOG_STR("action", "SIGKILL to what is left of its process group"));
        if (a.flags & POLICY_DISARM)
                timer_disarm(&c->timer);
        if (a.flags & POLICY_SIGNAL)
                child_signal_group(c, a.signo);
        if (a.flags & POLICY_ARM)
                timer_arm_ms(&c->timer, a.timer_ms);
        if (a.flags & POLICY_RECORD_CRASH)
                crashloop_record(&c->crashes, timer_now_ms());
        /* The process and its group are gone: nothing to signal any more
         * (the id may be another group's soon). */
        if (!c->pid && c->p.state != CHILD_DRAINING)
                c->pgid = 0;
        log_note(s, c, &a);
        if (a.flags & POLICY_SPAWN)
                spawn(s, c);
        if (a.flags & POLICY_RUNNING)
                announce_running(s, c);
        if (a.flags & POLICY_FINAL)
                child_final(s, c, a.final_code);
}

static void child_reaped(struct sup *s, struct child *c, int wstatus)
{
        uint64_t ran_ms = timer_now_ms() - c->started_ms;
        int code = child_exit_code(wstatus);
        char buf[16];

        /* Exec may have failed after the pipe was last read. */
        if (c->exec_pipe.fd >= 0) {
                child_read_exec_status(c);
                loop_remove(&s->loop, &c->exec_pipe);
        }
        if (c->exec_errno)
                log_error("child.exec_failed", LOG_STR("child", c->name), LOG_STR("command", c->argv[0]),
                          LOG_STR("error", strerror(c->exec_errno)));
        c->exits++;
        if (WIFSIGNALED(wstatus))
                log_info("child.exited", LOG_STR("child", c->name), LOG_INT("pid", c->pid), LOG_INT("code", code),
                         LOG_STR("signal", sig_name(WTERMSIG(wstatus), buf, sizeof buf)), LOG_INT("ran_ms", ran_ms));
        else
                log_info("child.exited", LOG_STR("child", c->name), LOG_INT("pid", c->pid), LOG_INT("code", code),
                         LOG_INT("ran_ms", ran_ms));
        status(s, "%s exited %d", c->name, code);
        c->pid = 0;
        /* What it left in its group is drained before anything else, so a
         * restart never finds its predecessor's processes holding ports
         * or files, and the supervisor never exits leaving them behind. */
        struct policy_event ev = after(s, c, CHILD_EV_EXIT);

        ev.exit_code = code;
        ev.exec_failed = c->exec_errno != 0;
        ev.ran_ms = ran_ms;
        ev.group_left = child_group_left(c);
        step(s, c, &ev);
}

static struct child *child_by_pid(struct sup *s, pid_t pid)
{
        for (size_t i = 0; i < s->n_children; i++)
                if (s->children[i].pid == pid)
                        return &s->children[i];
        return NULL;
}

static void reap(struct sup *s)
{
        int wstatus;
        pid_t pid;

        while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
                struct child *c = child_by_pid(s, pid);
                if (c) {
                        child_reaped(s, c, wstatus);
                } else {
                        s->orphans_reaped++;
                        log_debug("orphan.reaped", LOG_INT("pid", pid), LOG_INT("code", child_exit_code(wstatus)));
                }
        }
        for (size_t i = 0; i < s->n_children; i++) {
                struct child *c = &s->children[i];
                if (c->p.state == CHILD_DRAINING && !child_group_left(c)) {
                        struct policy_event ev = after(s, c, CHILD_EV_DRAINED);
                        step(s, c, &ev);
                }
        }
}

static void roll_next(struct sup *s)
{
        while (s->rolling < s->n_children) {
                struct child *c = &s->children[s->rolling];
                if (c->p.state == CHILD_RUNNING || c->p.state == CHILD_STARTING) {
                        log_info("child.rolling_restart", LOG_STR("child", c->name), LOG_INT("pid", c->pid));
                        step(s, c, &(struct policy_event){ .type = CHILD_EV_ROLL });
                        return;
                }
                s->rolling++;
        }
        s->rolling = SIZE_MAX;
        if (s->roll_again) {
                s->roll_again = false;
                sup_rolling_restart(s);
        }
}

void sup_rolling_restart(struct sup *s)
{
        if (!s->started || s->stopping)
                return;
        if (s->rolling != SIZE_MAX) {
                s->roll_again = true;
                return;
        }
        s->rolling = 0;
        roll_next(s);
}

void sup_finish(struct sup *s, int code)
{
        s->exit_code = code;
        stop_all(s, SIGTERM, "finish");
        if (all_final(s))
                loop_quit(&s->loop);
}

static void on_exec_status(struct loop_source *src, uint32_t events)
{
        struct child *c = container_of(src, struct child, exec_pipe);
        struct sup *s = c->owner;

        (void)events;
        if (!child_read_exec_status(c))
                return;
        loop_remove(&s->loop, &c->exec_pipe);
        if (c->exec_errno)
                return; /* reported when the child is reaped */
        step(s, c, &(struct policy_event){ .type = CHILD_EV_EXEC_OK });
}

static void on_timer(struct timer *t)
{
        struct child *c = container_of(t, struct child, timer);

        struct policy_event ev = after(c->owner, c, CHILD_EV_TIMER);

        step(c->owner, c, &ev);
}

static void on_signals(struct loop_source *src, uint32_t events)
{
        struct sup *s = container_of(src, struct sup, signals);
        struct signalfd_siginfo infos[16];
        char buf[16];
        ssize_t n;

        (void)events;
        while ((n = read(src->fd, infos, sizeof infos)) > 0) {
                for (size_t i = 0; i < (size_t)n / sizeof infos[0]; i++) {
                        int signo = (int)infos[i].ssi_signo;
                        switch (sig_classify(&infos[i], s->self)) {
                        case SIG_ACT_REAP:
                                reap(s);
                                break;
                        case SIG_ACT_STOP:
                                stop_all(s, signo, "signal");
                                break;
                        case SIG_ACT_FORWARD:
                                /* To every group there is: running, stopping or draining. */
                                for (size_t k = 0; k < s->n_children; k++)
                                        child_signal_group(&s->children[k], signo);
                                log_debug("signal.forwarded", LOG_STR("signal", sig_name(signo, buf, sizeof buf)),
                                          LOG_INT("from_pid", infos[i].ssi_pid));
                                break;
                        case SIG_ACT_DROP:
                                break;
                        }
                }
        }
}

static int init(struct sup *s, const struct sup_config *cfg)
{
        int r;

        s->cfg = *cfg;
        s->exit_code = -1;
        s->rolling = SIZE_MAX;
        loop_init(&s->loop);
        loop_source_init(&s->signals, on_signals);
        mailbox_init(&s->mailbox);
        s->self = (int)getpid();
        s->pid1 = s->self == 1;
        s->started_ms = timer_now_ms();
        s->rng = backoff_seed();
        /* Not PID 1: orphans of our children must still come to us. */
        if (!s->pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return -errno;
        if ((r = loop_open(&s->loop)) < 0)
                return r;
        if ((r = sig_setup(&s->saved)) < 0)
                return r;
        s->signals.fd = r;
        if ((r = loop_add(&s->loop, &s->signals, EPOLLIN)) < 0)
                return r;
        return mailbox_open(&s->mailbox, &s->loop, s);
}

int sup_new(struct sup **ret, const struct sup_config *cfg)
{
        struct sup *s = calloc(1, sizeof *s);
        int r;

        *ret = NULL;
        if (!s)
                return -ENOMEM;
        if ((r = init(s, cfg)) < 0) {
                sup_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void sup_set_hooks(struct sup *s, const struct sup_hooks *hooks)
{
        s->hooks = *hooks;
}

struct loop *sup_loop(struct sup *s)
{
        return &s->loop;
}

struct mailbox *sup_mailbox(struct sup *s)
{
        return &s->mailbox;
}

int sup_add_child(struct sup *s, const char *name, char *const *argv, char *const *envp,
                  const struct child_creds *creds)
{
        struct child *c;
        int r;

        if (s->n_children >= CHILD_MAX)
                return -ENOSPC;
        c = &s->children[s->n_children];
        *c = (struct child){ .name = name, .argv = argv, .envp = envp, .creds = creds, .owner = s,
                             .p = { .state = CHILD_IDLE } };
        loop_source_init(&c->exec_pipe, on_exec_status);
        timer_init(&c->timer, on_timer);
        if ((r = crashloop_init(&c->crashes, s->cfg.max_restarts, s->cfg.restart_window_ms)) < 0)
                return r;
        s->n_children++;
        return timer_open(&c->timer, &s->loop, on_timer);
}

bool sup_started(const struct sup *s)
{
        return s->started;
}

bool sup_stopping(const struct sup *s)
{
        return s->stopping;
}

pid_t sup_running_pid(const struct sup *s, size_t i)
{
        return i < s->n_children && s->children[i].p.state == CHILD_RUNNING ? s->children[i].pid : 0;
}

size_t sup_children(const struct sup *s, struct sup_child_view *out, size_t max)
{
        for (size_t i = 0; i < s->n_children && i < max; i++) {
                const struct child *c = &s->children[i];
                out[i] = (struct sup_child_view){ .name = c->name, .state = child_state_name(c->p.state),
                                                  .pid = sup_running_pid(s, i),
                                                  .restarts = c->starts > 1 ? c->starts - 1 : 0,
                                                  .last_code = c->exits ? c->p.exit_code : -1 };
        }
        return s->n_children;
}

uint64_t sup_orphans_reaped(const struct sup *s)
{
        return s->orphans_reaped;
}

uint64_t sup_uptime_s(const struct sup *s)
{
        return (timer_now_ms() - s->started_ms) / 1000u;
}

void sup_start(struct sup *s)
{
        if (s->started || s->stopping)
                return;
        s->started = true;
        for (size_t i = 0; i < s->n_children; i++)
                step(s, &s->children[i], &(struct policy_event){ .type = CHILD_EV_START });
        /* Not to keep the start directory busy (an unmount, a removal):
         * the children, restarts included, still start there. */
        if (s->cfg.start.dir && chdir("/") < 0)
                log_warn("supervisor.chdir_failed", LOG_STR("dir", "/"), LOG_STR("error", strerror(errno)));
}

int sup_run(struct sup *s, bool start)
{
        char line[32];
        int r;

        log_info("supervisor.started", LOG_INT("pid", getpid()), LOG_STR("pid1", s->pid1 ? "true" : "false"),
                 LOG_INT("children", s->n_children));
        if (start)
                sup_start(s);
        r = loop_run(&s->loop);
        if (r < 0) {
                log_error("supervisor.loop_failed", LOG_STR("error", strerror(-r)));
                return EXIT_SUPERVISOR_FAILED;
        }
        /* Zombies that are already there; nothing waits for the rest. */
        reap(s);
        if (s->exit_code < 0)
                s->exit_code = 0;
        /* Also when the children ended on their own, without stop_all. */
        if (s->hooks.stopping) {
                snprintf(line, sizeof line, "exiting %d", s->exit_code);
                s->hooks.stopping(line, s->hooks.data);
        }
        log_info("supervisor.exiting", LOG_INT("code", s->exit_code), LOG_INT("orphans_reaped", s->orphans_reaped));
        return s->exit_code;
}

void sup_free(struct sup *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < s->n_children; i++) {
                struct child *c = &s->children[i];
                loop_remove(&s->loop, &c->exec_pipe);
                timer_close(&c->timer, &s->loop);
                crashloop_free(&c->crashes);
        }
        mailbox_close(&s->mailbox, &s->loop);
        loop_remove(&s->loop, &s->signals);
        loop_close(&s->loop);
        free(s);
}
