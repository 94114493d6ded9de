/* runner: see runner.h. */
#include "app/runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/conf.h"
#include "config/confyaml.h"
#include "config/flinkconf.h"
#include "flink/flinkhome.h"
#include "integrations/health.h"
#include "base/secret.h"
#include "flink/launch.h"
#include "base/log.h"
#include "integrations/probe.h"
#include "core/supervisor.h"
#include "core/timer.h"
#include "flink/user.h"
#include "integrations/zk.h"
#include "integrations/zkcache.h"
#include "config/zkquorum.h"

/* Changes arriving within this much of each other are applied once. */
#define RUNNER_DEBOUNCE_MS 1000
/* With a last good config on disk, ZooKeeper gets this long at start. */
#define RUNNER_CACHED_WAIT_MS 5000

struct runner {
        const struct settings *set;
        struct cli *cli;
        enum role role;
        struct flinkhome fh;
        struct flinkconf_input in;
        char hostname[256];
        struct sup sup;
        bool sup_ready;           /* sup_init ran: sup_close is due */
        struct launch plan;
        struct child_creds creds;
        bool have_creds;
        char dir[512];
        bool own_dir;
        struct conf running;      /* the configuration the children run with */
        int code;                 /* exit code decided before the loop, -1 none */
        /* ZooKeeper */
        bool use_zk;
        struct zkquorum quorum;
        char base_path[512], role_path[600], auth[512], origin[2048], cache_file[1100];
        struct zk zk;
        struct timer deadline, debounce;
        struct zk_doc good[2];    /* last good documents */
        bool have_good;
        struct zk_doc next[2];    /* valid documents waiting for the debounce */
        bool zk_error;            /* the last read was refused */
        bool zk_connected;
        bool missing_told[2];     /* a missing znode is logged once, until it exists */
        uint64_t rejections, changes;
        uint16_t health_port;
        /* Flink-aware probes */
        char resource_id[300];    /* a TaskManager's, when the config names none */
        struct probe probe;
        bool probing;
};

static void new_resource_id(struct runner *r)
{
        uint32_t id;

        if (getrandom(&id, sizeof id, GRND_NONBLOCK) != sizeof id)
                id = (uint32_t)(timer_now_ms() ^ (uint64_t)getpid());
        snprintf(r->resource_id, sizeof r->resource_id, "%.250s-%08x", r->hostname, id);
}

static void config_warning(const char *message, void *data)
{
        (void)data;
        log_warn("config.warning", LOG_STR("message", message));
}

/* The container's memory limit from cgroup v2, else v1; 0 when unlimited. */
static uint64_t cgroup_memory_limit_mb(void)
{
        static const char *const files[] = { "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes" };
        for (size_t i = 0; i < 2; i++) {
                FILE *f = fopen(files[i], "re");
                unsigned long long bytes;
                int n;
                if (!f)
                        continue;
                n = fscanf(f, "%llu", &bytes);
                fclose(f);
                /* "max", or v1's "no limit" of nearly 2^63. */
                if (n == 1 && bytes < (1ull << 50))
                        return bytes >> 20;
                return 0;
        }
        return 0;
}

/* What the probe asks, for configuration c. */
static int targets(struct runner *r, const struct conf *c, struct probe_targets *ret, char *err, size_t errlen)
{
        return probe_targets(c, r->role, r->set->probe_url, r->use_zk ? r->quorum.hosts : NULL,
                             r->use_zk ? r->quorum.chroot : NULL, ret, err, errlen);
}

/* The effective configuration with the given ZooKeeper documents (NULL:
 * none). Returns 0, or -EINVAL with the reason in err. */
