/* jobio: see jobio.h.
 *
 * One request at a time on the supervisor's loop and HTTP client: each
 * call runs the loop until its answer, a timer or a signal (a signalfd in
 * the same loop) ends it, so a Ctrl-C never waits for a slow Marathon. */
#include "app/jobio.h"

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

#define MARATHON_CALL_MS 10000
#define FLINK_CALL_MS 5000

static void clear_status(struct client *c)
{
        if (c->status_shown)
                fputs("\r\033[K", stdout);
        c->status_shown = false;
}

/* One line per change of state, with the time since the command started. */
void jobio_say(struct client *c, const char *format, ...)
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
void jobio_show(struct client *c, const char *format, ...)
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

int jobio_fail(struct client *c, int code, const char *format, ...)
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
int jobio_pause_ms(struct client *c, uint64_t ms)
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

int jobio_marathon(struct client *c, const char *method, const char *path, const char *body)
{
        char url[1400];

        if (fmt(url, sizeof url, "%s%s", c->marathon, path) < 0) {
                snprintf(c->error, sizeof c->error, "the URL is too long");
                return -EIO;
        }
        return request(c, method, url, body, true);
}

int jobio_flink(struct client *c, const struct jobgroup_jm *jm, const char *method, const char *path,
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
const char *jobio_why(struct client *c, char *out, size_t size)
{
        struct http_response resp = { .status = c->status, .body = c->body ? c->body : "", .len = c->len };

        marathon_message(&resp, out, size);
        return out;
}

int jobio_unreachable(struct client *c, const char *what)
{
        return jobio_fail(c, JOB_EXIT_UNREACHABLE, "%s did not answer: %s: expected %s", what, c->error,
                    strcmp(what, "Marathon") == 0 ? "Marathon's address in --marathon or MARATHON_URL"
                                                  : "the JobManager's REST at the address Marathon reports");
}

int jobio_refused(struct client *c, const char *what)
{
        char msg[300];

        if (c->status == 401 || c->status == 403)
                return jobio_fail(c, JOB_EXIT_REFUSED, "Marathon refused our credentials (HTTP %ld) %s: expected %s", c->status,
                            what, marathon_auth_expected(&c->auth));
        return jobio_fail(c, JOB_EXIT_REFUSED, "Marathon refused %s (HTTP %ld): %s", what, c->status, jobio_why(c, msg, sizeof msg));
}

int jobio_interrupted(struct client *c, bool created)
{
        if (created)
                jobio_say(c, "detached on signal %d: the job cluster %s keeps running; follow it with "
                       "'flink-supervisor list-jobs', stop it with 'flink-supervisor stop-job --id %s'",
                    c->signo, c->cli->id, c->cli->id);
        else
                jobio_say(c, "stopped on signal %d before Marathon answered: see 'flink-supervisor list-jobs' for %s", c->signo,
                    c->cli->id);
        return 128 + c->signo;
}

/* Removes the group (and with it both apps); says so, or what to do. */
void jobio_remove_group(struct client *c)
{
        char path[700], msg[300];
        int r = -EIO;

        for (int force = 0; force < 2; force++) {
                if (fmt(path, sizeof path, "/v2/groups%s%s", c->cli->id, force ? "?force=true" : "") < 0)
                        break;
                r = jobio_marathon(c, "DELETE", path, NULL);
                /* 409: a deployment holds it (a JobManager that never became
                 * ready): it is ours to end. */
                if (r < 0 || c->status != 409)
                        break;
        }
        if (r == 0 && ((c->status >= 200 && c->status < 300) || c->status == 404))
                jobio_say(c, "removed the job cluster %s", c->cli->id);
        else
                jobio_fail(c, 0, "could not remove the job cluster %s (%s): remove it with 'flink-supervisor stop-job --id %s' "
                     "or Marathon's DELETE /v2/groups%s", c->cli->id, r == 0 ? jobio_why(c, msg, sizeof msg) : c->error,
                     c->cli->id, c->cli->id);
}

/* GET the JobManager app into jm. Returns 0, -ENOENT (no such app), -EIO
 * (no answer or 5xx: c->error), -EACCES (refused), or -EINTR. */
int jobio_read_jm(struct client *c, struct jobgroup_jm *jm)
{
        char path[700];
        int r;

        if (fmt(path, sizeof path, "/v2/apps%s?embed=app.lastTaskFailure", c->jm_app) < 0)
                return -EIO;
        if ((r = jobio_marathon(c, "GET", path, NULL)) < 0)
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
int jobio_read_job(struct client *c, const struct jobgroup_jm *jm, struct jobgroup_job *job)
{
        int r = jobio_flink(c, jm, "GET", "/jobs/overview", NULL);

        if (r < 0)
                return r;
        if (c->status != 200 || jobgroup_read_job(c->body, c->len, job) < 0) {
                snprintf(c->error, sizeof c->error, "HTTP %ld from /jobs/overview", c->status);
                return -EIO;
        }
        return 0;
}

int jobio_open(struct client *c, const struct jobcli *cli, const struct settings *set)
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
                return jobio_fail(c, JOB_EXIT_USAGE, "missing --marathon: expected --marathon URL or MARATHON_URL");
        if (marathon_check(url, cli->id ? cli->id : "/", err, sizeof err) < 0)
                return jobio_fail(c, JOB_EXIT_USAGE, "%s", err);
        snprintf(c->marathon, sizeof c->marathon, "%s", url);
        for (size_t n = strlen(c->marathon); n > 0 && c->marathon[n - 1] == '/'; n--)
                c->marathon[n - 1] = '\0';
        if (cli->id && fmt(c->jm_app, sizeof c->jm_app, "%s" JOBGROUP_JM, cli->id) < 0)
                return jobio_fail(c, JOB_EXIT_USAGE, "--id is too long");
        if (marathon_auth_open(&c->auth, &cfg) < 0)
                return jobio_fail(c, JOB_EXIT_USAGE, "a credentials file's path is too long");
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        if ((r = loop_open(&c->loop)) < 0 || (r = timer_open(&c->timer, &c->loop, on_timer)) < 0 ||
            (r = sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ? -errno : 0) < 0 ||
            (c->sig.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
            (r = loop_add(&c->loop, &c->sig, EPOLLIN)) < 0 || (r = http_open(&c->http, &c->loop)) < 0)
                return jobio_fail(c, JOB_EXIT_UNREACHABLE, "cannot set up: %s",
                            r == -ENOENT ? "libcurl.so.4 not found" : strerror(r < 0 ? -r : errno));
        return 0;
}

void jobio_close(struct client *c)
{
        http_close(&c->http);
        timer_close(&c->timer, &c->loop);
        loop_remove(&c->loop, &c->sig);
        loop_close(&c->loop);
        marathon_auth_wipe(&c->auth);
        free(c->body);
}
