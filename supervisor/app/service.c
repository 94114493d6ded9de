/* service: see service.h. */
#include "app/service.h"

#include <errno.h>
#include <string.h>

#include "base/exitcode.h"
#include "base/log.h"

/* systemd has no way back from READY=1: not ready again only changes the
 * status line. */
static void set_ready(struct service *svc, bool ready, const char *status)
{
        if (ready)
                notify_ready(&svc->notify, status);
        else
                notify_status(&svc->notify, status);
}

static void on_status(const char *line, void *data)
{
        struct service *svc = data;

        notify_status(&svc->notify, line);
}

static void on_running(const char *line, bool all_running, void *data)
{
        struct service *svc = data;

        /* Without a probe, ready means every child runs: all that `-- CMD`
         * mode can know. */
        set_ready(svc, all_running && !svc->probing, line);
}

static void on_stopping(const char *line, void *data)
{
        struct service *svc = data;

        notify_stopping(&svc->notify, line);
}

static void on_before_spawn(size_t i, uint64_t starts, void *data)
{
        struct service *svc = data;

        if (svc->before_spawn)
                svc->before_spawn(i, starts, svc->before_spawn_data);
}

int service_open(struct service *svc, const struct settings *set, const struct child_start *start)
{
        const struct sup_config cfg = {
                .policy = { .restart = (enum restart_policy)set->restart,
                            .stop_timeout_ms = (uint64_t)set->stop_timeout_s * 1000u,
                            .backoff_min_ms = (uint64_t)set->backoff_min_ms,
                            .backoff_max_ms = (uint64_t)set->backoff_max_ms,
                            .backoff_reset_ms = (uint64_t)set->backoff_reset_s * 1000u,
                            .gave_up_code = EXIT_GAVE_UP },
                .max_restarts = (unsigned)set->max_restarts,
                .restart_window_ms = (uint64_t)set->restart_window_s * 1000u,
                .start = *start,
        };
        const struct sup_hooks hooks = { .status = on_status, .running = on_running, .stopping = on_stopping,
                                         .before_spawn = on_before_spawn, .data = svc };
        int r;

        *svc = (struct service){ .set = set };
        notify_init(&svc->notify);
        if ((r = sup_new(&svc->sup, &cfg)) < 0)
                return r;
        sup_set_hooks(svc->sup, &hooks);
        if ((r = notify_open(&svc->notify, sup_loop(svc->sup))) < 0)
                log_warn("notify.watchdog_unavailable", LOG_STR("error", strerror(-r)),
                         LOG_STR("meaning", "systemd's watchdog is not fed; READY=1 and STATUS= still go out"));
        return 0;
}

static void snapshot(struct report_snapshot *out, void *data)
{
        struct service *svc = data;
        struct sup_child_view views[CHILD_MAX];
        size_t n = sup_children(svc->sup, views, CHILD_MAX);

        out->healthy = out->ready = n > 0;
        out->uptime_s = sup_uptime_s(svc->sup);
        out->orphans_reaped = sup_orphans_reaped(svc->sup);
        out->marathon_enabled = svc->marathon_on;
        out->marathon_registered = svc->marathon_on && marathon_registered(&svc->marathon);
        out->marathon_writes = svc->marathon_on ? svc->marathon.writes : 0;
        out->n_children = n;
        for (size_t i = 0; i < n; i++) {
                out->children[i] = (struct report_child){ .name = views[i].name, .state = views[i].state,
                                                          .pid = (int)views[i].pid, .restarts = views[i].restarts,
                                                          .last_code = views[i].last_code };
                if (!views[i].pid)
                        out->healthy = out->ready = false;
        }
        if (svc->probing) {
                out->healthy = out->healthy && probe_alive(&svc->probe, timer_now_ms());
                out->ready = out->ready && probe_ready(&svc->probe);
        }
        if (svc->extra)
                svc->extra(out, svc->extra_data);
}