static int build(struct runner *r, const struct zk_doc *docs, struct conf *out, char *err, size_t errlen)
{
        r->in.zk_text = docs && docs[0].exists ? docs[0].text : NULL;
        r->in.zk_len = docs ? docs[0].len : 0;
        r->in.zk_role_text = docs && docs[1].exists ? docs[1].text : NULL;
        r->in.zk_role_len = docs ? docs[1].len : 0;
        conf_init(out);
        int rc = flinkconf_build(out, &r->in, config_warning, NULL, err, errlen);
        /* The readiness probe finds a TaskManager by its resource id: it must be known. */
        if (rc == 0 && r->role == ROLE_TASKMANAGER && !conf_get(out, "taskmanager.resource-id"))
                rc = conf_set(out, "taskmanager.resource-id", r->resource_id, CONF_SRC_DEFAULT);
        struct probe_targets t;
        if (rc == 0)
                rc = targets(r, out, &t, err, errlen);
        if (rc < 0)
                conf_free(out);
        return rc;
}

static int render(const struct conf *c, char **ret)
{
        size_t len;
        return confyaml_render(c, 0, ret, &len);
}

/* Writes c for Flink and remembers it as what runs. */
static int apply(struct runner *r, const struct conf *c)
{
        struct probe_targets t;
        char err[768];

        if (flinkhome_write_conf_dir(&r->fh, c, err, sizeof err) < 0) {
                log_error("config.write_failed", LOG_STR("error", err));
                return -EIO;
        }
        conf_free(&r->running);
        if (conf_copy(&r->running, c) < 0)
                return -ENOMEM;
        if (r->probing && targets(r, c, &t, err, sizeof err) == 0)
                probe_set_targets(&r->probe, &t);
        log_info("config.written", LOG_STR("dir", r->dir), LOG_INT("keys", c->n), LOG_STR("role", role_name(r->role)),
                 LOG_INT("flink_major", r->fh.major), LOG_INT("flink_minor", r->fh.minor));
        return 0;
}

/* For --print-config and --check, which read ZooKeeper too. */
static int report(struct runner *r, const struct conf *c)
{
        char *text;
        size_t len;

        if (r->cli->action == CLI_CHECK) {
                printf("flink-supervisor: configuration ok\n");
                return 0;
        }
        if (confyaml_render(c, CONFYAML_MASK | CONFYAML_PROVENANCE, &text, &len) < 0)
                return EXIT_SUPERVISOR_FAILED;
        fwrite(text, 1, len, stdout);
        fflush(stdout);
        free(text);
        return 0;
}

/* The first configuration: report it, or write it and start the children. */
static void first(struct runner *r, const struct conf *c)
{
        if (r->cli->action == CLI_PRINT_CONFIG || r->cli->action == CLI_CHECK) {
                sup_finish(&r->sup, report(r, c));
                return;
        }
        if (apply(r, c) < 0) {
                sup_finish(&r->sup, EXIT_SUPERVISOR_FAILED);
                return;
        }
        sup_start(&r->sup);
}

static void start_from_cache(struct runner *r, const char *why)
{
        struct conf c;
        char err[768];

        if (build(r, r->good, &c, err, sizeof err) < 0) {
                log_error("zk.cache_invalid", LOG_STR("file", r->cache_file), LOG_STR("error", err));
                sup_finish(&r->sup, EXIT_USAGE);
                return;
        }
        log_warn("zk.using_cache", LOG_STR("reason", why), LOG_STR("file", r->cache_file),
                 LOG_INT("version", r->good[0].version), LOG_INT("role_version", r->good[1].version));
        first(r, &c);
        conf_free(&c);
}

static void keep_good(struct runner *r, const struct zk_doc *docs)
{
        int rc;

        for (int i = 0; i < 2; i++)
                zkcache_doc_copy(&r->good[i], &docs[i]);
        r->have_good = true;
        if (r->cache_file[0] && (rc = zkcache_save(r->cache_file, r->origin, &docs[0], &docs[1])) < 0)
                log_warn("zk.cache_write_failed", LOG_STR("file", r->cache_file), LOG_STR("error", strerror(-rc)));
}

