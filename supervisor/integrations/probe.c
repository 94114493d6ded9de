/* probe: see probe.h. */
#include "integrations/probe.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/fmt.h"
#include "base/log.h"
#include "integrations/zk.h"

/* The leader node holds Java-serialised text; only its first bytes matter. */
#define PROBE_LEADER_MAX 4096

static void set_ready(struct probe *p, bool ready)
{
        if (ready == p->ready)
                return;
        p->ready = ready;
        log_info("probe.ready", LOG_STR("ready", ready ? "yes" : "no"), LOG_STR("url", p->url));
        if (p->changed)
                p->changed(p->data);
}

static void schedule(struct probe *p)
{
        if (!p->closed)
                timer_arm_ms(&p->timer, (uint64_t)p->timing.interval_ms);
}

static bool listed(const char *body, size_t len, const char *id)
{
        json_t *root = json_loadb(body, len, 0, NULL), *tms, *tm;
        bool found = false;
        size_t i;

        tms = json_object_get(root, "taskmanagers");
        json_array_foreach(tms, i, tm) {
                const char *tm_id = json_string_value(json_object_get(tm, "id"));
                if (tm_id && strcmp(tm_id, id) == 0)
                        found = true;
        }
        json_decref(root);
        return found;
}

static void on_leader(struct zk *zk, int rc, const char *data, size_t len, void *cbdata)
{
        struct probe *p = cbdata;
        const char *at;

        (void)zk;
        p->zk_busy = false;
        if (p->closed)
                return;
        /* The address is a serialised Java string: look for it, NUL bytes and all. */
        p->leads = rc == ZK_OK && (at = memmem(data, len < PROBE_LEADER_MAX ? len : PROBE_LEADER_MAX, p->t.rest_address,
                                              strlen(p->t.rest_address))) &&
                   (at + strlen(p->t.rest_address) == data + len ||
                    (at[strlen(p->t.rest_address)] < '0' || at[strlen(p->t.rest_address)] > '9'));
        set_ready(p, p->answered && p->leads);
}

static void on_answer(const struct http_response *resp, void *data)
{
        struct probe *p = data;

        p->call = NULL;
        if (resp->status == 0)
                p->failed++;
        else
                p->failed = 0;
        /* Once per streak: a probe that reaches nothing must not be silent,
         * nor fill the log. */
        if (resp->status == 0 && !p->told_unreachable)
                log_warn("probe.unreachable", LOG_STR("url", p->url), LOG_STR("error", resp->error ? resp->error : ""),
                         LOG_STR("meaning", "not ready until it answers; set SUPERVISOR_PROBE_URL if this is the wrong address"));
        else if (resp->status != 0 && p->told_unreachable)
                log_info("probe.reachable", LOG_STR("url", p->url), LOG_INT("status", resp->status));
        p->told_unreachable = resp->status == 0;
        if (p->t.kind == PROBE_TASKMANAGER)
                p->answered = resp->status == 200 && !resp->error && listed(resp->body, resp->len, p->t.resource_id);
        else
                p->answered = resp->status == 200 && !resp->error;
        log_debug("probe.answer", LOG_STR("url", p->url), LOG_INT("status", resp->status),
                  LOG_STR("error", resp->error ? resp->error : ""));
        if (p->answered && p->t.leader_path[0] && p->zk && !p->t.follow_leader) {
                if (!p->zk_busy && zk_get(p->zk, p->t.leader_path, on_leader, p) == 0)
                        p->zk_busy = true;
                if (!p->leads)
                        set_ready(p, false);
        } else {
                set_ready(p, p->answered && (p->t.leader_path[0] == '\0' || p->t.follow_leader || p->leads));
        }
        schedule(p);
}

static void ask(struct probe *p, const char *url)
{
        if (url != p->url && fmt(p->url, sizeof p->url, "%s", url) < 0) {
                schedule(p);
                return;
        }
        struct http_request req = { .method = "GET", .url = p->url, .timeout_ms = p->timing.timeout_ms };
        if (http_start(p->http, &req, on_answer, p, &p->call) < 0) {
                p->call = NULL;
                schedule(p);
        }
}

/* A TaskManager under HA asks the JobManager that leads now. */
static void on_tm_leader(struct zk *zk, int rc, const char *data, size_t len, void *cbdata)
{
        struct probe *p = cbdata;
        char leader[512];

        (void)zk;
        p->zk_busy = false;
        if (p->closed)
                return;
        if (rc != ZK_OK || probe_leader_url(data, len, leader, sizeof leader) < 0 ||
            fmt(p->url, sizeof p->url, "%s/taskmanagers", leader) < 0) {
                if (!p->told_no_leader)
                        log_warn("probe.no_leader", LOG_STR("znode", p->t.leader_path),
                                 LOG_STR("meaning", "no JobManager leads: not ready until one does"));
                p->told_no_leader = true;
                p->answered = false;
                set_ready(p, false);
                schedule(p);
                return;
        }
        if (p->told_no_leader)
                log_info("probe.leader", LOG_STR("url", p->url));
        p->told_no_leader = false;
        ask(p, p->url);
}

static void on_tick(struct timer *t)
{
        struct probe *p = container_of(t, struct probe, timer);
        int pid = p->pid_fn(p->data);

        if (pid != p->pid) {
                /* A new child (or none): its grace starts now, nothing is known yet. */
                p->pid = pid;
                p->since_ms = timer_now_ms();
                p->failed = 0;
                p->answered = p->leads = false;
                set_ready(p, false);
        }
        if (pid == 0 || p->call || (p->t.follow_leader && p->zk_busy)) {
                schedule(p);
                return;
        }
        if (p->t.follow_leader && p->zk && zk_get(p->zk, p->t.leader_path, on_tm_leader, p) == 0) {
                p->zk_busy = true;
                return;
        }
        /* No session now: the configured address is all there is. */
        ask(p, p->t.url);
}

int probe_open(struct probe *p, struct loop *l, struct http *http, struct zk *zk, const struct probe_timing *timing,
               probe_pid_fn pid_fn, probe_changed_fn changed, void *data)
{
        int r;

        *p = (struct probe){ .timing = *timing, .http = http, .zk = zk, .loop = l, .pid_fn = pid_fn, .changed = changed,
                             .data = data };
        timer_init(&p->timer, on_tick);
        if ((r = timer_open(&p->timer, l, on_tick)) < 0)
                return r;
        p->since_ms = timer_now_ms();
        return timer_arm_ms(&p->timer, 0);
}

void probe_set_targets(struct probe *p, const struct probe_targets *t)
{
        p->t = *t;
        if (t->leadership_unknown)
                log_warn("probe.leadership_unknown",
                         LOG_STR("message", "ZooKeeper HA in a quorum other than FLINK_ZK_QUORUM: ready means the REST answers"));
}

/* What the probe knows is about the child it last saw: a child started
 * since then is in its grace and not ready, until the next probe. */
static bool same_child(const struct probe *p)
{
        return p->pid != 0 && p->pid == p->pid_fn(p->data);
}

bool probe_alive(const struct probe *p, uint64_t now_ms)
{
        if (p->t.kind == PROBE_TASKMANAGER || !same_child(p) || now_ms - p->since_ms < (uint64_t)p->timing.grace_ms)
                return true;
        return p->failed < p->timing.failures;
}

bool probe_ready(const struct probe *p)
{
        return p->ready && same_child(p);
}

void probe_close(struct probe *p)
{
        p->closed = true;
        if (p->call)
                http_cancel(p->http, p->call);
        p->call = NULL;
        if (p->timer.src.fd >= 0)
                timer_close(&p->timer, p->loop);
}
