/* marathon: see marathon.h. */
#include "integrations/marathon.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fmt.h"
#include "base/log.h"
#include "base/secret.h"
#include "core/backoff.h"

#define MARATHON_TIMEOUT_MS 10000
#define MARATHON_RETRY_MIN_MS 1000
#define MARATHON_RETRY_MAX_MS 60000
/* Polling while a deployment holds the app, and the spread of the random
 * wait before a write: instances started together write one at a time. */
#define MARATHON_POLL_MS 2000
#define MARATHON_SPREAD_MS 2000
/* The least wait after a 401/403 with credentials that did not change. */
#define MARATHON_AUTH_RETRY_MS 10000

int marathon_check(const char *url, const char *app_id, char *err, size_t errlen)
{
        if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) || strlen(url) > 512 ||
            strpbrk(url, " \t\r\n?#")) {
                snprintf(err, errlen, "invalid MARATHON_URL=\"%.64s\": expected http(s)://host:port[/path] of Marathon", url);
                return -EINVAL;
        }
        if (app_id[0] != '/' || strlen(app_id) > 512 || app_id[strspn(app_id, "abcdefghijklmnopqrstuvwxyz0123456789-._/")]) {
                snprintf(err, errlen, "invalid MARATHON_APP_ID=\"%.64s\": expected an app path such as /flink/jobmanager", app_id);
                return -EINVAL;
        }
        return 0;
}

bool marathon_auth_load(struct marathon_auth *a)
{
        char buf[2048], old[sizeof a->auth_header + sizeof a->userpwd];
        bool changed;
        int r;

        snprintf(old, sizeof old, "%s\n%s", a->auth_header, a->userpwd);
        if (a->credentials_file[0]) {
                if ((r = secret_read_file(a->credentials_file, buf, sizeof a->userpwd)) < 0 || !strchr(buf, ':'))
                        log_error("marathon.credentials_unreadable", LOG_STR("file", a->credentials_file),
                                  LOG_STR("expected", "a readable file holding user:password"),
                                  LOG_STR("error", r >= 0 ? "no ':'" : secret_strerror(r)));
                else
                        memcpy(a->userpwd, buf, strlen(buf) + 1);
        }
        if (a->token_file[0]) {
                if ((r = secret_read_file(a->token_file, buf, sizeof a->auth_header - 32)) <= 0)
                        log_error("marathon.token_unreadable", LOG_STR("file", a->token_file),
                                  LOG_STR("expected", "a readable file holding the DC/OS service token"),
                                  LOG_STR("error", r == 0 ? "empty" : secret_strerror(r)));
                else
                        snprintf(a->auth_header, sizeof a->auth_header, "Authorization: token=%s", buf);
        }
        secret_wipe(buf, sizeof buf);
        char now[sizeof old];
        snprintf(now, sizeof now, "%s\n%s", a->auth_header, a->userpwd);
        changed = strcmp(old, now) != 0;
        secret_wipe(old, sizeof old);
        secret_wipe(now, sizeof now);
        return changed;
}

int marathon_auth_open(struct marathon_auth *a, const struct marathon_config *cfg)
{
        *a = (struct marathon_auth){ 0 };
        if (fmt_absolute(a->ca_file, sizeof a->ca_file, cfg->ca_file ? cfg->ca_file : "") < 0 ||
            fmt_absolute(a->credentials_file, sizeof a->credentials_file, cfg->credentials_file ? cfg->credentials_file : "") < 0 ||
            fmt_absolute(a->token_file, sizeof a->token_file, cfg->token_file ? cfg->token_file : "") < 0)
                return -ENAMETOOLONG;
        marathon_auth_load(a);
        return 0;
}

void marathon_auth_apply(const struct marathon_auth *a, struct http_request *req, const char **headers)
{
        req->userpwd = a->userpwd[0] ? a->userpwd : NULL;
        req->ca_file = a->ca_file[0] ? a->ca_file : NULL;
        if (a->auth_header[0])
                headers[2] = a->auth_header;
}

const char *marathon_auth_expected(const struct marathon_auth *a)
{
        return a->token_file[0] ? "a valid token in MARATHON_TOKEN_FILE"
               : a->credentials_file[0] ? "valid user:password in MARATHON_CREDENTIALS_FILE"
                                        : "MARATHON_CREDENTIALS_FILE or MARATHON_TOKEN_FILE";
}

void marathon_auth_wipe(struct marathon_auth *a)
{
        secret_wipe(a->userpwd, sizeof a->userpwd);
        secret_wipe(a->auth_header, sizeof a->auth_header);
}

static void request(struct marathon *m);