static void on_docs(struct zk *zk, const struct zk_doc *base, const struct zk_doc *role, void *data)
{
        struct runner *r = data;
        const struct zk_doc docs[2] = { *base, *role };
        struct conf c;
        char err[768];

        (void)zk;
        r->zk_error = false;
        if (build(r, docs, &c, err, sizeof err) < 0) {
                r->rejections++;
                log_error("zk.document_rejected", LOG_STR("error", err), LOG_INT("version", base->version),
                          LOG_INT("role_version", role->version),
                          LOG_STR("kept", r->have_good ? "the last good configuration" : "nothing"));
                if (!r->sup.started && !r->have_good)
                        sup_finish(&r->sup, EXIT_USAGE);
                else if (!r->sup.started)
                        start_from_cache(r, "invalid document");
                return;
        }
        for (int i = 0; i < 2; i++) {
                if (!docs[i].exists && !r->missing_told[i])
                        log_info("zk.document_missing", LOG_STR("znode", r->zk.paths[i]),
                                 LOG_STR("meaning", "an empty document"));
                r->missing_told[i] = !docs[i].exists;
        }
        log_info("zk.document_read", LOG_INT("version", base->version), LOG_INT("role_version", role->version),
                 LOG_INT("keys", c.n));
        keep_good(r, docs);
        if (!r->sup.started) {
                timer_disarm(&r->deadline);
                first(r, &c);
                conf_free(&c);
                return;
        }
        conf_free(&c);
        /* Bursts of writes are applied once, after they settle. */
        for (int i = 0; i < 2; i++)
                zkcache_doc_copy(&r->next[i], &docs[i]);
        timer_arm_ms(&r->debounce, RUNNER_DEBOUNCE_MS);
}

static void on_debounce(struct timer *t)
{
        struct runner *r = container_of(t, struct runner, debounce);
        struct conf c;
        char err[768], *text = NULL, *running = NULL;

        if (build(r, r->next, &c, err, sizeof err) < 0) {
                r->rejections++;
                log_error("zk.document_rejected", LOG_STR("error", err));
                return;
        }
        if (render(&c, &text) < 0 || render(&r->running, &running) < 0) {
                free(text);
                conf_free(&c);
                return;
        }
        if (strcmp(text, running) == 0) {
                log_info("zk.unchanged", LOG_STR("meaning", "the effective configuration is the same"));
        } else if (r->set->zk_on_change == ZK_ON_CHANGE_IGNORE) {
                log_warn("zk.change_ignored", LOG_STR("setting", "FLINK_ZK_ON_CHANGE=ignore"));
        } else if (apply(r, &c) == 0) {
                r->changes++;
                log_info("zk.change_applied", LOG_STR("action", "rolling restart"));
                sup_rolling_restart(&r->sup);
        }
        free(text);
        free(running);
        conf_free(&c);
}

static void on_failed(struct zk *zk, const char *path, int rc, void *data)
{
        struct runner *r = data;

        (void)zk;
        if (r->zk_error)
                return;
        r->zk_error = true;
        log_error("zk.read_refused", LOG_STR("znode", path), LOG_STR("error", zerror(rc)),
                  LOG_STR("expected", "FLINK_ZK_AUTH with the right digest credentials"));
        if (!r->sup.started && !r->have_good)
                sup_finish(&r->sup, EXIT_USAGE);
        else if (!r->sup.started)
                start_from_cache(r, "read refused");
}

static void on_session(struct zk *zk, const char *what, void *data)
{
        struct runner *r = data;

        (void)zk;
        r->zk_connected = strcmp(what, "connected") == 0;
        log_info("zk.session", LOG_STR("state", what));
}

static void snapshot_zk(struct report_snapshot *out, void *data)
{
        struct runner *r = data;

        out->zk_enabled = r->use_zk;
        out->zk_connected = r->zk_connected;
        out->config_rejections = r->rejections;
        out->config_changes_applied = r->changes;
        if (r->probing) {
                out->healthy = out->healthy && probe_alive(&r->probe, timer_now_ms());
                out->ready = out->ready && probe_ready(&r->probe);
        }
}

/* A TaskManager whose id the supervisor made up gets a new one for every
 * JVM, as Flink's own ids are: the JobManager keeps a dead JVM's entry
 * until its heartbeat times out, and readiness must wait for the new one. */
