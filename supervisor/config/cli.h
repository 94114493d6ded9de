/* cli: the command line of the interface contract. Pure.
 *
 *   flink-supervisor [OPTIONS] [ROLE] [-Dkey=value ...] [ROLE ARGS ...] [-- ARGS ...]
 *   flink-supervisor [OPTIONS] -- CMD [ARGS...]
 *
 * All pointers in struct cli point into argv (borrowed) or into arrays
 * owned by the struct; cli_free releases the arrays. */
#pragma once

#include <stddef.h>

#include "config/role.h"

enum cli_action { CLI_RUN, CLI_HELP, CLI_VERSION, CLI_CHECK, CLI_PRINT_CONFIG, CLI_ZK_PUSH, CLI_PROBE };

struct cli {
        enum cli_action action;
        const char *role_arg;   /* the role named on the command line, or NULL */
        const char *zk_push;    /* the FILE of --zk-push */
        char **cmd;             /* after "--": NULL-terminated, or NULL */
        char **defines;         /* "key=value" of each -D, in order */
        size_t n_defines;
        char **role_args;       /* other words after the role, NULL-terminated */
        size_t n_role_args;
};

/* Returns 0, -EINVAL with a one-line message in err, or -ENOMEM. */
int cli_parse(struct cli *ret, int argc, char **argv, char *err, size_t errlen);
void cli_free(struct cli *cli);
