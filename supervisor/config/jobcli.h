/* jobcli: the command lines of the job-cluster client. Pure.
 *
 *   flink-supervisor run-job  --id /jobs/NAME (--jar URI|PATH | --class NAME) [OPTIONS] [-- JOB ARGS...]
 *   flink-supervisor stop-job --id /jobs/NAME [--savepoint DIR] [--drain]
 *   flink-supervisor list-jobs
 *
 * Pointers in struct jobcli point into argv (borrowed) or into the two
 * arrays the struct owns; jobcli_free releases those. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum jobcli_command { JOBCLI_RUN, JOBCLI_STOP, JOBCLI_LIST };

#define JOBCLI_DEFAULT_IMAGE "flink-appliance:latest"
#define JOBCLI_DEFAULT_TIMEOUT_S 300
#define JOBCLI_DEFAULT_JM_CPUS 1.0
#define JOBCLI_DEFAULT_JM_MEM 1024

struct jobcli {
        enum jobcli_command command;
        bool help;
        const char *marathon;         /* --marathon; NULL: MARATHON_URL */
        const char *id;               /* --id: the group */
        const char *image;            /* --image */
        const char *jar;              /* --jar: a URI (fetched) or a path in the image */
        const char *klass;            /* --class */
        long parallelism;             /* --parallelism; 0: Flink's default */
        const char *from_savepoint;   /* --from-savepoint */
        bool allow_non_restored;      /* --allow-non-restored-state */
        const char *savepoint_dir;    /* stop-job --savepoint; NULL: state.savepoints.dir */
        bool drain;                   /* stop-job --drain */
        bool detached;                /* run-job --detached */
        long timeout_s;               /* --timeout: for each wait */
        double jm_cpus;               /* --jm-cpus */
        long jm_mem_mb;               /* --jm-mem */
        char **defines;               /* "-Dkey=value", as given */
        size_t n_defines;
        char **env;                   /* "KEY=VALUE" of each --env */
        size_t n_env;
        char **job_args;              /* after "--" */
        size_t n_job_args;
};

/* argv[0] names the command (run-job, stop-job, list-jobs). */
bool jobcli_is_command(const char *arg);
/* Returns 0, -EINVAL with one line in err naming the option and what was
 * expected, or -ENOMEM. */
int jobcli_parse(struct jobcli *ret, int argc, char **argv, char *err, size_t errlen);
void jobcli_free(struct jobcli *c);
/* A jar given as a URI is fetched by Marathon (a scheme before "://");
 * a path is a file in the image. */
bool jobcli_jar_is_uri(const char *jar);
/* Marathon's path rule for a group id: absolute, segments of lower-case
 * letters, digits, '-' and '.', none starting or ending with '-'. */
bool jobcli_valid_id(const char *id);