static void before_spawn(struct sup *s, struct child *c, void *data)
{
        struct runner *r = data;
        const struct conf_entry *e = conf_find(&r->running, "taskmanager.resource-id");
        struct conf next;

        (void)s;
        if (c->starts == 0 || !e || e->source != CONF_SRC_DEFAULT)
                return;
        new_resource_id(r);
        if (conf_copy(&next, &r->running) < 0)
                return;
        if (conf_set(&next, "taskmanager.resource-id", r->resource_id, CONF_SRC_DEFAULT) == 0)
                apply(r, &next);
        conf_free(&next);
}

/* The probe follows the first child: Flink's JVM for every role. */
static int first_child_pid(void *data)
{
        struct runner *r = data;
        return r->sup.n_children && r->sup.children[0].state == CHILD_RUNNING ? (int)r->sup.children[0].pid : 0;
}

static void on_probe_changed(void *data)
{
        struct runner *r = data;
        bool ready = probe_ready(&r->probe);

        sup_set_ready(&r->sup, ready, ready ? "Flink ready" : "Flink not ready");
}

static int probe_start(struct runner *r)
{
        const struct probe_timing timing = {
                .interval_ms = r->set->probe_interval_s * 1000, .timeout_ms = r->set->probe_timeout_s * 1000,
                .grace_ms = r->set->probe_grace_s * 1000, .failures = r->set->probe_failures,
        };
        struct http *http = sup_http(&r->sup);
        int rc;

        if (!http) {
                log_error("probe.unavailable", LOG_STR("error", "no libcurl"),
                          LOG_STR("meaning", "/ready and /health follow the children only"));
                return 0;
        }
        if ((rc = probe_open(&r->probe, &r->sup.loop, http, r->use_zk ? &r->zk : NULL, &timing, first_child_pid,
                             on_probe_changed, r)) < 0)
                return rc;
        r->probing = true;
        r->sup.ready_by_owner = true;
        /* With ZooKeeper nothing runs yet: the first apply sets the targets. */
        struct probe_targets t;
        char err[768];
        if (r->running.n && targets(r, &r->running, &t, err, sizeof err) == 0)
                probe_set_targets(&r->probe, &t);
        return 0;
}

static const struct zk_ops runner_zk_ops = { .docs = on_docs, .failed = on_failed, .session = on_session };

static void on_deadline(struct timer *t)
{
        struct runner *r = container_of(t, struct runner, deadline);

        if (r->sup.started || r->sup.stopping)
                return;
        if (r->have_good) {
                start_from_cache(r, "ZooKeeper unreachable");
                return;
        }
        log_error("zk.unreachable", LOG_STR("quorum", r->quorum.hosts), LOG_INT("timeout_s", r->set->zk_timeout_s),
                  LOG_INT("exit", EXIT_NO_CONFIG));
        sup_finish(&r->sup, EXIT_NO_CONFIG);
}

static int read_auth(struct runner *r, char *err, size_t errlen)
{
        if (!r->set->zk_auth)
                return 0;
        return zkquorum_load_auth(r->set->zk_auth, r->auth, sizeof r->auth, err, errlen);
}

/* Everything about ZooKeeper that can be wrong is found before start. */
static int zk_prepare(struct runner *r, char *err, size_t errlen)
{
        const char *path = r->set->zk_path ? r->set->zk_path : "/flink/config";
        const char *dir = r->set->zk_cache_dir ? r->set->zk_cache_dir : "/var/cache/flink-supervisor";
        int rc;

        if ((rc = zkquorum_parse(r->set->zk_quorum, &r->quorum, err, errlen)) < 0 ||
            (rc = zkquorum_check_path("FLINK_ZK_CONFIG_PATH", path, err, errlen)) < 0 || (rc = read_auth(r, err, errlen)) < 0)
                return rc;
        snprintf(r->base_path, sizeof r->base_path, "%s", path);
        snprintf(r->role_path, sizeof r->role_path, "%s/%s", path, role_name(r->role));
        snprintf(r->origin, sizeof r->origin, "%s%s %s %s", r->quorum.hosts, r->quorum.chroot, r->base_path, r->role_path);
        r->in.zk_name = r->base_path;
        r->in.zk_role_name = r->role_path;
        r->in.zk_hosts = r->quorum.hosts;
        r->in.zk_chroot = r->quorum.chroot;
        if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
                log_warn("zk.cache_unavailable", LOG_STR("dir", dir), LOG_STR("error", strerror(errno)));
        } else {
                snprintf(r->cache_file, sizeof r->cache_file, "%s/zk-config-%s.cache", dir, role_name(r->role));
                r->have_good = zkcache_load(r->cache_file, r->origin, &r->good[0], &r->good[1]) == 0;
        }
        return 0;
}