static void wait_ms(struct marathon *m, uint64_t ms)
{
        m->state = MARATHON_IDLE;
        timer_arm_ms(&m->timer, ms);
}

static void give_up(struct marathon *m, const char *why)
{
        m->state = MARATHON_FAILED;
        log_error("marathon.gave_up", LOG_STR("app", m->app_url), LOG_STR("reason", why),
                  LOG_STR("meaning", "no checks registered; the children run regardless"));
}

/* A bounded retry with backoff; false when the attempts are used up. */
static bool retry(struct marathon *m, uint64_t min_ms)
{
        if (++m->attempts >= MARATHON_MAX_ATTEMPTS)
                return false;
        uint64_t ms = backoff_delay_ms(m->attempts - 1, MARATHON_RETRY_MIN_MS, MARATHON_RETRY_MAX_MS, backoff_random(&m->rng));
        wait_ms(m, ms > min_ms ? ms : min_ms);
        return true;
}

/* Marathon's own words, short: {"message": "..."} or the start of the body. */
void marathon_message(const struct http_response *resp, char *out, size_t size)
{
        json_t *root = json_loadb(resp->body, resp->len, 0, NULL);
        const char *msg = json_string_value(json_object_get(root, "message"));
        json_t *details = json_object_get(root, "details");
        char *d = details ? json_dumps(details, JSON_COMPACT) : NULL;

        snprintf(out, size, "%.200s%s%.300s", msg ? msg : resp->error ? resp->error : "", d ? " " : "", d ? d : "");
        for (char *p = out; *p; p++)
                if (*p < ' ')
                        *p = ' ';
        free(d);
        json_decref(root);
}

/* Transport failures, 5xx, unexpected answers: retried with bounds. */
static void transient(struct marathon *m, const struct http_response *resp, const char *what)
{
        char msg[600];

        marathon_message(resp, msg, sizeof msg);
        log_warn("marathon.retry", LOG_STR("app", m->app_url), LOG_STR("request", what), LOG_INT("status", resp->status),
                 LOG_STR("error", msg), LOG_INT("attempt", m->attempts + 1));
        if (!retry(m, 0))
                give_up(m, "Marathon did not answer usably; attempts used up");
}

static void refused(struct marathon *m, const struct http_response *resp)
{
        char msg[600];
        bool changed = marathon_auth_load(&m->auth);

        marathon_message(resp, msg, sizeof msg);
        log_error("marathon.unauthorized", LOG_STR("app", m->app_url), LOG_INT("status", resp->status), LOG_STR("error", msg),
                  LOG_STR("expected", marathon_auth_expected(&m->auth)),
                  LOG_STR("credentials", changed ? "changed: retrying" : "unchanged"));
        /* Unchanged credentials will not work sooner: no storm, but a
         * token renewed by the operator is picked up within seconds. */
        if (!retry(m, changed ? 0 : MARATHON_AUTH_RETRY_MS))
                give_up(m, "not authorised; attempts used up");
}

static void on_written(const struct http_response *resp, void *data)
{
        struct marathon *m = data;
        char msg[600];

        m->call = NULL;
        if (resp->status == 405 && !m->use_put) {
                /* Marathon before 1.4: the same partial update by PUT. */
                m->use_put = true;
                request(m);
                return;
        }
        free(m->body);
        m->body = NULL;
        if (resp->status == 200 || resp->status == 201) {
                json_t *root = json_loadb(resp->body, resp->len, 0, NULL);
                m->state = MARATHON_DONE;
                m->writes++;
                log_info("marathon.registered", LOG_STR("app", m->app_url),
                         LOG_STR("version", json_string_value(json_object_get(root, "version")) ?: ""),
                         LOG_STR("deployment", json_string_value(json_object_get(root, "deploymentId")) ?: ""),
                         LOG_STR("meaning", "Marathon replaces the app's tasks with the new checks"));
                json_decref(root);
        } else if (resp->status == 409) {
                log_info("marathon.locked", LOG_STR("app", m->app_url), LOG_STR("meaning", "a deployment holds the app: waiting"));
                m->confirmed = false;
                wait_ms(m, MARATHON_POLL_MS + backoff_random(&m->rng) % MARATHON_SPREAD_MS);
        } else if (resp->status == 401 || resp->status == 403) {
                refused(m, resp);
        } else if (resp->status == 400 || resp->status == 404 || resp->status == 422) {
                marathon_message(resp, msg, sizeof msg);
                log_error("marathon.rejected", LOG_STR("app", m->app_url), LOG_INT("status", resp->status), LOG_STR("error", msg));
                give_up(m, "Marathon rejected the checks");
        } else {
                transient(m, resp, m->use_put ? "PUT" : "PATCH");
        }
}

