/* jobclient: see jobclient.h.
 *
 * One request at a time on the supervisor's loop and HTTP client: each
 * call runs the loop until its answer, a timer or a signal (a signalfd in
 * the same loop) ends it, so a Ctrl-C never waits for a slow Marathon. */
#include "app/jobclient.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "base/fmt.h"
#include "base/log.h"
#include "config/settings.h"
#include "core/timer.h"
#include "integrations/http.h"
#include "integrations/jobgroup.h"
#include "integrations/marathon.h"

#define MARATHON_CALL_MS 10000
#define FLINK_CALL_MS 5000
#define POLL_MS 1000
#define SAVEPOINT_POLL_MS 500
#define MAX_LISTED 64
/* The JobManager answers its REST on the address Marathon reports. */
#define WEB_UI "http://%s:%ld"

struct client {
        struct loop loop;
        struct http http;
        struct timer timer;
        struct loop_source sig;
        struct marathon_auth auth;
        const struct jobcli *cli;
        char marathon[520];           /* without a trailing '/' */
        char jm_app[600];             /* <group>/jobmanager */
        uint64_t t0;
        int signo;
        bool tty, status_shown;
        /* the answer of the last call */
        struct http_call *call;
        bool answered;
        long status;
        char *body;
        size_t len;
        char error[256];
};

static void clear_status(struct client *c)
{
        if (c->status_shown)
                fputs("\r\033[K", stdout);
        c->status_shown = false;
}

/* One line per change of state, with the time since the command started. */
__attribute__((format(printf, 2, 3))) static void say(struct client *c, const char *format, ...)
{
        va_list ap;

        clear_status(c);
        printf("[%6.1fs] ", (double)(timer_now_ms() - c->t0) / 1000.0);
        va_start(ap, format);
        vprintf(format, ap);
        va_end(ap);
        putchar('\n');
        fflush(stdout);
}

/* The live line: only on a terminal, overwritten by the next one. */
__attribute__((format(printf, 2, 3))) static void show(struct client *c, const char *format, ...)
{
        va_list ap;

        if (!c->tty)
                return;
        clear_status(c);
        printf("[%6.1fs] ", (double)(timer_now_ms() - c->t0) / 1000.0);
        va_start(ap, format);
        vprintf(format, ap);
        va_end(ap);
        fflush(stdout);
        c->status_shown = true;
}

__attribute__((format(printf, 3, 4))) static int fail(struct client *c, int code, const char *format, ...)
{
        va_list ap;

        clear_status(c);
        fflush(stdout);
        fputs("flink-supervisor: ", stderr);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);
        return code;
}

static void on_signal(struct loop_source *src, uint32_t events)
{
        struct client *c = container_of(src, struct client, sig);
        struct signalfd_siginfo si;

        (void)events;
        if (read(src->fd, &si, sizeof si) == (ssize_t)sizeof si)
                c->signo = (int)si.ssi_signo;
        loop_quit(&c->loop);
}

static void on_timer(struct timer *t)
{
        struct client *c = container_of(t, struct client, timer);

        loop_quit(&c->loop);
}

static void on_answer(const struct http_response *resp, void *data)
{
        struct client *c = data;

        c->call = NULL;
        c->answered = true;
        c->status = resp->status;
        free(c->body);
        c->body = resp->body ? strndup(resp->body, resp->len) : NULL;
        c->len = c->body ? resp->len : 0;
        snprintf(c->error, sizeof c->error, "%s", resp->error ? resp->error : (c->body ? "" : "out of memory"));
        loop_quit(&c->loop);
}

static void run_once(struct client *c)
{
        c->loop.quit = false;
        loop_run(&c->loop);
}

/* Waits ms; returns 0 or -EINTR after a signal. */
static int pause_ms(struct client *c, uint64_t ms)
{
        timer_arm_ms(&c->timer, ms);
        if (!c->signo)
                run_once(c);
        timer_disarm(&c->timer);
        return c->signo ? -EINTR : 0;
}

/* One request; returns 0 with an answer (c->status, c->body), -EIO when
 * none came (c->error says why), or -EINTR after a signal. */