static int zk_start(struct runner *r)
{
        char connect[1600];
        int rc;

        snprintf(connect, sizeof connect, "%s%s", r->quorum.hosts, r->quorum.chroot);
        if ((rc = timer_open(&r->deadline, &r->sup.loop, on_deadline)) < 0 ||
            (rc = timer_open(&r->debounce, &r->sup.loop, on_debounce)) < 0)
                return rc;
        uint64_t wait_ms = (uint64_t)r->set->zk_timeout_s * 1000u;
        if (r->have_good && wait_ms > RUNNER_CACHED_WAIT_MS)
                wait_ms = RUNNER_CACHED_WAIT_MS;
        timer_arm_ms(&r->deadline, wait_ms);
        /* The session timeout bounds how long a partition goes unnoticed. */
        return zk_open(&r->zk, &r->sup.mailbox, connect, r->base_path, r->role_path, r->auth,
                       (int)(r->set->zk_timeout_s > 10 ? 10000 : r->set->zk_timeout_s * 1000), &runner_zk_ops, r);
}

static int prepare(struct runner *r, char *err, size_t errlen)
{
        const char *home = getenv("FLINK_HOME");
        int rc;

        rc = flinkhome_open(&r->fh, home && *home ? home : "/opt/flink", err, errlen);
        if (rc < 0)
                return rc;
        gethostname(r->hostname, sizeof r->hostname - 1);
        r->in.role = r->role;
        r->in.file_name = r->fh.conf_path;
        r->in.file_text = r->fh.conf_text;
        r->in.file_len = r->fh.conf_len;
        r->in.file_legacy = r->fh.conf_legacy;
        r->in.jm_rpc_address = getenv("JOB_MANAGER_RPC_ADDRESS");
        r->in.properties = getenv("FLINK_PROPERTIES");
        r->in.defines = r->cli->defines;
        r->in.n_defines = r->cli->n_defines;
        r->in.mesos = (struct mesos_env){ .envp = environ, .hostname = r->hostname,
                                          .cgroup_limit_mb = cgroup_memory_limit_mb() };
        r->use_zk = r->set->zk_quorum != NULL;
        new_resource_id(r);
        if (r->use_zk && (rc = zk_prepare(r, err, errlen)) < 0)
                return rc;
        if ((rc = health_port(r->set->health_port, environ, r->hostname, &r->health_port, err, errlen)) < 0)
                return rc;
        rc = user_resolve(r->set->user, &r->creds, err, (unsigned)errlen);
        if (rc < 0)
                return rc;
        r->have_creds = rc == 1;
        return flinkhome_check_conf_dir(r->set->conf_dir, err, errlen);
}

static int start_runtime(struct runner *r, char *err, size_t errlen)
{
        int rc;

        if (r->have_creds &&
            (rc = flinkhome_prepare_log_dir(&r->fh, getenv("FLINK_LOG_DIR"), r->creds.uid, r->creds.gid, err, errlen)) < 0)
                return rc;
        if (!r->have_creds && geteuid() == 0)
                log_warn("user.root", LOG_STR("message", "no user \"flink\": Flink runs as root; set SUPERVISOR_USER"));
        if ((rc = flinkhome_open_conf_dir(&r->fh, r->set->conf_dir, r->have_creds ? r->creds.gid : (gid_t)-1, err,
                                          errlen)) < 0)
                return rc;
        r->own_dir = !r->set->conf_dir;
        snprintf(r->dir, sizeof r->dir, "%s", r->fh.conf_dir);
        rc = launch_plan(&r->plan, r->role, &r->fh, r->cli->role_args, r->cli->n_role_args, environ, r->dir);
        if (rc < 0)
                snprintf(err, errlen, "cannot plan the children of %s: %s", role_name(r->role), strerror(-rc));
        return rc;
}

