/* supervisor: see supervisor.h. */
#include "core/supervisor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/backoff.h"
#include "base/log.h"

static void apply(struct child *c, enum child_event e)
{
        int next = child_transition(c->state, e);

        /* The callers only send events the table allows; a -EINVAL here
         * is a bug, and staying in the old state is the safe reaction. */
        if (next < 0) {
                log_error("child.bad_transition", LOG_STR("child", c->name),
                          LOG_STR("state", child_state_name(c->state)), LOG_INT("event", e));
                return;
        }
        c->state = (enum child_state)next;
}

static bool is_final(const struct child *c)
{
        return c->state == CHILD_EXITED || c->state == CHILD_GIVEN_UP;
}

static bool is_live(const struct child *c)
{
        return c->state == CHILD_STARTING || c->state == CHILD_RUNNING || c->state == CHILD_STOPPING;
}

static void stop_all(struct sup *s, int signo, const char *reason);

/* One STATUS= line for systemd on a child's state change (sent only when
 * it changed, and only under NOTIFY_SOCKET). */
__attribute__((format(printf, 2, 3)))
static void set_status(struct sup *s, const char *fmt, ...)
{
        char buf[NOTIFY_STATUS_MAX];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        notify_status(&s->notify, buf);
}

static bool all_final(const struct sup *s)
{
        for (size_t i = 0; i < s->n_children; i++)
                if (!is_final(&s->children[i]))
                        return false;
        return true;
}

/* A child has ended for good: the first one decides the exit code, and
 * the others are stopped, so the container ends as one unit. */
static void child_final(struct sup *s, struct child *c)
{
        if (s->exit_code < 0)
                s->exit_code = c->state == CHILD_GIVEN_UP ? EXIT_GAVE_UP : c->exit_code;
        if (!s->stopping && !all_final(s))
                stop_all(s, SIGTERM, "child_ended");
        if (all_final(s))
                loop_quit(&s->loop);
}

static void forward(struct sup *s, int signo)
{
        for (size_t i = 0; i < s->n_children; i++) {
                struct child *c = &s->children[i];
                if (is_live(c))
                        child_signal_group(c, signo);
        }
}

static void stop_child(struct sup *s, struct child *c, int signo)
{
        switch (c->state) {
        case CHILD_STARTING:
        case CHILD_RUNNING:
                child_signal_group(c, signo);
                apply(c, CHILD_EV_STOP);
                timer_arm_ms(&c->timer, (uint64_t)s->set.stop_timeout_s * 1000u);
                break;
        case CHILD_STOPPING:
                /* Passed on again, but the grace period is not cut short. */
                child_signal_group(c, signo);
                break;
        case CHILD_IDLE:
        case CHILD_BACKOFF:
                if (c->state == CHILD_IDLE)
                        c->exit_code = 128 + signo;
                log_info(c->state == CHILD_IDLE ? "child.never_started" : "child.stopped_in_backoff",
                         LOG_STR("child", c->name), LOG_INT("code", c->exit_code));
                timer_disarm(&c->timer);
                apply(c, CHILD_EV_STOP);
                child_final(s, c);
                break;
        default:
                break;
        }
}

static void stop_all(struct sup *s, int signo, const char *reason)
{
        bool first = !s->stopping;
        char buf[16];

        s->stopping = true;
        for (size_t i = 0; i < s->n_children; i++)
                stop_child(s, &s->children[i], signo);
        if (first) {
                const char *name = sig_name(signo, buf, sizeof buf);
                char status[64];

                log_info("supervisor.stopping", LOG_STR("reason", reason), LOG_STR("signal", name),
                         LOG_INT("timeout_s", s->set.stop_timeout_s));
                snprintf(status, sizeof status, "stopping: %s %s", reason, name);
                notify_stopping(&s->notify, status);
        }
}

static bool restart_wanted(const struct sup *s, const struct child *c)
{
        switch (s->set.restart) {
        case RESTART_ALWAYS:
                return true;
        case RESTART_ON_FAILURE:
                return c->exit_code != 0;
        default:
                return false;
        }
}

static void schedule_restart(struct sup *s, struct child *c, uint64_t now, uint64_t ran_ms)
{
        if (ran_ms >= (uint64_t)s->set.backoff_reset_s * 1000u)
                c->attempt = 0;
        if (crashloop_record(&c->crashes, now)) {
                apply(c, CHILD_EV_GIVE_UP);
                log_error("child.gave_up", LOG_STR("child", c->name), LOG_INT("code", c->exit_code),
                          LOG_INT("max_restarts", s->set.max_restarts),
                          LOG_INT("window_s", s->set.restart_window_s), LOG_INT("exit", EXIT_GAVE_UP));
                set_status(s, "%s gave up", c->name);
                child_final(s, c);
                return;
        }
        uint64_t delay = backoff_delay_ms(c->attempt, (uint64_t)s->set.backoff_min_ms,
                                          (uint64_t)s->set.backoff_max_ms, backoff_random(&s->rng));
        c->attempt++;
        apply(c, CHILD_EV_RESTART);
        timer_arm_ms(&c->timer, delay);
        log_info("child.restart_scheduled", LOG_STR("child", c->name), LOG_INT("delay_ms", delay),
                 LOG_INT("attempt", c->attempt));
        set_status(s, "%s backoff %llu.%llus", c->name, (unsigned long long)(delay / 1000u),
                   (unsigned long long)(delay % 1000u / 100u));
}