static void on_read(const struct http_response *resp, void *data)
{
        struct marathon *m = data;
        struct appchecks_plan plan;
        char err[300];
        int r;

        m->call = NULL;
        if (resp->status == 401 || resp->status == 403) {
                refused(m, resp);
                return;
        }
        if (resp->status == 404) {
                log_error("marathon.no_app", LOG_STR("app", m->app_url), LOG_STR("expected", "MARATHON_APP_ID naming an existing app"));
                give_up(m, "no such app");
                return;
        }
        if (resp->status != 200 || resp->error) {
                transient(m, resp, "GET");
                return;
        }
        r = appchecks_plan(resp->body, resp->len, &m->want, &plan, err, sizeof err);
        if (r == -EPROTO) {
                log_warn("marathon.bad_answer", LOG_STR("app", m->app_url), LOG_STR("error", err));
                if (!retry(m, 0))
                        give_up(m, "malformed answers; attempts used up");
                return;
        }
        if (r < 0) {
                log_error("marathon.cannot_check", LOG_STR("app", m->app_url), LOG_STR("error", err));
                give_up(m, r == -ENOENT ? "no port to check" : "out of memory");
                return;
        }
        if (!plan.body) {
                m->state = MARATHON_DONE;
                log_info("marathon.checks_match", LOG_STR("app", m->app_url), LOG_STR("meaning", "nothing to write"));
        } else if (plan.deployments > 0 || !m->confirmed) {
                /* A deployment is under way (maybe another instance's write),
                 * or this is the first read: look again a random moment later. */
                uint64_t ms = (plan.deployments ? MARATHON_POLL_MS : 0) + backoff_random(&m->rng) % MARATHON_SPREAD_MS;
                m->confirmed = plan.deployments == 0;
                m->waited_ms += ms;
                if (m->waited_ms > MARATHON_MAX_WAIT_MS)
                        give_up(m, "the app stayed in deployment");
                else
                        wait_ms(m, ms);
        } else {
                log_info("marathon.writing", LOG_STR("app", m->app_url), LOG_STR("method", m->use_put ? "PUT" : "PATCH"),
                         LOG_STR("body", plan.body));
                free(m->body);
                m->body = plan.body;
                plan.body = NULL;
                m->state = MARATHON_WRITING;
                request(m);
        }
        appchecks_plan_free(&plan);
}

/* The next request for the state: a read, or (WRITING) the write planned
 * by the read that just came. */
static void request(struct marathon *m)
{
        const char *headers[4] = { "Content-Type: application/json", "Accept: application/json", NULL, NULL };
        struct http_request req = { .method = "GET", .url = m->app_url, .headers = headers, .timeout_ms = MARATHON_TIMEOUT_MS,
                                    .follow = true, .max_body = APPCHECKS_MAX_TEXT };
        http_done_fn done = on_read;

        marathon_auth_apply(&m->auth, &req, headers);
        if (m->state == MARATHON_WRITING) {
                req.method = m->use_put ? "PUT" : "PATCH";
                req.body = m->body;
                req.body_len = strlen(m->body);
                done = on_written;
        } else {
                m->state = MARATHON_READING;
        }
        if (http_start(m->http, &req, done, m, &m->call) < 0 && !retry(m, 0))
                give_up(m, "out of memory");
}

static void on_timer(struct timer *t)
{
        struct marathon *m = container_of(t, struct marathon, timer);

        /* A token renewed while we waited is used at once. */
        marathon_auth_load(&m->auth);
        request(m);
}

int marathon_open(struct marathon *m, struct loop *l, struct http *http, const struct marathon_config *cfg)
{
        size_t len = strlen(cfg->url);
        int r;

        *m = (struct marathon){ .http = http, .loop = l, .want = cfg->want };
        timer_init(&m->timer, on_timer);
        while (len > 0 && cfg->url[len - 1] == '/')
                len--;
        if (fmt(m->app_url, sizeof m->app_url, "%.*s/v2/apps%s", (int)len, cfg->url, cfg->app_id) < 0 ||
            marathon_auth_open(&m->auth, cfg) < 0)
                return -ENAMETOOLONG;
        m->rng = backoff_seed();
        if ((r = timer_open(&m->timer, l, on_timer)) < 0)
                return r;
        request(m);
        return 0;
}

bool marathon_registered(const struct marathon *m)
{
        return m->state == MARATHON_DONE;
}

void marathon_close(struct marathon *m)
{
        if (m->call)
                http_cancel(m->http, m->call);
        m->call = NULL;
        if (m->timer.src.fd >= 0)
                timer_close(&m->timer, m->loop);
        free(m->body);
        m->body = NULL;
        marathon_auth_wipe(&m->auth);
}
