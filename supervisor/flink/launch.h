/* launch: what a role runs: Flink's own foreground scripts, one child per
 * JVM (two for local), with FLINK_CONF_DIR in their environment and the
 * secret settings not. Owns the argv and envp arrays it builds. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config/role.h"
#include "core/child.h"
#include "flink/flinkhome.h"

#define LAUNCH_MAX_JARS 8

struct launch {
        size_t n;
        const char *names[CHILD_MAX];
        char **argv[CHILD_MAX];
        char **envp;
        char *conf_dir_entry;   /* "FLINK_CONF_DIR=...", the one owned string of envp */
        char *jars[LAUNCH_MAX_JARS]; /* the --jars values launch_plan rewrote */
        size_t n_jars;
};

/* An appmaster given a job (--job-classname, -j or --jars among its role
 * arguments) runs in application mode: Flink's standalone-job.sh with
 * those arguments, its TaskManagers allocated as for a session cluster. */
bool launch_is_application(enum role role, char *const *role_args, size_t n_role_args);

/* Returns 0, -ENOMEM, or -ENAMETOOLONG when a script's path does not fit.
 * role_args go after "start-foreground". In application mode (and for
 * standalone-job) a --jars value that is a relative path names a file
 * Marathon fetched into the sandbox (MESOS_SANDBOX, else the working
 * directory) and becomes its file:// URI; an absolute path becomes
 * file://PATH; a URI is left as it is. */
int launch_plan(struct launch *l, enum role role, const struct flinkhome *fh, char *const *role_args,
                size_t n_role_args, char *const *environ_in, const char *conf_dir);
void launch_free(struct launch *l);
