/* appmaster: see appmaster.h. */
#include "app/appmaster.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "base/log.h"
#include "core/backoff.h"
#include "integrations/tmapp.h"

#define AM_FLINK_TIMEOUT_MS 5000
#define AM_MARATHON_TIMEOUT_MS 10000
#define AM_RETRY_MAX_MS 30000
/* Marathon's answer for an app with its tasks: bounded before parsing. */
#define AM_MAX_ANSWER (4u << 20)

static void round_start(struct appmaster *a);
static void round_end(struct appmaster *a, bool failed);
static void read_app(struct appmaster *a);

/* Task and job ids go into URL paths as they are: only what ids hold. */
static bool safe_id(const char *id)
{
        return *id && !id[strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")];
}

static void get(struct appmaster *a, enum appmaster_phase phase, const char *url, bool marathon, http_done_fn done)
{
        const char *headers[4] = { "Accept: application/json", NULL, NULL, NULL };
        struct http_request req = { .method = "GET", .url = url, .headers = headers, .follow = marathon,
                                    .timeout_ms = marathon ? AM_MARATHON_TIMEOUT_MS : AM_FLINK_TIMEOUT_MS,
                                    .max_body = AM_MAX_ANSWER };

        a->phase = phase;
        if (marathon)
                marathon_auth_apply(&a->auth, &req, headers);
        if (http_start(a->http, &req, done, a, &a->call) < 0)
                round_end(a, true);
}

static void flink_get(struct appmaster *a, enum appmaster_phase phase, const char *path, http_done_fn done)
{
        char url[900];

        if (fmt(url, sizeof url, "%s%s", a->rest, path) < 0) {
                round_end(a, true);
                return;
        }
        get(a, phase, url, false, done);
}

static void flink_failed(struct appmaster *a, const struct http_response *resp, const char *what)
{
        log_debug("appmaster.flink_unanswered", LOG_STR("request", what), LOG_INT("status", resp->status),
                  LOG_STR("error", resp->error ? resp->error : ""));
        a->obs->flink = false;
        read_app(a);
}

static void next_job(struct appmaster *a);

static void on_detail(const struct http_response *resp, void *data)
{
        struct appmaster *a = data;
        long slots;

        a->call = NULL;
        /* A job that ended between the two answers needs nothing. */
        if (resp->status == 200 && flinkrest_parallelism(resp->body, resp->len, &slots) == 0)
                a->need += slots;
        else if (resp->status != 404)
                return flink_failed(a, resp, "GET /jobs/:id");
        a->job++;
        next_job(a);
}

static void on_requirements(const struct http_response *resp, void *data)
{
        struct appmaster *a = data;
        char path[80];
        long slots;

        a->call = NULL;
        if (resp->status == 200 && flinkrest_requirements(resp->body, resp->len, &slots) == 0) {
                a->need += slots;
                a->job++;
                next_job(a);
                return;
        }
        /* The default scheduler has no requirements to tell: the job's
         * parallelism is its need. */
        snprintf(path, sizeof path, "/jobs/%s", a->jobs[a->job]);
        flink_get(a, AM_DETAIL, path, on_detail);
}

static void next_job(struct appmaster *a)
{
        char path[80];

        if (a->job == a->n_jobs) {
                a->obs->flink = true;
                a->obs->slots_needed = a->need;
                read_app(a);
                return;
        }
        snprintf(path, sizeof path, "/jobs/%s/resource-requirements", a->jobs[a->job]);
        flink_get(a, AM_REQUIREMENTS, path, on_requirements);
}

static void on_jobs(const struct http_response *resp, void *data)
{
        struct appmaster *a = data;

        a->call = NULL;
        if (resp->status != 200 ||
            flinkrest_active_jobs(resp->body, resp->len, a->jobs, FLINKREST_MAX_JOBS, &a->n_jobs, &a->obs->jobs_ended) < 0)
                return flink_failed(a, resp, "GET /jobs/overview");
        a->job = 0;
        a->need = 0;
        next_job(a);
}

static void on_tms(const struct http_response *resp, void *data)
{
        struct appmaster *a = data;

        a->call = NULL;
        if (resp->status != 200 || flinkrest_taskmanagers(resp->body, resp->len, a->obs->tms, AMPLAN_MAX_TMS, &a->obs->n_tms) < 0)
                return flink_failed(a, resp, "GET /taskmanagers");
        flink_get(a, AM_JOBS, "/jobs/overview", on_jobs);
}

/* A Marathon answer that is no answer: said, and the round retried. */
static void marathon_failed(struct appmaster *a, const struct http_response *resp, const char *what)
{
        char msg[600];

        marathon_message(resp, msg, sizeof msg);
        if (resp->status == 401 || resp->status == 403) {
                bool changed = marathon_auth_load(&a->auth);
                log_error("appmaster.marathon_refused", LOG_STR("request", what), LOG_INT("status", resp->status),
                          LOG_STR("error", msg), LOG_STR("expected", marathon_auth_expected(&a->auth)),
                          LOG_STR("credentials", changed ? "changed: retrying" : "unchanged"));
        } else {
                log_warn("appmaster.marathon_unanswered", LOG_STR("request", what), LOG_INT("status", resp->status),
                         LOG_STR("error", msg), LOG_INT("attempt", a->failures + 1),
                         LOG_STR("meaning", "the cluster runs on as it is; retried with backoff"));
        }
}

/* Says a decision: every one that acts, a wait when it changed. */
static void say(struct appmaster *a, const struct amplan_action *act)
{
        bool same = act->kind == AMPLAN_WAIT && a->said == act->reason && a->said_wanted == act->wanted &&
                    a->said_instances == a->obs->instances && a->said_registered == act->registered;

        if (act->blocked != a->said_blocked) {
                if (act->blocked)
                        log_warn("appmaster.scale_up_stopped", LOG_INT("failed_tasks", act->failed),
                                 LOG_INT("limit", a->am.max_failed),
                                 LOG_STR("meaning", "TaskManager tasks fail or never register (mesos.maximum-failed-tasks): "
                                                    "no more are asked for until one registers"));
                else
                        log_info("appmaster.scale_up_resumed", LOG_STR("meaning", "a TaskManager registered"));
                a->said_blocked = act->blocked;
        }
        if (same)
                return;
        log_info("appmaster.decision", LOG_STR("action", amplan_kind_name(act->kind)), LOG_STR("reason", act->reason),
                 LOG_INT("instances", a->obs->app_exists ? a->obs->instances : 0), LOG_INT("to", act->instances),
                 LOG_STR("task", act->task), LOG_INT("wanted", act->wanted), LOG_INT("registered", act->registered),
                 LOG_INT("pending", act->pending), LOG_INT("slots_needed", act->slots_needed),
                 LOG_INT("slots_free", act->slots_free), LOG_INT("slots_per_tm", a->am.slots),
                 LOG_INT("failed_tasks", act->failed));
        a->said = act->reason;
        a->said_wanted = act->wanted;
        a->said_instances = a->obs->instances;
        a->said_registered = act->registered;
}

static void on_written(const struct http_response *resp, void *data)
{
        struct appmaster *a = data;
        const char *what = amplan_kind_name(a->act.kind);

        a->call = NULL;
        if (resp->status == 405 && a->act.kind == AMPLAN_SCALE && !a->use_put) {
                a->use_put = true;
                a->phase = AM_IDLE;
                round_end(a, false);
                return;
        }
        free(a->body);
        a->body = NULL;
        if (a->act.kind == AMPLAN_REMOVE && ((resp->status >= 200 && resp->status < 300) || resp->status == 404)) {
                /* Marathon now kills this task (404: someone removed the
                 * group first): nothing is left to allocate, and no round
                 * is started again. */
                a->writes += resp->status != 404;
                log_info("appmaster.job_cluster_removed", LOG_STR("group", a->am.job_group), LOG_INT("status", resp->status),
                         LOG_STR("meaning", "the job ended: Marathon removes its JobManager and TaskManagers"));
                return;
        }
        if (resp->status >= 200 && resp->status < 300) {
                a->writes++;
                a->creates += a->act.kind == AMPLAN_CREATE;
                a->scale_ups += a->act.kind == AMPLAN_SCALE && a->act.instances > a->obs->instances;
                a->scale_downs += a->act.kind == AMPLAN_KILL ||
                                  (a->act.kind == AMPLAN_SCALE && a->act.instances < a->obs->instances);
                a->instances = a->act.instances;
                log_info("appmaster.written", LOG_STR("action", what), LOG_INT("status", resp->status),
                         LOG_INT("instances", a->act.instances), LOG_STR("task", a->act.task));
                round_end(a, false);
                return;
        }
        a->write_failures++;
        if (resp->status == 409) {
                /* A deployment holds the app (or it was just created by
                 * someone): the next round sees which. Never force. */
                log_info("appmaster.locked", LOG_STR("action", what), LOG_STR("meaning", "waiting for the deployment"));
                round_end(a, false);
                return;
        }
        if (resp->status == 404 && a->act.kind == AMPLAN_KILL) {
                log_info("appmaster.task_gone", LOG_STR("task", a->act.task), LOG_STR("meaning", "Marathon no longer has it"));
                round_end(a, false);
                return;
        }
        marathon_failed(a, resp, what);
        round_end(a, true);
}

static void send_write(struct appmaster *a, const char *method, const char *url)
{
        const char *headers[4] = { "Content-Type: application/json", "Accept: application/json", NULL, NULL };
        struct http_request req = { .method = method, .url = url, .headers = headers, .timeout_ms = AM_MARATHON_TIMEOUT_MS,
                                    .follow = true, .body = a->body, .body_len = a->body ? strlen(a->body) : 0 };

        /* Leadership is asked again at the last moment: a standby never writes. */
        if (!a->leader(a->data)) {
                free(a->body);
                a->body = NULL;
                round_end(a, false);
                return;
        }
        a->phase = AM_WRITE;
        marathon_auth_apply(&a->auth, &req, headers);
        log_debug("appmaster.writing", LOG_STR("method", method), LOG_STR("url", url), LOG_STR("body", a->body ? a->body : ""));
        if (http_start(a->http, &req, on_written, a, &a->call) < 0)
                round_end(a, true);
}

static int build_tm_app(struct appmaster *a, const struct http_response *own, long instances, char **body)
{
        struct tmapp_input in = { .own_text = own->body, .own_len = own->len, .own_app_id = a->own_app_id, .am = &a->am,
                                  .image_env = a->image_env[0] ? a->image_env : NULL, .instances = instances,
                                  .extra_args = a->extra, .n_extra = a->n_extra, .want = a->want,
                                  .stop_timeout_s = a->stop_timeout_s };
        char err[300];
        int r = tmapp_build(&in, body, err, sizeof err);

        if (r < 0)
                log_error("appmaster.cannot_build", LOG_STR("app", a->am.tm_app_id), LOG_STR("error", err));
        return r;
}

static void on_own(const struct http_response *resp, void *data)
{
        struct appmaster *a = data;
        char *body = NULL;

        a->call = NULL;
        if (resp->status != 200) {
                marathon_failed(a, resp, "GET own app");
                round_end(a, true);
                return;
        }
        if (build_tm_app(a, resp, a->act.instances, &body) < 0) {
                round_end(a, true);
                return;
        }
        if (a->adopting) {
                /* Compared with what the round's GET of the TaskManager app
                 * said; kept in a->body by on_app. */
                char diff[256];
                tmapp_differences(a->body, strlen(a->body), body, diff, sizeof diff);
                if (diff[0])
                        log_warn("appmaster.adopted_differs", LOG_STR("app", a->am.tm_app_id), LOG_STR("fields", diff),
                                 LOG_STR("meaning", "an existing TaskManager app is adopted as it is: only instances is ever changed"));
                else
                        log_info("appmaster.adopted", LOG_STR("app", a->am.tm_app_id));
                free(body);
                free(a->body);
                a->body = NULL;
                a->adopting = false;
                a->compared = true;
                round_end(a, false);
                return;
        }
        free(a->body);
        a->body = body;
        send_write(a, "POST", a->apps_url);
}

static void act(struct appmaster *a)
{
        char url[1500];

        amplan_step(&a->am, a->obs, a->mem, &a->act);
        a->last = a->act;
        if (a->obs->marathon && a->obs->app_exists)
                a->instances = a->obs->instances;
        say(a, &a->act);
        switch (a->act.kind) {
        case AMPLAN_WAIT:
                round_end(a, a->obs->leader && (!a->obs->marathon || !a->obs->flink));
                return;
        case AMPLAN_CREATE:
                get(a, AM_OWN, a->own_url, true, on_own);
                return;
        case AMPLAN_SCALE:
                free(a->body);
                if (asprintf(&a->body, "{\"instances\":%ld}", a->act.instances) < 0) {
                        a->body = NULL;
                        round_end(a, true);
                        return;
                }
                send_write(a, a->use_put ? "PUT" : "PATCH", a->tm_url);
                return;
        case AMPLAN_REMOVE:
                free(a->body);
                a->body = NULL;
                if (fmt(url, sizeof url, "%s%s", a->groups_url, a->am.job_group) < 0) {
                        round_end(a, true);
                        return;
                }
                send_write(a, "DELETE", url);
                return;
        case AMPLAN_KILL:
                free(a->body);
                a->body = NULL;
                if (!safe_id(a->act.task) || fmt(url, sizeof url, "%s/tasks/%s?scale=true", a->tm_url, a->act.task) < 0) {
                        round_end(a, true);
                        return;
                }
                send_write(a, "DELETE", url);
                return;
        }
}

static void on_app(const struct http_response *resp, void *data)
{
        struct appmaster *a = data;
        char err[300];

        a->call = NULL;
        if (resp->status == 404) {
                a->obs->marathon = true;
                a->obs->app_exists = false;
                a->compared = false;
        } else if (resp->status == 200 && tmapp_read(resp->body, resp->len, a->obs, err, sizeof err) == 0) {
                a->obs->marathon = true;
        } else {
                if (resp->status == 200)
                        log_warn("appmaster.bad_answer", LOG_STR("app", a->am.tm_app_id), LOG_STR("error", err));
                else
                        marathon_failed(a, resp, "GET TaskManager app");
                a->obs->marathon = false;
        }
        if (a->obs->marathon && a->obs->app_exists && !a->compared && a->obs->leader && a->writes == 0) {
                /* Adopted, not created by us: compare it once with what we
                 * would create, for the log. */
                free(a->body);
                a->body = strndup(resp->body, resp->len);
                a->adopting = a->body != NULL;
                a->compared = !a->adopting;
                if (a->adopting) {
                        a->act.instances = a->obs->instances;
                        get(a, AM_OWN, a->own_url, true, on_own);
                        return;
                }
        }
        a->compared = a->compared || (a->obs->marathon && a->obs->app_exists);
        act(a);
}

static void read_app(struct appmaster *a)
{
        char url[1400];

        if (fmt(url, sizeof url, "%s?embed=app.tasks&embed=app.counts&embed=app.deployments&embed=app.lastTaskFailure",
                a->tm_url) < 0) {
                round_end(a, true);
                return;
        }
        get(a, AM_APP, url, true, on_app);
}

static void round_start(struct appmaster *a)
{
        memset(a->obs, 0, sizeof *a->obs);
        a->obs->now_ms = timer_now_ms();
        a->obs->leader = a->leader(a->data);
        if (a->obs->leader != a->leading)
                log_info("appmaster.leadership", LOG_STR("state", a->obs->leader ? "leading" : "standby"),
                         LOG_STR("meaning", a->obs->leader ? "this appmaster allocates the TaskManagers"
                                                           : "another JobManager leads, or Flink does not answer yet: no writes"));
        a->leading = a->obs->leader;
        if (!a->obs->leader) {
                a->compared = false;
                act(a);
                return;
        }
        flink_get(a, AM_TMS, "/taskmanagers", on_tms);
}

static void round_end(struct appmaster *a, bool failed)
{
        uint64_t ms = (uint64_t)a->am.interval_ms;

        a->phase = AM_IDLE;
        a->failures = failed ? a->failures + 1 : 0;
        if (failed)
                ms = backoff_delay_ms(a->failures - 1, ms, AM_RETRY_MAX_MS, backoff_random(&a->rng));
        timer_arm_ms(&a->timer, ms);
}

static void on_timer(struct timer *t)
{
        struct appmaster *a = container_of(t, struct appmaster, timer);

        if (a->phase == AM_IDLE)
                round_start(a);
}

int appmaster_open(struct appmaster *a, struct loop *l, struct http *http, const struct appmaster_config *cfg,
                   appmaster_leader_fn leader, void *data)
{
        const char *url = cfg->marathon.url;
        size_t len = strlen(url);
        int r;

        *a = (struct appmaster){ .http = http, .loop = l, .am = *cfg->am, .want = cfg->marathon.want,
                                 .stop_timeout_s = cfg->stop_timeout_s, .leader = leader, .data = data, .said_wanted = -1 };
        timer_init(&a->timer, on_timer);
        while (len > 0 && url[len - 1] == '/')
                len--;
        if (cfg->n_extra > APPMASTER_MAX_EXTRA || !a->am.tm_app_id[0])
                return -EINVAL;
        if (fmt(a->apps_url, sizeof a->apps_url, "%.*s/v2/apps", (int)len, url) < 0 ||
            fmt(a->groups_url, sizeof a->groups_url, "%.*s/v2/groups", (int)len, url) < 0 ||
            fmt(a->own_url, sizeof a->own_url, "%s%s", a->apps_url, cfg->marathon.app_id) < 0 ||
            fmt(a->tm_url, sizeof a->tm_url, "%s%s", a->apps_url, a->am.tm_app_id) < 0 ||
            fmt(a->own_app_id, sizeof a->own_app_id, "%s", cfg->marathon.app_id) < 0 ||
            fmt(a->rest, sizeof a->rest, "%s", cfg->rest_base) < 0 ||
            fmt(a->image_env, sizeof a->image_env, "%s", cfg->image_env ? cfg->image_env : "") < 0 ||
            marathon_auth_open(&a->auth, &cfg->marathon) < 0)
                return -ENAMETOOLONG;
        for (size_t i = 0; i < cfg->n_extra; i++)
                if (!(a->extra[a->n_extra++] = strdup(cfg->extra_args[i])))
                        return -ENOMEM;
        if (!(a->obs = calloc(1, sizeof *a->obs)) || !(a->mem = calloc(1, sizeof *a->mem)))
                return -ENOMEM;
        amplan_init(a->mem);
        a->rng = backoff_seed();
        if ((r = timer_open(&a->timer, l, on_timer)) < 0)
                return r;
        log_info("appmaster.started", LOG_STR("taskmanager_app", a->am.tm_app_id), LOG_STR("job_group", a->am.job_group),
                 LOG_INT("initial", a->am.initial_tasks),
                 LOG_INT("max", a->am.max_tasks), LOG_INT("slots_per_tm", a->am.slots),
                 LOG_INT("idle_timeout_ms", a->am.idle_timeout_ms), LOG_INT("max_failed", a->am.max_failed));
        timer_arm_ms(&a->timer, (uint64_t)a->am.interval_ms);
        return 0;
}

void appmaster_report(const struct appmaster *a, struct report_snapshot *out)
{
        out->am_enabled = true;
        out->am_leader = a->leading;
        out->am_blocked = a->last.blocked;
        out->am_reason = a->last.reason ? a->last.reason : "starting";
        out->am_wanted = a->last.wanted;
        out->am_registered = a->last.registered;
        out->am_pending = a->last.pending;
        out->am_instances = a->instances;
        out->am_failed = a->last.failed;
        out->am_scale_ups = a->scale_ups;
        out->am_scale_downs = a->scale_downs;
        out->am_writes = a->writes;
        out->am_write_failures = a->write_failures;
}

void appmaster_close(struct appmaster *a)
{
        if (a->call)
                http_cancel(a->http, a->call);
        a->call = NULL;
        if (a->timer.src.fd >= 0)
                timer_close(&a->timer, a->loop);
        for (size_t i = 0; i < a->n_extra; i++)
                free(a->extra[i]);
        a->n_extra = 0;
        free(a->body);
        free(a->obs);
        free(a->mem);
        a->body = NULL;
        a->obs = NULL;
        a->mem = NULL;
        marathon_auth_wipe(&a->auth);
}
