/* jobio: the job-cluster client's plumbing, shared by its commands. A
 * client owns a loop with the HTTP client, a timer and a signalfd for
 * SIGINT and SIGTERM; each call waits for its answer, and a signal ends
 * any wait (c->signo is then set and the call returns -EINTR).
 *
 * Output: jobio_say prints one line per change of state with the time
 * since the start; jobio_show a live line, on a terminal only; jobio_fail
 * one error line on stderr, returning the exit code it is given. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/jobclient.h"
#include "config/jobcli.h"
#include "config/settings.h"
#include "core/loop.h"
#include "core/timer.h"
#include "integrations/http.h"
#include "integrations/jobgroup.h"
#include "integrations/marathon.h"

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

int jobio_open(struct client *c, const struct jobcli *cli, const struct settings *set);
void jobio_close(struct client *c);

__attribute__((format(printf, 2, 3))) void jobio_say(struct client *c, const char *format, ...);
__attribute__((format(printf, 2, 3))) void jobio_show(struct client *c, const char *format, ...);
__attribute__((format(printf, 3, 4))) int jobio_fail(struct client *c, int code, const char *format, ...);
/* Waits ms; returns 0 or -EINTR after a signal. */
int jobio_pause_ms(struct client *c, uint64_t ms);
/* A request to Marathon (path after its URL) or to the JobManager's REST:
 * 0 with an answer in c->status, c->body; -EIO when none came (c->error);
 * -EINTR. */
int jobio_marathon(struct client *c, const char *method, const char *path, const char *body);
int jobio_flink(struct client *c, const struct jobgroup_jm *jm, const char *method, const char *path, const char *body);
/* Marathon's own words about the last answer, into out. */
const char *jobio_why(struct client *c, char *out, size_t size);
/* The error lines (and exit codes) of no answer, a refusal, a signal. */
int jobio_unreachable(struct client *c, const char *what);
int jobio_refused(struct client *c, const char *what);
int jobio_interrupted(struct client *c, bool created);
/* Removes the group (both apps with it); says so, or what to do instead. */
void jobio_remove_group(struct client *c);
/* The JobManager app: 0, -ENOENT (none), -EIO (no answer, 5xx), -EACCES, -EINTR. */
int jobio_read_jm(struct client *c, struct jobgroup_jm *jm);
/* GET /jobs/overview: 0, -EIO or -EINTR. */
int jobio_read_job(struct client *c, const struct jobgroup_jm *jm, struct jobgroup_job *job);

/* The commands; each returns its exit code. */
int jobio_run_job(struct client *c);
int jobio_stop_job(struct client *c);
int jobio_list_jobs(struct client *c);