static int request(struct client *c, const char *method, const char *url, const char *body, bool marathon)
{
        const char *headers[4] = { "Content-Type: application/json", "Accept: application/json", NULL, NULL };
        struct http_request req = { .method = method, .url = url, .body = body, .body_len = body ? strlen(body) : 0,
                                    .headers = headers, .timeout_ms = marathon ? MARATHON_CALL_MS : FLINK_CALL_MS };
        int r;

        if (marathon)
                marathon_auth_apply(&c->auth, &req, headers);
        c->answered = false;
        if ((r = http_start(&c->http, &req, on_answer, c, &c->call)) < 0) {
                snprintf(c->error, sizeof c->error, "%s", strerror(-r));
                return -EIO;
        }
        while (!c->answered && !c->signo)
                run_once(c);
        if (!c->answered) {
                http_cancel(&c->http, c->call);
                c->call = NULL;
                return -EINTR;
        }
        if (c->status == 0)
                return -EIO;
        return 0;
}

static int marathon_call(struct client *c, const char *method, const char *path, const char *body)
{
        char url[1400];

        if (fmt(url, sizeof url, "%s%s", c->marathon, path) < 0) {
                snprintf(c->error, sizeof c->error, "the URL is too long");
                return -EIO;
        }
        return request(c, method, url, body, true);
}

static int flink_call(struct client *c, const struct jobgroup_jm *jm, const char *method, const char *path,
                      const char *body)
{
        char url[1400];

        if (fmt(url, sizeof url, WEB_UI "%s", jm->host, jm->rest_port, path) < 0) {
                snprintf(c->error, sizeof c->error, "the URL is too long");
                return -EIO;
        }
        return request(c, method, url, body, false);
}

/* Marathon's (or Flink's) own words about the last answer. */
static const char *why(struct client *c, char *out, size_t size)
{
        struct http_response resp = { .status = c->status, .body = c->body ? c->body : "", .len = c->len };

        marathon_message(&resp, out, size);
        return out;
}

static int unreachable(struct client *c, const char *what)
{
        return fail(c, JOB_EXIT_UNREACHABLE, "%s did not answer: %s: expected %s", what, c->error,
                    strcmp(what, "Marathon") == 0 ? "Marathon's address in --marathon or MARATHON_URL"
                                                  : "the JobManager's REST at the address Marathon reports");
}

static int refused(struct client *c, const char *what)
{
        char msg[300];

        if (c->status == 401 || c->status == 403)
                return fail(c, JOB_EXIT_REFUSED, "Marathon refused our credentials (HTTP %ld) %s: expected %s", c->status,
                            what, marathon_auth_expected(&c->auth));
        return fail(c, JOB_EXIT_REFUSED, "Marathon refused %s (HTTP %ld): %s", what, c->status, why(c, msg, sizeof msg));
}

static int interrupted(struct client *c, bool created)
{
        if (created)
                say(c, "detached on signal %d: the job cluster %s keeps running; follow it with "
                       "'flink-supervisor list-jobs', stop it with 'flink-supervisor stop-job --id %s'",
                    c->signo, c->cli->id, c->cli->id);
        else
                say(c, "stopped on signal %d before Marathon answered: see 'flink-supervisor list-jobs' for %s", c->signo,
                    c->cli->id);
        return 128 + c->signo;
}

/* Removes the group (and with it both apps); says so, or what to do. */
static void remove_group(struct client *c)
{
        char path[700], msg[300];
        int r = -EIO;

        for (int force = 0; force < 2; force++) {
                if (fmt(path, sizeof path, "/v2/groups%s%s", c->cli->id, force ? "?force=true" : "") < 0)
                        break;
                r = marathon_call(c, "DELETE", path, NULL);
                /* 409: a deployment holds it (a JobManager that never became
                 * ready): it is ours to end. */
                if (r < 0 || c->status != 409)
                        break;
        }
        if (r == 0 && ((c->status >= 200 && c->status < 300) || c->status == 404))
                say(c, "removed the job cluster %s", c->cli->id);
        else
                fail(c, 0, "could not remove the job cluster %s (%s): remove it with 'flink-supervisor stop-job --id %s' "
                     "or Marathon's DELETE /v2/groups%s", c->cli->id, r == 0 ? why(c, msg, sizeof msg) : c->error,
                     c->cli->id, c->cli->id);
}

/* GET the JobManager app into jm. Returns 0, -ENOENT (no such app), -EIO
 * (no answer or 5xx: c->error), -EACCES (refused), or -EINTR. */