/* The child's process is gone (reaped, or it never started): log it and
 * decide between restarting and ending. */
static void child_gone(struct sup *s, struct child *c, int code, int signo)
{
        uint64_t now = timer_now_ms();
        uint64_t ran_ms = now - c->started_ms;
        char buf[16];

        c->exit_code = code;
        c->exits++;
        timer_disarm(&c->timer);
        if (signo)
                log_info("child.exited", LOG_STR("child", c->name), LOG_INT("pid", c->pid),
                         LOG_INT("code", code), LOG_STR("signal", sig_name(signo, buf, sizeof buf)),
                         LOG_INT("ran_ms", ran_ms));
        else
                log_info("child.exited", LOG_STR("child", c->name), LOG_INT("pid", c->pid),
                         LOG_INT("code", code), LOG_INT("ran_ms", ran_ms));
        set_status(s, "%s exited %d", c->name, code);
        c->pid = 0;
        apply(c, CHILD_EV_EXIT);
        if (c->restart_now && !s->stopping && !c->exec_errno) {
                c->restart_now = false;
                apply(c, CHILD_EV_RESTART);
                timer_arm_ms(&c->timer, 0);
                return;
        }
        c->restart_now = false;
        if (s->stopping || c->exec_errno || !restart_wanted(s, c)) {
                child_final(s, c);
                return;
        }
        schedule_restart(s, c, now, ran_ms);
}

static void child_reaped(struct sup *s, struct child *c, int wstatus)
{
        /* Exec may have failed after the pipe was last read. */
        if (c->exec_pipe.fd >= 0) {
                child_read_exec_status(c);
                loop_remove(&s->loop, &c->exec_pipe);
        }
        if (c->exec_errno)
                log_error("child.exec_failed", LOG_STR("child", c->name), LOG_STR("command", c->argv[0]),
                          LOG_STR("error", strerror(c->exec_errno)));
        /* Whatever is left of its group goes too, so a restart never finds
         * its predecessor's processes holding ports or files. */
        child_signal_group(c, SIGKILL);
        child_gone(s, c, child_exit_code(wstatus), WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
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
                        log_debug("orphan.reaped", LOG_INT("pid", pid),
                                  LOG_INT("code", child_exit_code(wstatus)));
                }
        }
}

