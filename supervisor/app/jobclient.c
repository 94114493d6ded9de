/* jobclient: see jobclient.h. The commands are in jobrun.c (run-job) and
 * jobcontrol.c (stop-job, list-jobs), their plumbing in jobio.c. */
#include "app/jobclient.h"

#include <errno.h>
#include <stdio.h>

#include "app/jobio.h"
#include "base/log.h"
#include "config/settings.h"
#include "integrations/jobgroup.h"

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
        if (settings_load(&set, settings_getenv, NULL, settings_report_stderr, NULL) < 0) {
                jobcli_free(&cli);
                return JOB_EXIT_USAGE;
        }
        log_setup(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
        if ((r = jobio_open(&c, &cli, &set)) == 0)
                r = cli.command == JOBCLI_RUN ? jobio_run_job(&c) : cli.command == JOBCLI_STOP ? jobio_stop_job(&c) : jobio_list_jobs(&c);
        jobio_close(&c);
        jobcli_free(&cli);
        return r;
}