static int read_jm(struct client *c, struct jobgroup_jm *jm)
{
        char path[700];
        int r;

        if (fmt(path, sizeof path, "/v2/apps%s?embed=app.lastTaskFailure", c->jm_app) < 0)
                return -EIO;
        if ((r = marathon_call(c, "GET", path, NULL)) < 0)
                return r;
        if (c->status == 404)
                return -ENOENT;
        if (c->status >= 500) {
                snprintf(c->error, sizeof c->error, "HTTP %ld", c->status);
                return -EIO;
        }
        if (c->status != 200)
                return -EACCES;
        if (jobgroup_read_jm(c->body, c->len, jm) < 0) {
                snprintf(c->error, sizeof c->error, "Marathon's answer about %.64s is not an app", c->jm_app);
                return -EIO;
        }
        return 0;
}

/* GET /jobs/overview into job. Returns 0, -EIO or -EINTR. */
static int read_job(struct client *c, const struct jobgroup_jm *jm, struct jobgroup_job *job)
{
        int r = flink_call(c, jm, "GET", "/jobs/overview", NULL);

        if (r < 0)
                return r;
        if (c->status != 200 || jobgroup_read_job(c->body, c->len, job) < 0) {
                snprintf(c->error, sizeof c->error, "HTTP %ld from /jobs/overview", c->status);
                return -EIO;
        }
        return 0;
}

static int job_ended(struct client *c, const struct jobgroup_jm *jm, const struct jobgroup_job *job)
{
        char path[200], line[JOBGROUP_MAX_MESSAGE] = "(Flink gave no exception)";

        if (strcmp(job->state, "FAILED") == 0) {
                if (fmt(path, sizeof path, "/jobs/%s/exceptions", job->id) == 0 && flink_call(c, jm, "GET", path, NULL) == 0 &&
                    c->status == 200)
                        jobgroup_read_exception(c->body, c->len, line, sizeof line);
                say(c, "job %s failed: %s", job->id, line);
        }
        remove_group(c);
        return strcmp(job->state, "FINISHED") == 0 ? JOB_EXIT_FINISHED
               : strcmp(job->state, "FAILED") == 0 ? JOB_EXIT_FAILED
                                                   : JOB_EXIT_CANCELED;
}

/* What a crash loop of the JobManager (its supervisor's exit 111) means
 * for a job cluster: Flink ends a JobManager whose job cannot start, and
 * says why only in its log. */
static const char *gave_up(const struct client *c, const char *failure)
{
        if (!strstr(failure, "status 111"))
                return "";
        return c->cli->from_savepoint
                       ? " (the JobManager crashed until its supervisor gave up: the job could not start; with "
                         "--from-savepoint, expected a savepoint that exists; Flink's reason is in the task's stderr)"
                       : " (the JobManager crashed until its supervisor gave up: the job could not start; Flink's reason "
                         "is in the task's stderr)";
}

/* Follows the job cluster from its deployment to the end of its job (or,
 * detached, to RUNNING). */