void service_serve_health(struct service *svc, uint16_t port, health_snapshot_fn extra, void *data)
{
        int r;

        svc->extra = extra;
        svc->extra_data = data;
        if (port == 0)
                return;
        r = health_open(&svc->health, sup_loop(svc->sup), port, snapshot, svc);
        if (r < 0) {
                log_error("health.unavailable", LOG_INT("port", port), LOG_STR("error", strerror(-r)),
                          LOG_STR("meaning", "no health endpoint; the children run regardless"));
                return;
        }
        svc->health_on = true;
        log_info("health.serving", LOG_INT("port", port));
}

/* The probe follows the first child: Flink's JVM for every role. */
static int first_child_pid(void *data)
{
        struct service *svc = data;

        return (int)sup_running_pid(svc->sup, 0);
}

static void on_probe_changed(void *data)
{
        struct service *svc = data;
        bool ready = probe_ready(&svc->probe);

        set_ready(svc, ready, ready ? "Flink ready" : "Flink not ready");
}

int service_probe(struct service *svc, const struct probe_timing *timing, struct zk *zk)
{
        struct http *http = service_http(svc);
        int r;

        if (!http) {
                log_error("probe.unavailable", LOG_STR("error", "no libcurl"),
                          LOG_STR("meaning", "/ready and /health follow the children only"));
                return 0;
        }
        if ((r = probe_open(&svc->probe, sup_loop(svc->sup), http, zk, timing, first_child_pid, on_probe_changed, svc)) < 0)
                return r;
        svc->probing = true;
        return 0;
}

void service_probe_targets(struct service *svc, const struct probe_targets *t)
{
        if (svc->probing)
                probe_set_targets(&svc->probe, t);
}

struct http *service_http(struct service *svc)
{
        int r;

        if (!svc->http_tried) {
                svc->http_tried = true;
                r = http_open(&svc->http, sup_loop(svc->sup));
                svc->http_on = r == 0;
                if (r < 0)
                        log_error("http.unavailable", LOG_STR("error", r == -ENOENT ? "libcurl.so.4 not found" : strerror(-r)),
                                  LOG_STR("meaning", "no Flink probes and no Marathon registration"));
        }
        return svc->http_on ? &svc->http : NULL;
}

struct appchecks_want service_checks_want(const struct service *svc)
{
        return appchecks_want_of(svc->set, svc->health.port);
}

void service_register(struct service *svc)
{
        const struct settings *set = svc->set;
        struct marathon_config cfg = {
                .url = set->marathon_url, .app_id = set->marathon_app_id,
                .credentials_file = set->marathon_credentials_file, .token_file = set->marathon_token_file,
                .ca_file = set->marathon_ca_file, .want = service_checks_want(svc),
        };
        struct http *http;
        int r;

        if (!set->marathon_url)
                return;
        if (!set->marathon_app_id) {
                log_warn("marathon.no_app_id", LOG_STR("meaning", "MARATHON_URL without MARATHON_APP_ID: nothing to register"));
                return;
        }
        if (!svc->health_on) {
                log_warn("marathon.no_endpoint", LOG_STR("meaning", "the health endpoint is off: no checks to register"));
                return;
        }
        if (!(http = service_http(svc)))
                return;
        r = marathon_open(&svc->marathon, sup_loop(svc->sup), http, &cfg);
        svc->marathon_on = r == 0;
        if (r < 0)
                log_error("marathon.unavailable", LOG_STR("error", strerror(-r)));
}

void service_close_probe(struct service *svc)
{
        if (svc->probing)
                probe_close(&svc->probe);
        svc->probing = false;
}

void service_close(struct service *svc)
{
        service_close_probe(svc);
        if (svc->marathon_on)
                marathon_close(&svc->marathon);
        svc->marathon_on = false;
        if (svc->http_on)
                http_close(&svc->http);
        svc->http_on = false;
        if (svc->health_on)
                health_close(&svc->health);
        svc->health_on = false;
        if (svc->sup) {
                notify_close(&svc->notify, sup_loop(svc->sup));
                sup_free(svc->sup);
                svc->sup = NULL;
        }
}
