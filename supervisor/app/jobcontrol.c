/* jobcontrol: stop-job and list-jobs, on job clusters that exist; see jobclient.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/jobio.h"
#include "base/fmt.h"

#define SAVEPOINT_POLL_MS 500
#define MAX_LISTED 64

static int find_job(struct client *c, struct jobgroup_jm *jm, struct jobgroup_job *job)
{
        int r = jobio_read_jm(c, jm);

        if (r == -EINTR)
                return 128 + c->signo;
        if (r == -ENOENT)
                return jobio_fail(c, JOB_EXIT_REFUSED, "no job cluster %s on Marathon: expected the --id of one that "
                            "'flink-supervisor list-jobs' shows", c->cli->id);
        if (r == -EACCES)
                return jobio_refused(c, "to show the JobManager app");
        if (r < 0)
                return jobio_unreachable(c, "Marathon");
        if (!jm->running)
                return jobio_fail(c, JOB_EXIT_UNREACHABLE, "the JobManager of %s is not running: expected a running job cluster; "
                            "try again once Marathon restarted it", c->cli->id);
        if ((r = jobio_read_job(c, jm, job)) == -EINTR)
                return 128 + c->signo;
        if (r < 0)
                return jobio_unreachable(c, "the JobManager");
        if (!job->present)
                return jobio_fail(c, JOB_EXIT_UNREACHABLE, "the JobManager of %s has no job yet: try again once it runs", c->cli->id);
        return 0;
}

int jobio_stop_job(struct client *c)
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
                jobio_say(c, "job %s already %s: no savepoint to take", job.id, job.state);
                jobio_remove_group(c);
                return JOB_EXIT_FINISHED;
        }
        if (c->cli->savepoint_dir && strpbrk(c->cli->savepoint_dir, "\"\\"))
                return jobio_fail(c, JOB_EXIT_USAGE, "invalid --savepoint \"%.64s\": expected a directory URI without quotes or "
                            "backslashes", c->cli->savepoint_dir);
        if (c->cli->savepoint_dir)
                r = fmt(body, sizeof body, "{\"drain\":%s,\"targetDirectory\":\"%s\"}", c->cli->drain ? "true" : "false",
                        c->cli->savepoint_dir);
        else
                r = fmt(body, sizeof body, "{\"drain\":%s}", c->cli->drain ? "true" : "false");
        if (r < 0)
                return jobio_fail(c, JOB_EXIT_USAGE, "--savepoint is too long");
        jobio_say(c, "stopping job %s with a savepoint", job.id);
        if (fmt(path, sizeof path, "/jobs/%s/stop", job.id) < 0 || (r = jobio_flink(c, &jm, "POST", path, body)) == -EIO)
                return jobio_unreachable(c, "the JobManager");
        if (r == -EINTR)
                return 128 + c->signo;
        if (c->status != 202 || jobgroup_read_trigger(c->body, c->len, trigger, sizeof trigger) < 0) {
                jobgroup_read_flink_error(c->body, c->len, msg, sizeof msg);
                return jobio_fail(c, JOB_EXIT_FAILED, "Flink refused the savepoint (HTTP %ld): %s; the job keeps running", c->status,
                            msg);
        }
        for (;;) {
                bool done, failed;
                if (fmt(path, sizeof path, "/jobs/%s/savepoints/%s", job.id, trigger) < 0)
                        return jobio_fail(c, JOB_EXIT_FAILED, "the savepoint's trigger id is too long");
                if ((r = jobio_flink(c, &jm, "GET", path, NULL)) == -EINTR)
                        return 128 + c->signo;
                if (r == 0 && c->status == 200 && jobgroup_read_savepoint(c->body, c->len, &done, &failed, out, sizeof out) == 0 &&
                    done) {
                        if (failed)
                                return jobio_fail(c, JOB_EXIT_FAILED, "the savepoint failed: %s; the job keeps running", out);
                        break;
                }
                if (timer_now_ms() > deadline)
                        return jobio_fail(c, JOB_EXIT_TIMEOUT, "no savepoint within --timeout %lds: the cluster %s is left as it is",
                                    c->cli->timeout_s, c->cli->id);
                jobio_show(c, "waiting for the savepoint");
                if (jobio_pause_ms(c, SAVEPOINT_POLL_MS) < 0)
                        return 128 + c->signo;
        }
        jobio_say(c, "savepoint: %s", out);
        jobio_remove_group(c);
        return JOB_EXIT_FINISHED;
}

int jobio_list_jobs(struct client *c)
{
        struct jobgroup_listed *listed = calloc(MAX_LISTED, sizeof *listed);
        size_t n = 0;
        int r, code = JOB_EXIT_FINISHED;

        if (!listed)
                return jobio_fail(c, JOB_EXIT_USAGE, "out of memory");
        r = jobio_marathon(c, "GET", "/v2/apps?label=" JOBGROUP_LABEL "&embed=apps.tasks&embed=apps.lastTaskFailure", NULL);
        if (r == -EINTR)
                code = 128 + c->signo;
        else if (r < 0)
                code = jobio_unreachable(c, "Marathon");
        else if (c->status != 200)
                code = jobio_refused(c, "to list the apps");
        else if (jobgroup_read_list(c->body, c->len, listed, MAX_LISTED, &n) < 0)
                code = jobio_fail(c, JOB_EXIT_UNREACHABLE, "Marathon's answer to GET /v2/apps is not a list of apps");
        if (code != JOB_EXIT_FINISHED)
                goto out;
        printf("%-32s %-32s %-12s %s\n", "CLUSTER", "JOB", "STATE", "WEB UI");
        for (size_t i = 0; i < n; i++) {
                struct jobgroup_job job = { .id = "-", .state = "-" };
                char ui[300] = "-";
                if (listed[i].jm.running) {
                        snprintf(ui, sizeof ui, WEB_UI, listed[i].jm.host, listed[i].jm.rest_port);
                        if ((r = jobio_read_job(c, &listed[i].jm, &job)) == -EINTR) {
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