static int follow(struct client *c)
{
        const uint64_t timeout = (uint64_t)c->cli->timeout_s * 1000;
        uint64_t deadline = timer_now_ms() + timeout, last_answer = timer_now_ms();
        char last[64] = "", msg[300];
        bool jm_seen = false, ran = false;
        int r;

        for (;;) {
                struct jobgroup_jm jm;
                struct jobgroup_job job;

                if ((r = read_jm(c, &jm)) == -EINTR)
                        return interrupted(c, true);
                if (r == -ENOENT)
                        return fail(c, JOB_EXIT_REFUSED, "the job cluster %s is no longer on Marathon: someone removed it",
                                    c->cli->id);
                if (r == -EACCES)
                        return refused(c, "to show the JobManager app");
                if (r == 0 && jm.failures && !ran) {
                        say(c, "the JobManager's task failed: %s", jm.failure);
                        remove_group(c);
                        return fail(c, JOB_EXIT_JM_FAILED, "the job cluster %s did not start: %s%s", c->cli->id, jm.failure,
                                    gave_up(c, jm.failure));
                }
                if (r == 0)
                        last_answer = timer_now_ms();
                if (r == 0 && jm.running) {
                        if (!jm_seen)
                                say(c, "JobManager task running, REST at " WEB_UI, jm.host, jm.rest_port);
                        jm_seen = true;
                        if ((r = read_job(c, &jm, &job)) == -EINTR)
                                return interrupted(c, true);
                        if (r == 0)
                                last_answer = timer_now_ms();
                        if (r == 0 && job.present && strcmp(job.state, last) != 0) {
                                say(c, "job %s %s", job.id, job.state);
                                snprintf(last, sizeof last, "%s", job.state);
                        }
                        if (r == 0 && job.present && jobgroup_job_ended(job.state))
                                return job_ended(c, &jm, &job);
                        if (r == 0 && job.present && strcmp(job.state, "RUNNING") == 0 && !ran) {
                                ran = true;
                                if (c->cli->detached) {
                                        say(c, "job %s runs; web UI " WEB_UI, job.id, jm.host, jm.rest_port);
                                        printf("%s\n", job.id);
                                        return JOB_EXIT_FINISHED;
                                }
                        }
                        if (!ran)
                                show(c, "waiting for the job to run (%s)", job.present ? job.state : "not submitted yet");
                } else if (!ran) {
                        show(c, "waiting for the JobManager task (%u deployment%s)", (unsigned)jm.deployments,
                             jm.deployments == 1 ? "" : "s");
                }
                if (ran && timer_now_ms() - last_answer > timeout)
                        return fail(c, JOB_EXIT_UNREACHABLE, "no answer about %s for %lds (%s): the cluster is left as it is; "
                                    "see 'flink-supervisor list-jobs'", c->cli->id, c->cli->timeout_s, c->error);
                if (!ran && timer_now_ms() > deadline && timer_now_ms() - last_answer > timeout)
                        return fail(c, JOB_EXIT_UNREACHABLE, "no answer about %s for %lds (%s): expected Marathon and the "
                                    "JobManager reachable; the cluster may be left: see 'flink-supervisor list-jobs'",
                                    c->cli->id, c->cli->timeout_s, c->error);
                if (!ran && timer_now_ms() > deadline) {
                        snprintf(msg, sizeof msg, "%s", jm_seen ? "the job did not run" : "the JobManager did not start");
                        remove_group(c);
                        return fail(c, JOB_EXIT_TIMEOUT, "%s within --timeout %lds: expected a JobManager and a job running "
                                    "(removed %s)", msg, c->cli->timeout_s, c->cli->id);
                }
                if (pause_ms(c, POLL_MS) < 0)
                        return interrupted(c, true);
        }
}

static const char *app_env_lookup(const char *name, void *data)
{
        const struct jobcli *cli = ((struct client *)data)->cli;
        size_t n = strlen(name);
        const char *v = NULL;

        for (size_t i = 0; i < cli->n_env; i++)
                if (strncmp(cli->env[i], name, n) == 0 && cli->env[i][n] == '=')
                        v = cli->env[i] + n + 1;
        return v;
}

static void report_env(const char *message, void *data)
{
        (void)data;
        fprintf(stderr, "flink-supervisor: --env: %s\n", message);
}

static int run_job(struct client *c)
{
        struct settings app;
        struct jobgroup_input in = { .cli = c->cli, .marathon_url = c->marathon };
        char *body = NULL, err[300];
        int r;

        /* The checks the appmaster will want, from the environment it gets. */
        if (settings_load(&app, app_env_lookup, c, report_env, NULL) < 0)
                return JOB_EXIT_USAGE;
        in.stop_timeout_s = app.stop_timeout_s;
        in.want = (struct appchecks_want){ .protocol = app.check_protocol == CHECK_MESOS_HTTP ? APPCHECKS_MESOS_HTTP : APPCHECKS_HTTP,
                                           .grace_s = app.check_grace_s, .interval_s = app.check_interval_s,
                                           .timeout_s = app.check_timeout_s, .failures = app.check_failures,
                                           .ready_interval_s = app.ready_interval_s, .ready_timeout_s = app.ready_timeout_s };
        if ((r = jobgroup_build(&in, &body, err, sizeof err)) < 0)
                return r == -ENOMEM ? fail(c, JOB_EXIT_USAGE, "out of memory") : fail(c, JOB_EXIT_USAGE, "%s", err);
        r = marathon_call(c, "POST", "/v2/groups", body);
        free(body);
        if (r == -EINTR)
                return interrupted(c, false);
        if (r < 0)
                return unreachable(c, "Marathon");
        if (c->status == 409)
                return fail(c, JOB_EXIT_REFUSED, "the group %s already exists on Marathon: expected a new --id, or "
                            "'flink-supervisor stop-job --id %s' first", c->cli->id, c->cli->id);
        if (c->status < 200 || c->status >= 300)
                return refused(c, "the job cluster");
        say(c, "deploying the job cluster %s", c->cli->id);
        return follow(c);
}