/* Without ZooKeeper the children start at once; with it they wait for
 * the first valid configuration. */
static int supervise(struct runner *r)
{
        int rc = sup_init(&r->sup, r->set);

        r->sup_ready = true;
        r->sup.before_spawn = before_spawn;
        r->sup.before_spawn_data = r;
        for (size_t i = 0; rc >= 0 && i < r->plan.n; i++)
                rc = sup_add_child(&r->sup, r->plan.names[i], r->plan.argv[i], r->plan.envp,
                                   r->have_creds ? &r->creds : NULL);
        if (rc >= 0 && r->use_zk)
                rc = zk_start(r);
        if (rc >= 0 && r->cli->action == CLI_RUN) {
                /* Readiness is Flink's, no longer just "the children run". */
                sup_serve_health(&r->sup, r->health_port, snapshot_zk, r);
                rc = probe_start(r);
                if (rc >= 0)
                        sup_register(&r->sup);
        }
        if (rc < 0) {
                log_error("supervisor.setup_failed", LOG_STR("error", strerror(-rc)));
                return EXIT_SUPERVISOR_FAILED;
        }
        return sup_run(&r->sup, !r->use_zk);
}

int runner_run(const struct settings *set, struct cli *cli, enum role role)
{
        struct runner *r = calloc(1, sizeof *r);
        struct conf local;
        char err[768];
        int code = EXIT_USAGE;

        if (!r)
                return EXIT_SUPERVISOR_FAILED;
        r->set = set;
        r->cli = cli;
        r->role = role;
        r->deadline.src.fd = r->debounce.src.fd = -1;
        for (int i = 0; i < 2; i++)
                r->good[i].version = r->next[i].version = -1;
        /* The layers without ZooKeeper are checked before anything starts,
         * also when ZooKeeper comes later: they must be valid on their own. */
        if (prepare(r, err, sizeof err) < 0 || build(r, NULL, &local, err, sizeof err) < 0) {
                fprintf(stderr, "flink-supervisor: %s\n", err);
                goto out;
        }
        if (!r->use_zk && cli->action != CLI_RUN) {
                code = report(r, &local);
                conf_free(&local);
                goto out;
        }
        if (cli->action == CLI_RUN && start_runtime(r, err, sizeof err) < 0) {
                conf_free(&local);
                log_error("config.prepare_failed", LOG_STR("error", err));
                code = EXIT_SUPERVISOR_FAILED;
                goto out;
        }
        if (!r->use_zk && apply(r, &local) < 0) {
                conf_free(&local);
                code = EXIT_SUPERVISOR_FAILED;
                goto out;
        }
        conf_free(&local);
        code = supervise(r);
out:
        /* The library's threads end here: no message is posted after it. */
        if (r->probing)
                probe_close(&r->probe);
        if (r->zk.zh)
                zk_close(&r->zk);
        if (r->sup_ready) {
                timer_close(&r->deadline, &r->sup.loop);
                timer_close(&r->debounce, &r->sup.loop);
                sup_close(&r->sup);
        }
        if (r->own_dir)
                flinkhome_remove_conf_dir(r->dir);
        for (int i = 0; i < 2; i++) {
                zkcache_doc_free(&r->good[i]);
                zkcache_doc_free(&r->next[i]);
        }
        secret_wipe(r->auth, sizeof r->auth);
        conf_free(&r->running);
        launch_free(&r->plan);
        flinkhome_close(&r->fh);
        free(r);
        return code;
}
