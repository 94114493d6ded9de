/* zksource: see zksource.h. */
#include "app/zksource.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/exitcode.h"
#include "base/fmt.h"
#include "base/log.h"
#include "base/secret.h"
#include "integrations/zkcache.h"

/* Changes arriving within this much of each other are applied once. */
#define ZKSOURCE_DEBOUNCE_MS 1000
/* With a last good config on disk, ZooKeeper gets this long at start. */
#define ZKSOURCE_CACHED_WAIT_MS 5000

static int build(struct zksource *z, const struct zk_doc *docs, struct conf *out, char *err, size_t errlen)
{
        return z->ops->build(docs, out, err, errlen, z->data);
}

static void deliver_first(struct zksource *z, const struct conf *c)
{
        z->delivered = true;
        timer_disarm(&z->deadline);
        z->ops->first(c, z->data);
}

static void start_from_cache(struct zksource *z, const char *why)
{
        struct conf c;
        char err[768], when[32];
        struct tm tm;

        if (build(z, z->good, &c, err, sizeof err) < 0) {
                log_error("zk.cache_invalid", LOG_STR("file", z->cache_file), LOG_STR("error", err));
                z->ops->fail(EXIT_USAGE, z->data);
                return;
        }
        log_warn("zk.using_cache", LOG_STR("reason", why), LOG_STR("file", z->cache_file),
                 LOG_INT("version", z->good[0].version), LOG_INT("role_version", z->good[1].version));
        if (!gmtime_r(&z->good_saved_at, &tm) || !strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
                snprintf(when, sizeof when, "unknown time");
        snprintf(c.zk_note, sizeof c.zk_note, "cache of %s, version %d", when, z->good[0].version);
        deliver_first(z, &c);
        conf_free(&c);
}

/* Nothing valid came from ZooKeeper before the start: the cache, or the end. */
static void no_first(struct zksource *z, const char *why)
{
        if (z->have_good && !z->report_only)
                start_from_cache(z, why);
        else
                z->ops->fail(EXIT_USAGE, z->data);
}

static void keep_good(struct zksource *z, const struct zk_doc *docs)
{
        int rc;

        for (int i = 0; i < 2; i++)
                zkcache_doc_copy(&z->good[i], &docs[i]);
        z->have_good = true;
        if (z->cache_file[0] && (rc = zkcache_save(z->cache_file, z->origin, &docs[0], &docs[1])) < 0)
                log_warn("zk.cache_write_failed", LOG_STR("file", z->cache_file), LOG_STR("error", strerror(-rc)));
}

static void on_docs(struct zk *zk, const struct zk_doc *base, const struct zk_doc *role, void *data)
{
        struct zksource *z = data;
        const struct zk_doc docs[2] = { *base, *role };
        struct conf c;
        char err[768];

        (void)zk;
        z->zk_error = false;
        if (build(z, docs, &c, err, sizeof err) < 0) {
                z->rejections++;
                log_error("zk.document_rejected", LOG_STR("error", err), LOG_INT("version", base->version),
                          LOG_INT("role_version", role->version),
                          LOG_STR("kept", z->have_good && !z->report_only ? "the last good configuration" : "nothing"));
                if (!z->delivered)
                        no_first(z, "invalid document");
                return;
        }
        for (int i = 0; i < 2; i++) {
                if (!docs[i].exists && !z->missing_told[i])
                        log_info("zk.document_missing", LOG_STR("znode", z->zk.paths[i]),
                                 LOG_STR("meaning", "an empty document"));
                z->missing_told[i] = !docs[i].exists;
        }
        log_info("zk.document_read", LOG_INT("version", base->version), LOG_INT("role_version", role->version),
                 LOG_INT("keys", c.n));
        keep_good(z, docs);
        if (!z->delivered) {
                deliver_first(z, &c);
                conf_free(&c);
                return;
        }
        conf_free(&c);
        /* Bursts of writes are applied once, after they settle. */
        for (int i = 0; i < 2; i++)
                zkcache_doc_copy(&z->next[i], &docs[i]);
        timer_arm_ms(&z->debounce, ZKSOURCE_DEBOUNCE_MS);
}

static void on_debounce(struct timer *t)
{
        struct zksource *z = container_of(t, struct zksource, debounce);
        struct conf c;
        char err[768];

        if (build(z, z->next, &c, err, sizeof err) < 0) {
                z->rejections++;
                log_error("zk.document_rejected", LOG_STR("error", err));
                return;
        }
        z->ops->change(&c, z->data);
        conf_free(&c);
}

static void on_failed(struct zk *zk, const char *path, int rc, void *data)
{
        struct zksource *z = data;

        (void)zk;
        if (z->zk_error)
                return;
        z->zk_error = true;
        log_error("zk.read_refused", LOG_STR("znode", path), LOG_STR("error", zk_strerror(rc)),
                  LOG_STR("expected", "FLINK_ZK_AUTH with the right digest credentials"));
        if (!z->delivered)
                no_first(z, "read refused");
}

static void on_session(struct zk *zk, const char *what, void *data)
{
        struct zksource *z = data;

        (void)zk;
        z->connected = strcmp(what, "connected") == 0;
        log_info("zk.session", LOG_STR("state", what));
}

static void on_deadline(struct timer *t)
{
        struct zksource *z = container_of(t, struct zksource, deadline);

        if (z->delivered)
                return;
        if (z->have_good) {
                start_from_cache(z, "ZooKeeper unreachable");
                return;
        }
        log_error("zk.unreachable", LOG_STR("quorum", z->quorum.hosts), LOG_INT("timeout_s", z->set->zk_timeout_s),
                  LOG_INT("exit", EXIT_NO_CONFIG));
        z->ops->fail(EXIT_NO_CONFIG, z->data);
}

static int read_auth(struct zksource *z, char *err, size_t errlen)
{
        if (!z->set->zk_auth)
                return 0;
        return zkquorum_load_auth(z->set->zk_auth, z->auth, sizeof z->auth, err, errlen);
}

int zksource_prepare(struct zksource *z, const struct settings *set, enum role role, bool report_only, char *err,
                     size_t errlen)
{
        const char *path = set->zk_path ? set->zk_path : ZKQUORUM_DEFAULT_PATH;
        const char *cache_dir = set->zk_cache_dir ? set->zk_cache_dir : ZKQUORUM_DEFAULT_CACHE_DIR;
        char dir[900];
        int rc;

        *z = (struct zksource){ .set = set, .role = role, .report_only = report_only };
        timer_init(&z->deadline, on_deadline);
        timer_init(&z->debounce, on_debounce);
        /* Absolute: the cache is written again after the supervisor left
         * its start directory. */
        if (fmt_absolute(dir, sizeof dir, cache_dir) < 0) {
                snprintf(err, errlen, "invalid FLINK_ZK_CACHE_DIR=\"%.64s...\": expected a path of at most %zu bytes",
                         cache_dir, sizeof dir - 1);
                return -ENAMETOOLONG;
        }
        for (int i = 0; i < 2; i++)
                z->good[i].version = z->next[i].version = -1;
        if ((rc = zkquorum_parse(set->zk_quorum, &z->quorum, err, errlen)) < 0 ||
            (rc = zkquorum_check_path("FLINK_ZK_CONFIG_PATH", path, err, errlen)) < 0 ||
            (rc = read_auth(z, err, errlen)) < 0)
                return rc;
        if (fmt(z->base_path, sizeof z->base_path, "%s", path) < 0 ||
            fmt(z->role_path, sizeof z->role_path, "%s/%s", path, role_name(role)) < 0 ||
            fmt(z->origin, sizeof z->origin, "%s%s %s %s", z->quorum.hosts, z->quorum.chroot, z->base_path,
                z->role_path) < 0) {
                snprintf(err, errlen, "FLINK_ZK_QUORUM and FLINK_ZK_CONFIG_PATH are too long together: expected shorter names");
                return -ENAMETOOLONG;
        }
        if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
                log_warn("zk.cache_unavailable", LOG_STR("dir", dir), LOG_STR("error", strerror(errno)));
        } else if (fmt(z->cache_file, sizeof z->cache_file, "%s/zk-config-%s.cache", dir, role_name(role)) < 0) {
                snprintf(err, errlen, "FLINK_ZK_CACHE_DIR=%.64s... is too long: expected a path under %zu bytes", dir,
                         sizeof z->cache_file - 32);
                return -ENAMETOOLONG;
        } else {
                z->have_good = zkcache_load(z->cache_file, z->origin, &z->good[0], &z->good[1], &z->good_saved_at) == 0;
        }
        return 0;
}