/* The JobManager of an existing job cluster and its job. Returns 0 or an exit code. */
static int find_job(struct client *c, struct jobgroup_jm *jm, struct jobgroup_job *job)
{
        int r = read_jm(c, jm);

        if (r == -EINTR)
                return 128 + c->signo;
        if (r == -ENOENT)
                return fail(c, JOB_EXIT_REFUSED, "no job cluster %s on Marathon: expected the --id of one that "
                            "'flink-supervisor list-jobs' shows", c->cli->id);
        if (r == -EACCES)
                return refused(c, "to show the JobManager app");
        if (r < 0)
                return unreachable(c, "Marathon");
        if (!jm->running)
                return fail(c, JOB_EXIT_UNREACHABLE, "the JobManager of %s is not running: expected a running job cluster; "
                            "try again once Marathon restarted it", c->cli->id);
        if ((r = read_job(c, jm, job)) == -EINTR)
                return 128 + c->signo;
        if (r < 0)
                return unreachable(c, "the JobManager");
        if (!job->present)
                return fail(c, JOB_EXIT_UNREACHABLE, "the JobManager of %s has no job yet: try again once it runs", c->cli->id);
        return 0;
}

static int stop_job(struct client *c)
{
        uint64_t deadline = timer_now_ms() + (uint64_t)c->cli->timeout_s * 1000;
        struct jobgroup_jm jm;
        struct jobgroup_job job;
        char path[300], trigger[128], out[JOBGROUP_MAX_MESSAGE], msg[300];
        char body[1200];
        int r;

        if ((r = find_job(c, &jm, &job)) != 0)
                return r;
        if (jobgroup_job_ended(job.state)) {
                say(c, "job %s already %s: no savepoint to take", job.id, job.state);
                remove_group(c);
                return JOB_EXIT_FINISHED;
        }
        if (c->cli->savepoint_dir && strpbrk(c->cli->savepoint_dir, "\"\\"))
                return fail(c, JOB_EXIT_USAGE, "invalid --savepoint \"%.64s\": expected a directory URI without quotes or "
                            "backslashes", c->cli->savepoint_dir);
        if (c->cli->savepoint_dir)
                r = fmt(body, sizeof body, "{\"drain\":%s,\"targetDirectory\":\"%s\"}", c->cli->drain ? "true" : "false",
                        c->cli->savepoint_dir);
        else
                r = fmt(body, sizeof body, "{\"drain\":%s}", c->cli->drain ? "true" : "false");
        if (r < 0)
                return fail(c, JOB_EXIT_USAGE, "--savepoint is too long");
        say(c, "stopping job %s with a savepoint", job.id);
        if (fmt(path, sizeof path, "/jobs/%s/stop", job.id) < 0 || (r = flink_call(c, &jm, "POST", path, body)) == -EIO)
                return unreachable(c, "the JobManager");
        if (r == -EINTR)
                return 128 + c->signo;
        if (c->status != 202 || jobgroup_read_trigger(c->body, c->len, trigger, sizeof trigger) < 0) {
                jobgroup_read_flink_error(c->body, c->len, msg, sizeof msg);
                return fail(c, JOB_EXIT_FAILED, "Flink refused the savepoint (HTTP %ld): %s; the job keeps running", c->status,
                            msg);
        }
        for (;;) {
                bool done, failed;
                if (fmt(path, sizeof path, "/jobs/%s/savepoints/%s", job.id, trigger) < 0)
                        return fail(c, JOB_EXIT_FAILED, "the savepoint's trigger id is too long");
                if ((r = flink_call(c, &jm, "GET", path, NULL)) == -EINTR)
                        return 128 + c->signo;
                if (r == 0 && c->status == 200 && jobgroup_read_savepoint(c->body, c->len, &done, &failed, out, sizeof out) == 0 &&
                    done) {
                        if (failed)
                                return fail(c, JOB_EXIT_FAILED, "the savepoint failed: %s; the job keeps running", out);
                        break;
                }
                if (timer_now_ms() > deadline)
                        return fail(c, JOB_EXIT_TIMEOUT, "no savepoint within --timeout %lds: the cluster %s is left as it is",
                                    c->cli->timeout_s, c->cli->id);
                show(c, "waiting for the savepoint");
                if (pause_ms(c, SAVEPOINT_POLL_MS) < 0)
                        return 128 + c->signo;
        }
        say(c, "savepoint: %s", out);
        remove_group(c);
        return JOB_EXIT_FINISHED;
}

