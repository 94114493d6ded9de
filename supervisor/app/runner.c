/* runner: see runner.h. */
#include "app/runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/appmaster.h"
#include "app/service.h"
#include "app/zksource.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "config/amconf.h"
#include "config/conf.h"
#include "config/confyaml.h"
#include "config/flinkconf.h"
#include "flink/flinkhome.h"
#include "flink/launch.h"
#include "flink/probetarget.h"
#include "flink/user.h"
#include "integrations/health.h"

struct runner {
        const struct settings *set;
        struct cli *cli;
        enum role role;
        const struct child_start *start;
        struct flinkhome fh;
        struct flinkconf_input in;
        char hostname[256];
        struct service svc;
        bool svc_open;            /* service_open ran: service_close is due */
        struct launch plan;
        struct child_creds creds;
        bool have_creds;
        bool own_dir;
        struct conf running;      /* the configuration the children run with */
        bool use_zk;
        struct zksource zs;
        uint64_t changes;
        uint16_t health_port;
        char resource_id[300];    /* a TaskManager's, when the config names none */
        struct appmaster am;
        bool am_due;              /* the appmaster starts with the first configuration applied */
        bool am_on;
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
        return probe_targets(c, r->role, r->set->probe_url, r->use_zk ? r->zs.quorum.hosts : NULL,
                             r->use_zk ? r->zs.quorum.chroot : NULL, ret, err, errlen);
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
        /* A job cluster's JobManager outlives its job: Marathon would start
         * an exited one again, and run the job again. The appmaster ends
         * it by removing its group (SUPERVISOR_JOB_GROUP). */
        if (rc == 0 && launch_is_application(r->role, r->cli->role_args, r->cli->n_role_args) &&
            !conf_get(out, "execution.shutdown-on-application-finish"))
                rc = conf_set(out, "execution.shutdown-on-application-finish", "false", CONF_SRC_DEFAULT);
        struct probe_targets t;
        if (rc == 0)
                rc = targets(r, out, &t, err, errlen);
        struct amconf am;
        if (rc == 0 && r->role == ROLE_APPMASTER)
                rc = amconf_load(&am, out, r->set, r->set->marathon_app_id, err, errlen);
        if (rc < 0)
                conf_free(out);
        return rc;
}

static int render(const struct conf *c, char **ret)
{
        size_t len;
        return confyaml_render(c, 0, ret, &len);
}

static void appmaster_start(struct runner *r);

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
        if (targets(r, c, &t, err, sizeof err) == 0)
                service_probe_targets(&r->svc, &t);
        struct amconf am;
        if (r->am_on && amconf_load(&am, c, r->set, r->set->marathon_app_id, err, sizeof err) == 0)
                r->am.am = am;
        log_info("config.written", LOG_STR("dir", r->fh.conf_dir), LOG_INT("keys", c->n), LOG_STR("role", role_name(r->role)),
                 LOG_INT("flink_major", r->fh.major), LOG_INT("flink_minor", r->fh.minor));
        if (r->am_due && !r->am_on)
                appmaster_start(r);
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
static void first(const struct conf *c, void *data)
{
        struct runner *r = data;

        if (r->cli->action == CLI_PRINT_CONFIG || r->cli->action == CLI_CHECK) {
                sup_finish(r->svc.sup, report(r, c));
                return;
        }
        if (apply(r, c) < 0) {
                sup_finish(r->svc.sup, EXIT_SUPERVISOR_FAILED);
                return;
        }
        sup_start(r->svc.sup);
}

static void change(const struct conf *c, void *data)
{
        struct runner *r = data;
        char *text = NULL, *running = NULL;

        if (render(c, &text) < 0 || render(&r->running, &running) < 0)
                goto out;
        if (strcmp(text, running) == 0) {
                log_info("zk.unchanged", LOG_STR("meaning", "the effective configuration is the same"));
        } else if (r->set->zk_on_change == ZK_ON_CHANGE_IGNORE) {
                log_warn("zk.change_ignored", LOG_STR("setting", "FLINK_ZK_ON_CHANGE=ignore"));
        } else if (apply(r, c) == 0) {
                r->changes++;
                log_info("zk.change_applied", LOG_STR("action", "rolling restart"));
                sup_rolling_restart(r->svc.sup);
        }
out:
        free(text);
        free(running);
}

static void fail(int code, void *data)
{
        struct runner *r = data;

        sup_finish(r->svc.sup, code);
}

