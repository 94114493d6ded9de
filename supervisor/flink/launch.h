/* launch: what a role runs: Flink's own foreground scripts, one child per
 * JVM (two for local), with FLINK_CONF_DIR in their environment and the
 * secret settings not. Owns the argv and envp arrays it builds. */
#pragma once

#include <stddef.h>

#include "config/role.h"
#include "core/child.h"
#include "flink/flinkhome.h"

struct launch {
        size_t n;
        const char *names[CHILD_MAX];
        char **argv[CHILD_MAX];
        char **envp;
        char *conf_dir_entry;   /* "FLINK_CONF_DIR=...", the one owned string of envp */
};

/* Returns 0, -ENOMEM, or -ENAMETOOLONG when a script's path does not fit.
 * role_args go after "start-foreground". */
int launch_plan(struct launch *l, enum role role, const struct flinkhome *fh, char *const *role_args,
                size_t n_role_args, char *const *environ_in, const char *conf_dir);
void launch_free(struct launch *l);