static int list_jobs(struct client *c)
{
        struct jobgroup_listed *listed = calloc(MAX_LISTED, sizeof *listed);
        size_t n = 0;
        int r, code = JOB_EXIT_FINISHED;

        if (!listed)
                return fail(c, JOB_EXIT_USAGE, "out of memory");
        r = marathon_call(c, "GET", "/v2/apps?label=" JOBGROUP_LABEL "&embed=apps.tasks&embed=apps.lastTaskFailure", NULL);
        if (r == -EINTR)
                code = 128 + c->signo;
        else if (r < 0)
                code = unreachable(c, "Marathon");
        else if (c->status != 200)
                code = refused(c, "to list the apps");
        else if (jobgroup_read_list(c->body, c->len, listed, MAX_LISTED, &n) < 0)
                code = fail(c, JOB_EXIT_UNREACHABLE, "Marathon's answer to GET /v2/apps is not a list of apps");
        if (code != JOB_EXIT_FINISHED)
                goto out;
        printf("%-32s %-32s %-12s %s\n", "CLUSTER", "JOB", "STATE", "WEB UI");
        for (size_t i = 0; i < n; i++) {
                struct jobgroup_job job = { .id = "-", .state = "-" };
                char ui[300] = "-";
                if (listed[i].jm.running) {
                        snprintf(ui, sizeof ui, WEB_UI, listed[i].jm.host, listed[i].jm.rest_port);
                        if ((r = read_job(c, &listed[i].jm, &job)) == -EINTR) {
                                code = 128 + c->signo;
                                goto out;
                        }
                        if (r < 0 || !job.present) {
                                snprintf(job.id, sizeof job.id, "-");
                                snprintf(job.state, sizeof job.state, "%s", r < 0 ? "no-answer" : "no-job");
                        }
                } else {
                        snprintf(job.state, sizeof job.state, "%s", "starting");
                }
                printf("%-32s %-32s %-12s %s\n", listed[i].group, job.id, job.state, ui);
        }
out:
        free(listed);
        return code;
}

static void print_help(enum jobcli_command command)
{
        static const char *const text[] = {
                "Usage: flink-supervisor run-job --id /GROUP/NAME (--jar URI|PATH | --class NAME) [OPTIONS] [-- JOB ARGS...]\n"
                "\n"
                "Deploys a cluster for one job as a Marathon group (an appmaster in application mode, which\n"
                "allocates its own TaskManagers), follows it to the job's end, removes the group, and exits\n"
                "0 FINISHED, 1 FAILED, 3 CANCELED. --detached returns once the job runs.\n"
                "\n"
                "  --marathon URL          Marathon (default MARATHON_URL)\n"
                "  --id ID                 the group, e.g. /jobs/wordcount\n"
                "  --image IMAGE           the appliance image (default " JOBCLI_DEFAULT_IMAGE ")\n"
                "  --jar URI|PATH          the job's jar: a URI Marathon fetches, or a path in the image\n"
                "  --class NAME            the job's main class (default: the jar's manifest)\n"
                "  --parallelism N         parallelism.default\n"
                "  --from-savepoint PATH   start from this savepoint\n"
                "  --allow-non-restored-state  with --from-savepoint: skip state no operator takes\n"
                "  --detached              return once the job runs; print its id\n"
                "  --timeout SECONDS       for the JobManager and the job to run (default 300)\n"
                "  --jm-cpus N, --jm-mem MB  the JobManager's resources (default 1.0, 1024)\n"
                "  --env KEY=VALUE         the appmaster's environment (SUPERVISOR_TM_MAX, FLINK_ZK_QUORUM, ...)\n"
                "  -Dkey=value             a Flink setting, as for the roles (mesos.resourcemanager.tasks.*, ...)\n",
                "Usage: flink-supervisor stop-job --id /GROUP/NAME [--savepoint DIR] [--drain] [--timeout SECONDS]\n"
                "\n"
                "Stops the job of a job cluster with a savepoint (into DIR, else Flink's savepoint directory), prints\n"
                "'savepoint: PATH' and removes the group. --drain: end the job's event time first.\n",
                "Usage: flink-supervisor list-jobs [--marathon URL]\n"
                "\n"
                "Lists the job clusters run-job created (label " JOBGROUP_LABEL "), with their jobs' states.\n",
        };

        fputs(text[command], stdout);
        printf("\nExit status: 0 done, 1 job failed, 2 usage, 3 job canceled, 4 Marathon refused (or the group\n"
               "exists, or no such cluster), 5 no answer, 6 timed out, 7 the JobManager's task failed, 128+N signal N.\n");
}

