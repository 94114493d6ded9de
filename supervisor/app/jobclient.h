/* jobclient: the job-cluster commands (run-job, stop-job, list-jobs). A
 * client, not a supervisor: it talks to Marathon and, at the addresses
 * Marathon reports, to the job's JobManager REST, prints one line per
 * change of state, and exits with one of the codes below.
 *
 * Each wait is bounded by --timeout; SIGINT and SIGTERM end the command
 * (a running job is left running, and the command says how to follow or
 * stop it) with 128+N. */
#pragma once

#include "config/jobcli.h"

enum {
        JOB_EXIT_FINISHED = 0,        /* FINISHED; --detached: RUNNING; stop-job: stopped */
        JOB_EXIT_FAILED = 1,          /* the job FAILED; stop-job: no savepoint */
        JOB_EXIT_USAGE = 2,
        JOB_EXIT_CANCELED = 3,
        JOB_EXIT_REFUSED = 4,         /* Marathon refused, the group exists, no such cluster */
        JOB_EXIT_UNREACHABLE = 5,     /* Marathon or the JobManager did not answer */
        JOB_EXIT_TIMEOUT = 6,         /* not ready / not running within --timeout */
        JOB_EXIT_JM_FAILED = 7,       /* the JobManager's task failed (fetch, image, start) */
};

/* argv[0] is the command. Returns the exit code. */
int jobclient_main(int argc, char **argv);