static int build_zk(const struct zk_doc *docs, struct conf *out, char *err, size_t errlen, void *data)
{
        return build(data, docs, out, err, errlen);
}

static const struct zksource_ops zksource_ops = { .build = build_zk, .first = first, .change = change, .fail = fail };

static void snapshot_extra(struct report_snapshot *out, void *data)
{
        struct runner *r = data;

        out->zk_enabled = r->use_zk;
        out->zk_connected = r->use_zk && r->zs.connected;
        out->config_rejections = r->use_zk ? r->zs.rejections : 0;
        out->config_changes_applied = r->changes;
        if (r->am_on)
                appmaster_report(&r->am, out);
}

/* A TaskManager whose id the supervisor made up gets a new one for every
 * JVM, as Flink's own ids are: the JobManager keeps a dead JVM's entry
 * until its heartbeat times out, and readiness must wait for the new one. */
static void before_spawn(size_t i, uint64_t starts, void *data)
{
        struct runner *r = data;
        const struct conf_entry *e = conf_find(&r->running, "taskmanager.resource-id");
        struct conf next;

        (void)i;
        if (starts == 0 || !e || e->source != CONF_SRC_DEFAULT)
                return;
        new_resource_id(r);
        if (conf_copy(&next, &r->running) < 0)
                return;
        if (conf_set(&next, "taskmanager.resource-id", r->resource_id, CONF_SRC_DEFAULT) == 0)
                apply(r, &next);
        conf_free(&next);
}

static int probe_start(struct runner *r)
{
        const struct probe_timing timing = {
                .interval_ms = r->set->probe_interval_s * 1000, .timeout_ms = r->set->probe_timeout_s * 1000,
                .grace_ms = r->set->probe_grace_s * 1000, .failures = r->set->probe_failures,
        };
        struct probe_targets t;
        char err[768];
        int rc;

        if ((rc = service_probe(&r->svc, &timing, r->use_zk ? &r->zs.zk : NULL)) < 0)
                return rc;
        /* With ZooKeeper nothing runs yet: the first apply sets the targets. */
        if (r->running.n && targets(r, &r->running, &t, err, sizeof err) == 0)
                service_probe_targets(&r->svc, &t);
        return 0;
}

static bool leads(void *data)
{
        struct runner *r = data;

        return r->svc.probing && probe_ready(&r->svc.probe);
}

/* What TaskManagers of the app we create cannot learn by themselves: the
 * HA cluster id we derived, or (without HA) where this JobManager is. */
static size_t tm_extra_args(const struct conf *c, char (*out)[700], size_t max)
{
        const struct conf_entry *id = conf_find(c, "high-availability.cluster-id");
        size_t n = 0;

        if (id && id->source == CONF_SRC_MESOS && n < max)
                snprintf(out[n++], sizeof out[0], "-Dhigh-availability.cluster-id=%.600s", id->value);
        if (!flinkconf_ha_zookeeper(c) && n + 2 <= max) {
                snprintf(out[n++], sizeof out[0], "-Djobmanager.rpc.address=%.600s", conf_get(c, "jobmanager.rpc.address") ?: "localhost");
                snprintf(out[n++], sizeof out[0], "-Djobmanager.rpc.port=%.600s", conf_get(c, "jobmanager.rpc.port") ?: "6123");
        }
        return n;
}

/* The appmaster role with Marathon: allocate the TaskManagers. What goes
 * wrong is logged; the JobManager runs regardless. */