static void roll_next(struct sup *s)
{
        while (s->rolling < s->n_children) {
                struct child *c = &s->children[s->rolling];
                if (c->state == CHILD_RUNNING || c->state == CHILD_STARTING) {
                        log_info("child.rolling_restart", LOG_STR("child", c->name), LOG_INT("pid", c->pid));
                        c->restart_now = true;
                        stop_child(s, c, SIGTERM);
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

static bool all_running(const struct sup *s)
{
        for (size_t i = 0; i < s->n_children; i++)
                if (s->children[i].state != CHILD_RUNNING)
                        return false;
        return true;
}

static void child_running(struct sup *s, const struct child *c)
{
        char status[NOTIFY_STATUS_MAX];

        snprintf(status, sizeof status, "%s running pid %d", c->name, (int)c->pid);
        /* Ready, for now, means every child runs: all that `-- CMD` mode
         * can know. A Flink-aware probe may say it later instead. */
        if (all_running(s) && !s->ready_by_owner)
                sup_set_ready(s, true, status);
        else
                notify_status(&s->notify, status);
}

void sup_set_ready(struct sup *s, bool ready, const char *status)
{
        /* systemd has no way back from READY=1: not ready again only
         * changes the status line. */
        if (ready)
                notify_ready(&s->notify, status);
        else
                notify_status(&s->notify, status);
}

struct http *sup_http(struct sup *s)
{
        int r;

        if (!s->http_tried) {
                s->http_tried = true;
                r = http_open(&s->http, &s->loop);
                s->http_on = r == 0;
                if (r < 0)
                        log_error("http.unavailable", LOG_STR("error", r == -ENOENT ? "libcurl.so.4 not found" : strerror(-r)),
                                  LOG_STR("meaning", "no Flink probes and no Marathon registration"));
        }
        return s->http_on ? &s->http : NULL;
}

void sup_register(struct sup *s)
{
        const struct settings *set = &s->set;
        struct marathon_config cfg = {
                .url = set->marathon_url, .app_id = set->marathon_app_id,
                .credentials_file = set->marathon_credentials_file, .token_file = set->marathon_token_file,
                .ca_file = set->marathon_ca_file,
                .want = { .protocol = set->check_protocol == CHECK_MESOS_HTTP ? APPCHECKS_MESOS_HTTP : APPCHECKS_HTTP,
                          .grace_s = set->check_grace_s, .interval_s = set->check_interval_s,
                          .timeout_s = set->check_timeout_s, .failures = set->check_failures,
                          .ready_interval_s = set->ready_interval_s, .ready_timeout_s = set->ready_timeout_s,
                          .health_port = s->health.port },
        };
        struct http *http;
        int r;

        if (!set->marathon_url)
                return;
        if (!set->marathon_app_id) {
                log_warn("marathon.no_app_id", LOG_STR("meaning", "MARATHON_URL without MARATHON_APP_ID: nothing to register"));
                return;
        }
        if (!s->health_on) {
                log_warn("marathon.no_endpoint", LOG_STR("meaning", "the health endpoint is off: no checks to register"));
                return;
        }
        if (!(http = sup_http(s)))
                return;
        r = marathon_open(&s->marathon, &s->loop, http, &cfg);
        s->marathon_on = r == 0;
        if (r < 0)
                log_error("marathon.unavailable", LOG_STR("error", strerror(-r)));
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
        if (c->state == CHILD_STARTING || c->state == CHILD_STOPPING)
                apply(c, CHILD_EV_EXEC_OK);
        log_debug("child.running", LOG_STR("child", c->name), LOG_INT("pid", c->pid));
        if (c->state == CHILD_RUNNING)
                child_running(s, c);
        if (s->rolling < s->n_children && &s->children[s->rolling] == c && c->state == CHILD_RUNNING && !c->restart_now) {
                s->rolling++;
                roll_next(s);
        }
}

static void child_spawn_now(struct sup *s, struct child *c)
{
        if (s->before_spawn)
                s->before_spawn(s, c, s->before_spawn_data);
        int r = child_spawn(c, &s->saved);

        c->starts++;
        apply(c, CHILD_EV_SPAWN);
        c->started_ms = timer_now_ms();
        if (r < 0) {
                log_error("child.spawn_failed", LOG_STR("child", c->name), LOG_STR("error", strerror(-r)));
                child_gone(s, c, EXIT_SUPERVISOR_FAILED, 0);
                return;
        }
        c->exec_pipe.handler = on_exec_status;
        r = loop_add(&s->loop, &c->exec_pipe, EPOLLIN);
        if (r < 0) {
                /* Without the pipe, the exit status still tells exec failures apart. */
                close(c->exec_pipe.fd);
                c->exec_pipe.fd = -1;
        }
        log_info("child.started", LOG_STR("child", c->name), LOG_INT("pid", c->pid),
                 LOG_STR("command", c->argv[0]));
}

static void on_timer(struct timer *t)
{
        struct child *c = container_of(t, struct child, timer);
        struct sup *s = c->owner;

        if (c->state == CHILD_BACKOFF) {
                child_spawn_now(s, c);
        } else if (c->state == CHILD_STOPPING) {
                log_warn("child.stop_timeout", LOG_STR("child", c->name), LOG_INT("pid", c->pid),
                         LOG_INT("timeout_s", s->set.stop_timeout_s), LOG_STR("action", "SIGKILL to its process group"));
                child_signal_group(c, SIGKILL);
                apply(c, CHILD_EV_DEADLINE);
        }
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
                        if (signo == SIGCHLD) {
                                reap(s);
                        } else if (signo == SIGTERM || signo == SIGINT) {
                                stop_all(s, signo, "signal");
                        } else if (sig_is_forwarded(signo)) {
                                forward(s, signo);
                                log_debug("signal.forwarded", LOG_STR("signal", sig_name(signo, buf, sizeof buf)));
                        }
                }
        }
}

int sup_init(struct sup *s, const struct settings *set)
{
        int r;

        memset(s, 0, sizeof *s);
        s->set = *set;
        s->exit_code = -1;
        s->rolling = SIZE_MAX;
        s->loop.epfd = -1;
        s->signals.fd = -1;
        s->mailbox.src.fd = -1;
        s->notify.watchdog.src.fd = -1;
        s->pid1 = getpid() == 1;
        s->started_ms = timer_now_ms();
        if (getrandom(&s->rng, sizeof s->rng, GRND_NONBLOCK) != sizeof s->rng)
                s->rng = timer_now_ms() ^ ((uint64_t)getpid() << 32);
        /* Not PID 1: orphans of our children must still come to us. */
        if (!s->pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                return -errno;
        r = loop_open(&s->loop);
        if (r < 0)
                return r;
        r = sig_setup(&s->saved);
        if (r < 0)
                return r;
        s->signals.fd = r;
        s->signals.handler = on_signals;
        r = loop_add(&s->loop, &s->signals, EPOLLIN);
        if (r < 0)
                return r;
        r = mailbox_open(&s->mailbox, &s->loop, s);
        if (r < 0)
                return r;
        r = notify_open(&s->notify, &s->loop);
        if (r < 0)
                log_warn("notify.watchdog_unavailable", LOG_STR("error", strerror(-r)),
                         LOG_STR("meaning", "systemd's watchdog is not fed; READY=1 and STATUS= still go out"));
        return 0;
}

int sup_add_child(struct sup *s, const char *name, char *const *argv, char *const *envp,
                  const struct child_creds *creds)
{
        struct child *c;
        int r;

        if (s->n_children >= SUP_MAX_CHILDREN)
                return -ENOSPC;
        c = &s->children[s->n_children];
        memset(c, 0, sizeof *c);
        c->name = name;
        c->argv = argv;
        c->envp = envp;
        c->creds = creds;
        c->owner = s;
        c->exec_pipe.fd = -1;
        c->timer.src.fd = -1;
        r = crashloop_init(&c->crashes, (unsigned)s->set.max_restarts,
                           (uint64_t)s->set.restart_window_s * 1000u);
        if (r < 0)
                return r;
        s->n_children++;
        return timer_open(&c->timer, &s->loop, on_timer);
}

void sup_snapshot(struct sup *s, struct report_snapshot *out)
{
        out->healthy = out->ready = s->n_children > 0;
        out->uptime_s = (timer_now_ms() - s->started_ms) / 1000u;
        out->orphans_reaped = s->orphans_reaped;
        out->marathon_enabled = s->marathon_on;
        out->marathon_registered = s->marathon_on && marathon_registered(&s->marathon);
        out->marathon_writes = s->marathon_on ? s->marathon.writes : 0;
        out->n_children = s->n_children;
        for (size_t i = 0; i < s->n_children; i++) {
                const struct child *c = &s->children[i];
                bool running = c->state == CHILD_RUNNING;
                out->children[i] = (struct report_child){ .name = c->name, .state = child_state_name(c->state),
                                                          .pid = running ? (int)c->pid : 0,
                                                          .restarts = c->starts > 1 ? c->starts - 1 : 0,
                                                          .last_code = c->exits ? c->exit_code : -1 };
                if (!running)
                        out->healthy = out->ready = false;
        }
}

static void health_snapshot(struct report_snapshot *out, void *data)
{
        struct sup *s = data;

        sup_snapshot(s, out);
        if (s->snapshot_extra)
                s->snapshot_extra(out, s->snapshot_data);
}

void sup_serve_health(struct sup *s, uint16_t port, health_snapshot_fn extra, void *data)
{
        int r;

        s->snapshot_extra = extra;
        s->snapshot_data = data;
        if (port == 0)
                return;
        r = health_open(&s->health, &s->loop, port, health_snapshot, s);
        if (r < 0) {
                log_error("health.unavailable", LOG_INT("port", port), LOG_STR("error", strerror(-r)),
                          LOG_STR("meaning", "no health endpoint; the children run regardless"));
                return;
        }
        s->health_on = true;
        log_info("health.serving", LOG_INT("port", port));
}

void sup_start(struct sup *s)
{
        if (s->started || s->stopping)
                return;
        s->started = true;
        for (size_t i = 0; i < s->n_children; i++)
                child_spawn_now(s, &s->children[i]);
}

int sup_run(struct sup *s, bool start)
{
        char status[32];
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
        snprintf(status, sizeof status, "exiting %d", s->exit_code);
        notify_stopping(&s->notify, status);
        log_info("supervisor.exiting", LOG_INT("code", s->exit_code), LOG_INT("orphans_reaped", s->orphans_reaped));
        return s->exit_code;
}

void sup_close(struct sup *s)
{
        if (s->marathon_on)
                marathon_close(&s->marathon);
        s->marathon_on = false;
        if (s->http_on)
                http_close(&s->http);
        s->http_on = false;
        if (s->health_on)
                health_close(&s->health);
        s->health_on = false;
        for (size_t i = 0; i < s->n_children; i++) {
                struct child *c = &s->children[i];
                loop_remove(&s->loop, &c->exec_pipe);
                timer_close(&c->timer, &s->loop);
                crashloop_free(&c->crashes);
        }
        mailbox_close(&s->mailbox, &s->loop);
        notify_close(&s->notify, &s->loop);
        loop_remove(&s->loop, &s->signals);
        loop_close(&s->loop);
}