int zksource_start(struct zksource *z, struct loop *l, struct mailbox *mb, const struct zksource_ops *ops, void *data)
{
        static const struct zk_ops zk_ops = { .docs = on_docs, .failed = on_failed, .session = on_session };
        char connect[1600];
        uint64_t wait_ms = (uint64_t)z->set->zk_timeout_s * 1000u;
        int rc;

        z->ops = ops;
        z->data = data;
        if ((rc = fmt(connect, sizeof connect, "%s%s", z->quorum.hosts, z->quorum.chroot)) < 0)
                return rc;
        if ((rc = timer_open(&z->deadline, l, on_deadline)) < 0 || (rc = timer_open(&z->debounce, l, on_debounce)) < 0)
                return rc;
        if (z->have_good && wait_ms > ZKSOURCE_CACHED_WAIT_MS)
                wait_ms = ZKSOURCE_CACHED_WAIT_MS;
        timer_arm_ms(&z->deadline, wait_ms);
        return zk_open(&z->zk, mb, connect, z->base_path, z->role_path, z->auth,
                       zkquorum_session_ms(z->set->zk_timeout_s), &zk_ops, z);
}

void zksource_close(struct zksource *z, struct loop *l)
{
        /* Safe also when zk_open never ran: the struct is zeroed. */
        zk_close(&z->zk);
        timer_close(&z->deadline, l);
        timer_close(&z->debounce, l);
        for (int i = 0; i < 2; i++) {
                zkcache_doc_free(&z->good[i]);
                zkcache_doc_free(&z->next[i]);
        }
        secret_wipe(z->auth, sizeof z->auth);
}