static void appmaster_start(struct runner *r)
{
        char extra[APPMASTER_MAX_EXTRA][700], *extra_p[APPMASTER_MAX_EXTRA];
        struct probe_targets t;
        struct amconf am;
        char err[768];
        struct http *http = NULL;
        int rc;

        err[0] = '\0';
        if (r->role != ROLE_APPMASTER || !r->set->marathon_url || !r->set->marathon_app_id)
                return;
        if (!r->svc.probing || !(http = service_http(&r->svc)) || targets(r, &r->running, &t, err, sizeof err) < 0 ||
            amconf_load(&am, &r->running, r->set, r->set->marathon_app_id, err, sizeof err) < 0) {
                r->am_due = false;
                log_error("appmaster.unavailable", LOG_STR("error", r->svc.probing && http ? err : "no libcurl"),
                          LOG_STR("meaning", "no TaskManagers are allocated; the JobManager runs regardless"));
                return;
        }
        if (t.leadership_unknown) {
                /* Two JobManagers that both think they lead would both write. */
                log_error("appmaster.unavailable", LOG_STR("error", "no ZooKeeper session with the HA quorum: leadership unknown"),
                          LOG_STR("expected", "FLINK_ZK_QUORUM naming the HA quorum (high-availability.zookeeper.quorum)"),
                          LOG_STR("meaning", "no TaskManagers are allocated; the JobManager runs regardless"));
                r->am_due = false;
                return;
        }
        size_t n = tm_extra_args(&r->running, extra, APPMASTER_MAX_EXTRA);
        for (size_t i = 0; i < n; i++)
                extra_p[i] = extra[i];
        const struct appmaster_config cfg = {
                .am = &am,
                .marathon = { .url = r->set->marathon_url, .app_id = r->set->marathon_app_id,
                              .credentials_file = r->set->marathon_credentials_file,
                              .token_file = r->set->marathon_token_file, .ca_file = r->set->marathon_ca_file,
                              .want = service_checks_want(&r->svc) },
                .rest_base = t.rest_base,
                .image_env = getenv("MARATHON_APP_DOCKER_IMAGE"),
                .extra_args = extra_p,
                .n_extra = n,
                .stop_timeout_s = r->set->stop_timeout_s,
        };
        r->am_due = false;
        rc = appmaster_open(&r->am, sup_loop(r->svc.sup), http, &cfg, leads, r);
        r->am_on = true;
        if (rc < 0) {
                log_error("appmaster.unavailable", LOG_STR("error", strerror(-rc)),
                          LOG_STR("meaning", "no TaskManagers are allocated; the JobManager runs regardless"));
                appmaster_close(&r->am);
                r->am_on = false;
        }
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
        if (r->use_zk) {
                if ((rc = zksource_prepare(&r->zs, r->set, r->role, r->cli->action != CLI_RUN, err, errlen)) < 0)
                        return rc;
                r->in.zk_name = r->zs.base_path;
                r->in.zk_role_name = r->zs.role_path;
                r->in.zk_hosts = r->zs.quorum.hosts;
                r->in.zk_chroot = r->zs.quorum.chroot;
        }
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
        rc = launch_plan(&r->plan, r->role, &r->fh, r->cli->role_args, r->cli->n_role_args, environ, r->fh.conf_dir);
        if (rc < 0)
                snprintf(err, errlen, "cannot plan the children of %s: %s", role_name(r->role), strerror(-rc));
        return rc;
}

/* Without ZooKeeper the children start at once; with it they wait for
 * the first valid configuration. */
static int supervise(struct runner *r)
{
        int rc = service_open(&r->svc, r->set, r->start);

        r->svc_open = true;
        r->svc.before_spawn = before_spawn;
        r->svc.before_spawn_data = r;
        for (size_t i = 0; rc >= 0 && i < r->plan.n; i++)
                rc = sup_add_child(r->svc.sup, r->plan.names[i], r->plan.argv[i], r->plan.envp,
                                   r->have_creds ? &r->creds : NULL);
        if (rc >= 0 && r->use_zk)
                rc = zksource_start(&r->zs, sup_loop(r->svc.sup), sup_mailbox(r->svc.sup), &zksource_ops, r);
        if (rc >= 0 && r->cli->action == CLI_RUN) {
                /* Readiness is Flink's, no longer just "the children run". */
                service_serve_health(&r->svc, r->health_port, snapshot_extra, r);
                rc = probe_start(r);
                if (rc >= 0)
                        service_register(&r->svc);
                r->am_due = rc >= 0;
                if (r->am_due && r->running.n)
                        appmaster_start(r);
        }
        if (rc < 0) {
                log_error("supervisor.setup_failed", LOG_STR("error", strerror(-rc)));
                return EXIT_SUPERVISOR_FAILED;
        }
        return sup_run(r->svc.sup, !r->use_zk);
}

int runner_run(const struct settings *set, struct cli *cli, enum role role, const struct child_start *start)
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
        r->start = start;
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
        /* The libraries' threads end here: no message is posted after it. */
        if (r->am_on)
                appmaster_close(&r->am);
        if (r->svc_open)
                service_close_probe(&r->svc);
        if (r->use_zk)
                zksource_close(&r->zs, r->svc.sup ? sup_loop(r->svc.sup) : NULL);
        if (r->svc_open)
                service_close(&r->svc);
        if (r->own_dir)
                flinkhome_remove_conf_dir(r->fh.conf_dir);
        conf_free(&r->running);
        launch_free(&r->plan);
        flinkhome_close(&r->fh);
        free(r);
        return code;
}