static int client_open(struct client *c, const struct jobcli *cli, const struct settings *set)
{
        struct marathon_config cfg = { .credentials_file = set->marathon_credentials_file,
                                       .token_file = set->marathon_token_file, .ca_file = set->marathon_ca_file };
        const char *url = cli->marathon ? cli->marathon : set->marathon_url;
        char err[300];
        sigset_t mask;
        int r;

        *c = (struct client){ .cli = cli, .t0 = timer_now_ms(), .tty = isatty(STDOUT_FILENO) == 1 };
        loop_init(&c->loop);
        timer_init(&c->timer, on_timer);
        loop_source_init(&c->sig, on_signal);
        if (!url)
                return fail(c, JOB_EXIT_USAGE, "missing --marathon: expected --marathon URL or MARATHON_URL");
        if (marathon_check(url, cli->id ? cli->id : "/", err, sizeof err) < 0)
                return fail(c, JOB_EXIT_USAGE, "%s", err);
        snprintf(c->marathon, sizeof c->marathon, "%s", url);
        for (size_t n = strlen(c->marathon); n > 0 && c->marathon[n - 1] == '/'; n--)
                c->marathon[n - 1] = '\0';
        if (cli->id && fmt(c->jm_app, sizeof c->jm_app, "%s" JOBGROUP_JM, cli->id) < 0)
                return fail(c, JOB_EXIT_USAGE, "--id is too long");
        if (marathon_auth_open(&c->auth, &cfg) < 0)
                return fail(c, JOB_EXIT_USAGE, "a credentials file's path is too long");
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        if ((r = loop_open(&c->loop)) < 0 || (r = timer_open(&c->timer, &c->loop, on_timer)) < 0 ||
            (r = sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ? -errno : 0) < 0 ||
            (c->sig.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
            (r = loop_add(&c->loop, &c->sig, EPOLLIN)) < 0 || (r = http_open(&c->http, &c->loop)) < 0)
                return fail(c, JOB_EXIT_UNREACHABLE, "cannot set up: %s",
                            r == -ENOENT ? "libcurl.so.4 not found" : strerror(r < 0 ? -r : errno));
        return 0;
}

static void client_close(struct client *c)
{
        http_close(&c->http);
        timer_close(&c->timer, &c->loop);
        loop_remove(&c->loop, &c->sig);
        loop_close(&c->loop);
        marathon_auth_wipe(&c->auth);
        free(c->body);
}

static const char *env_lookup(const char *name, void *data)
{
        (void)data;
        return getenv(name);
}

static void report_line(const char *message, void *data)
{
        (void)data;
        fprintf(stderr, "flink-supervisor: %s\n", message);
}

int jobclient_main(int argc, char **argv)
{
        struct jobcli cli;
        struct settings set;
        struct client c;
        char err[400];
        int r;

        if ((r = jobcli_parse(&cli, argc, argv, err, sizeof err)) < 0) {
                fprintf(stderr, "flink-supervisor: %s\n", r == -ENOMEM ? "out of memory" : err);
                return JOB_EXIT_USAGE;
        }
        if (cli.help) {
                print_help(cli.command);
                jobcli_free(&cli);
                return 0;
        }
        if (settings_load(&set, env_lookup, NULL, report_line, NULL) < 0) {
                jobcli_free(&cli);
                return JOB_EXIT_USAGE;
        }
        log_setup(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
        if ((r = client_open(&c, &cli, &set)) == 0)
                r = cli.command == JOBCLI_RUN ? run_job(&c) : cli.command == JOBCLI_STOP ? stop_job(&c) : list_jobs(&c);
        client_close(&c);
        jobcli_free(&cli);
        return r;
}
