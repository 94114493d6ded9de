/* jobrun: run-job, see jobclient.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/jobio.h"
#include "base/fmt.h"
#include "config/settings.h"

#define POLL_MS 1000
#define STARTING_POLL_MS 200

static int job_ended(struct client *c, const struct jobgroup_jm *jm, const struct jobgroup_job *job)
{
        char path[200], line[JOBGROUP_MAX_MESSAGE] = "(Flink gave no exception)";

        if (strcmp(job->state, "FAILED") == 0) {
                if (fmt(path, sizeof path, "/jobs/%s/exceptions", job->id) == 0 && jobio_flink(c, jm, "GET", path, NULL) == 0 &&
                    c->status == 200)
                        jobgroup_read_exception(c->body, c->len, line, sizeof line);
                jobio_say(c, "job %s failed: %s", job->id, line);
        }
        jobio_remove_group(c);
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
        char last[64] = "";
        bool jm_seen = false, ran = false;
        int r;

        for (;;) {
                struct jobgroup_jm jm = { 0 };
                struct jobgroup_job job = { 0 };

                if ((r = jobio_read_jm(c, &jm)) == -EINTR)
                        return jobio_interrupted(c, true);
                if (r == -ENOENT)
                        return jobio_fail(c, JOB_EXIT_REFUSED, "the job cluster %s is no longer on Marathon: someone removed it",
                                    c->cli->id);
                if (r == -EACCES)
                        return jobio_refused(c, "to show the JobManager app");
                if (r == 0 && jm.failures && !ran) {
                        jobio_say(c, "the JobManager's task failed: %s", jm.failure);
                        jobio_remove_group(c);
                        return jobio_fail(c, JOB_EXIT_JM_FAILED, "the job cluster %s did not start: %s%s", c->cli->id, jm.failure,
                                    gave_up(c, jm.failure));
                }
                if (r == 0)
                        last_answer = timer_now_ms();
                if (r == 0 && jm.running) {
                        if (!jm_seen)
                                jobio_say(c, "JobManager task running, REST at " WEB_UI, jm.host, jm.rest_port);
                        jm_seen = true;
                        if ((r = jobio_read_job(c, &jm, &job)) == -EINTR)
                                return jobio_interrupted(c, true);
                        if (r == 0)
                                last_answer = timer_now_ms();
                        if (r == 0 && job.present && strcmp(job.state, last) != 0) {
                                jobio_say(c, "job %s %s", job.id, job.state);
                                snprintf(last, sizeof last, "%s", job.state);
                        }
                        if (r == 0 && job.present && jobgroup_job_ended(job.state))
                                return job_ended(c, &jm, &job);
                        if (r == 0 && job.present && strcmp(job.state, "RUNNING") == 0 && !ran) {
                                ran = true;
                                if (c->cli->detached) {
                                        jobio_say(c, "job %s runs; web UI " WEB_UI, job.id, jm.host, jm.rest_port);
                                        printf("%s\n", job.id);
                                        return JOB_EXIT_FINISHED;
                                }
                        }
                        if (!ran)
                                jobio_show(c, "waiting for the job to run (%s)",
                                           r < 0 ? "its REST does not answer yet" : job.present ? job.state : "not submitted yet");
                } else if (!ran) {
                        jobio_show(c, "waiting for the JobManager task (%u deployment%s)", (unsigned)jm.deployments,
                             jm.deployments == 1 ? "" : "s");
                }
                if (ran && timer_now_ms() - last_answer > timeout)
                        return jobio_fail(c, JOB_EXIT_UNREACHABLE, "no answer about %s for %lds (%s): the cluster is left as it is; "
                                    "see 'flink-supervisor list-jobs'", c->cli->id, c->cli->timeout_s, c->error);
                if (!ran && timer_now_ms() > deadline && timer_now_ms() - last_answer > timeout)
                        return jobio_fail(c, JOB_EXIT_UNREACHABLE, "no answer about %s for %lds (%s): expected Marathon and the "
                                    "JobManager reachable; the cluster may be left: see 'flink-supervisor list-jobs'",
                                    c->cli->id, c->cli->timeout_s, c->error);
                if (!ran && timer_now_ms() > deadline) {
                        jobio_remove_group(c);
                        return jobio_fail(c, JOB_EXIT_TIMEOUT, "%s within --timeout %lds: expected a JobManager and a job running "
                                    "(removed %s)", jm_seen ? "the job did not run" : "the JobManager did not start",
                                    c->cli->timeout_s, c->cli->id);
                }
                /* A job that cannot start shows FAILED only for the moment
                 * before Flink ends its JobManager: look closely until it runs. */
                if (jobio_pause_ms(c, jm_seen && !ran ? STARTING_POLL_MS : POLL_MS) < 0)
                        return jobio_interrupted(c, true);
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

int jobio_run_job(struct client *c)
{
        struct settings app;
        struct jobgroup_input in = { .cli = c->cli, .marathon_url = c->marathon };
        char *body = NULL, err[300];
        int r;

        /* The checks the appmaster will want, from the environment it gets. */
        if (settings_load(&app, app_env_lookup, c, report_env, NULL) < 0)
                return JOB_EXIT_USAGE;
        in.stop_timeout_s = app.stop_timeout_s;
        /* Its health port is a named one: the check needs no number. */
        in.want = appchecks_want_of(&app, 0);
        if ((r = jobgroup_build(&in, &body, err, sizeof err)) < 0)
                return r == -ENOMEM ? jobio_fail(c, JOB_EXIT_USAGE, "out of memory") : jobio_fail(c, JOB_EXIT_USAGE, "%s", err);
        r = jobio_marathon(c, "POST", "/v2/groups", body);
        free(body);
        if (r == -EINTR)
                return jobio_interrupted(c, false);
        if (r < 0)
                return jobio_unreachable(c, "Marathon");
        if (c->status == 409)
                return jobio_fail(c, JOB_EXIT_REFUSED, "the group %s already exists on Marathon: expected a new --id, or "
                            "'flink-supervisor stop-job --id %s' first", c->cli->id, c->cli->id);
        if (c->status < 200 || c->status >= 300)
                return jobio_refused(c, "the job cluster");
        jobio_say(c, "deploying the job cluster %s", c->cli->id);
        return follow(c);
}
