/* cli: see cli.h. */
#include "config/cli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_define(const char *arg)
{
        return strncmp(arg, "-D", 2) == 0;
}

/* A -D argument must be -Dkey=value with a non-empty key. */
static int check_define(const char *arg, char *err, size_t errlen)
{
        const char *eq = strchr(arg + 2, '=');
        if (!eq || eq == arg + 2) {
                snprintf(err, errlen, "invalid argument \"%.64s\": expected -Dkey=value", arg);
                return -EINVAL;
        }
        return 0;
}

int cli_parse(struct cli *ret, int argc, char **argv, char *err, size_t errlen)
{
        struct cli c = { .action = CLI_RUN };
        int i = 1, r;

        /* Both arrays hold at most argc entries plus the terminator. */
        c.defines = calloc((size_t)argc + 1, sizeof *c.defines);
        c.role_args = calloc((size_t)argc + 1, sizeof *c.role_args);
        if (!c.defines || !c.role_args) {
                r = -ENOMEM;
                goto fail;
        }
        for (; i < argc; i++) {
                const char *a = argv[i];
                if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        c.action = CLI_HELP;
                } else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
                        c.action = CLI_VERSION;
                } else if (strcmp(a, "--check") == 0) {
                        c.action = CLI_CHECK;
                } else if (strcmp(a, "--probe") == 0) {
                        c.action = CLI_PROBE;
                } else if (strcmp(a, "--print-config") == 0) {
                        c.action = CLI_PRINT_CONFIG;
                } else if (strcmp(a, "--zk-push") == 0) {
                        if (i + 1 >= argc) {
                                snprintf(err, errlen, "missing FILE after --zk-push: expected --zk-push FILE");
                                r = -EINVAL;
                                goto fail;
                        }
                        c.action = CLI_ZK_PUSH;
                        c.zk_push = argv[++i];
                } else if (strcmp(a, "--") == 0) {
                        if (i + 1 >= argc) {
                                snprintf(err, errlen, "missing command after \"--\": expected -- CMD [ARGS...]");
                                r = -EINVAL;
                                goto fail;
                        }
                        c.cmd = &argv[i + 1];
                        break;
                } else if (is_define(a)) {
                        if ((r = check_define(a, err, errlen)) < 0)
                                goto fail;
                        c.defines[c.n_defines++] = argv[i] + 2;
                } else if (a[0] == '-') {
                        snprintf(err, errlen, "unknown option \"%.64s\": expected one of -h, --help, -V, --version, --check, --print-config, --zk-push FILE, --probe, -Dkey=value, --", a);
                        r = -EINVAL;
                        goto fail;
                } else {
                        c.role_arg = a;
                        i++;
                        break;
                }
        }
        /* After the role: -D settings and arguments for the role's script;
         * after a "--" only arguments, kept with the "--" (standalone-job
         * hands what follows it to the job as it is). */
        for (bool verbatim = false; c.role_arg && i < argc; i++) {
                verbatim = verbatim || strcmp(argv[i], "--") == 0;
                if (!verbatim && is_define(argv[i])) {
                        if ((r = check_define(argv[i], err, errlen)) < 0)
                                goto fail;
                        c.defines[c.n_defines++] = argv[i] + 2;
                } else {
                        c.role_args[c.n_role_args++] = argv[i];
                }
        }
        if (c.cmd && c.action == CLI_PRINT_CONFIG) {
                snprintf(err, errlen, "--print-config given with \"-- CMD\": there is no Flink configuration without a role");
                r = -EINVAL;
                goto fail;
        }
        if (c.cmd && c.n_defines > 0) {
                snprintf(err, errlen, "-D%.64s given with \"-- CMD\": -D settings need a Flink role, not a command", c.defines[0]);
                r = -EINVAL;
                goto fail;
        }
        *ret = c;
        return 0;
fail:
        free(c.defines);
        free(c.role_args);
        return r;
}

void cli_free(struct cli *cli)
{
        free(cli->defines);
        free(cli->role_args);
        cli->defines = NULL;
        cli->role_args = NULL;
}
