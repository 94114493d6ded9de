/* probe: see probe.h. */
#include "integrations/probe.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zookeeper/zookeeper.h>

#include "base/log.h"
#include "integrations/zk.h"

/* The leader node holds Java-serialised text; only its first bytes matter. */
#define PROBE_LEADER_MAX 4096

static const char *get_or(const struct conf *c, const char *key, const char *def)
{
        const char *v = conf_get(c, key);
        return v && *v ? v : def;
}

/* The first port of a value that may be a range ("8081-8090"). */
static long first_port(const char *value)
{
        char *end;
        long port = strtol(value, &end, 10);
        return port > 0 && port <= 65535 && (*end == '\0' || *end == '-' || *end == ',') ? port : -1;
}

static int base_url(const char *url_setting, const char *host, long port, char *out, size_t size, char *err, size_t errlen)
{
        if (!url_setting) {
                snprintf(out, size, "http://%s:%ld", host, port);
                return 0;
        }
        size_t len = strlen(url_setting);
        if ((strncmp(url_setting, "http://", 7) != 0 && strncmp(url_setting, "https://", 8) != 0) || len >= size - 64 ||
            strpbrk(url_setting, " \t\r\n")) {
                snprintf(err, errlen, "invalid SUPERVISOR_PROBE_URL=\"%.64s\": expected http(s)://host:port of Flink's REST", url_setting);
                return -EINVAL;
        }
        while (len > 0 && url_setting[len - 1] == '/')
                len--;
        snprintf(out, size, "%.*s", (int)len, url_setting);
        return 0;
}

/* Where Flink's ZooKeeper HA publishes the leading REST endpoint, as seen
 * through our session (which may be chrooted). */
static void leadership(const struct conf *c, const char *zk_hosts, const char *zk_chroot, long port, struct probe_targets *t)
{
        const char *ha = conf_get(c, "high-availability.type");
        const char *root = get_or(c, "high-availability.zookeeper.path.root", "/flink");
        const char *cluster = get_or(c, "high-availability.cluster-id", "/default");
        const char *quorum = conf_get(c, "high-availability.zookeeper.quorum");
        size_t chroot_len = zk_chroot ? strlen(zk_chroot) : 0;

        if (!ha || !*ha)
                ha = conf_get(c, "high-availability");
        if (!ha || strcasecmp(ha, "zookeeper") != 0)
                return;
        if (!zk_hosts || !quorum || strcmp(quorum, zk_hosts) != 0 ||
            (chroot_len && (strncmp(root, zk_chroot, chroot_len) != 0 || (root[chroot_len] && root[chroot_len] != '/')))) {
                t->leadership_unknown = true;
                return;
        }
        root += chroot_len;
        size_t root_len = strlen(root);
        while (root_len && root[root_len - 1] == '/')
                root_len--;
        while (*cluster == '/')
                cluster++;
        snprintf(t->leader_path, sizeof t->leader_path, "%s%.*s%s%s/leader/rest_server/connection_info",
                 root_len && root[0] != '/' ? "/" : "", (int)root_len, root, *cluster ? "/" : "", cluster);
        snprintf(t->rest_address, sizeof t->rest_address, "//%s:%ld",
                 get_or(c, "rest.address", get_or(c, "jobmanager.rpc.address", "localhost")), port);
}

int probe_targets(const struct conf *c, enum role role, const char *url_setting, const char *zk_hosts,
                  const char *zk_chroot, struct probe_targets *ret, char *err, size_t errlen)
{
        char base[512];
        long port;
        int r;

        *ret = (struct probe_targets){ .kind = role == ROLE_TASKMANAGER ? PROBE_TASKMANAGER : PROBE_REST };
        if (role == ROLE_TASKMANAGER) {
                port = first_port(get_or(c, "rest.port", "8081"));
                snprintf(ret->resource_id, sizeof ret->resource_id, "%s", get_or(c, "taskmanager.resource-id", ""));
                r = base_url(url_setting, get_or(c, "jobmanager.rpc.address", "localhost"), port, base, sizeof base, err, errlen);
                if (r == 0)
                        snprintf(ret->url, sizeof ret->url, "%s/taskmanagers", base);
                return r;
        }
        if (role == ROLE_HISTORY_SERVER)
                port = first_port(get_or(c, "historyserver.web.port", "8082"));
        else
                port = first_port(get_or(c, "rest.bind-port", get_or(c, "rest.port", "8081")));
        if (port < 0) {
                snprintf(err, errlen, "invalid REST port in the Flink configuration: expected a port number");
                return -EINVAL;
        }
        if ((r = base_url(url_setting, "127.0.0.1", port, base, sizeof base, err, errlen)) < 0)
                return r;
        snprintf(ret->url, sizeof ret->url, "%s/config", base);
        if (role != ROLE_HISTORY_SERVER)
                leadership(c, zk_hosts, zk_chroot, first_port(get_or(c, "rest.port", "8081")), ret);
        return 0;
}

static void set_ready(struct probe *p, bool ready)
{
        if (ready == p->ready)
                return;
        p->ready = ready;
        log_info("probe.ready", LOG_STR("ready", ready ? "yes" : "no"), LOG_STR("url", p->t.url));
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
        p->leads = rc == ZOK && (at = memmem(data, len < PROBE_LEADER_MAX ? len : PROBE_LEADER_MAX, p->t.rest_address,
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
        if (p->t.kind == PROBE_TASKMANAGER)
                p->answered = resp->status == 200 && !resp->error && listed(resp->body, resp->len, p->t.resource_id);
        else
                p->answered = resp->status == 200 && !resp->error;
        log_debug("probe.answer", LOG_STR("url", p->t.url), LOG_INT("status", resp->status),
                  LOG_STR("error", resp->error ? resp->error : ""));
        if (p->answered && p->t.leader_path[0] && p->zk) {
                if (!p->zk_busy && zk_get(p->zk, p->t.leader_path, on_leader, p) == 0)
                        p->zk_busy = true;
                if (!p->leads)
                        set_ready(p, false);
        } else {
                set_ready(p, p->answered && (p->t.leader_path[0] == '\0' || p->leads));
        }
        schedule(p);
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
        if (pid == 0 || p->call) {
                schedule(p);
                return;
        }
        struct http_request req = { .method = "GET", .url = p->t.url, .timeout_ms = p->timing.timeout_ms };
        if (http_start(p->http, &req, on_answer, p, &p->call) < 0) {
                p->call = NULL;
                schedule(p);
        }
}

int probe_open(struct probe *p, struct loop *l, struct http *http, struct zk *zk, const struct probe_timing *timing,
               probe_pid_fn pid_fn, probe_changed_fn changed, void *data)
{
        int r;

        *p = (struct probe){ .timing = *timing, .http = http, .zk = zk, .loop = l, .pid_fn = pid_fn, .changed = changed,
                             .data = data, .timer = { .src = { .fd = -1 } } };
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
