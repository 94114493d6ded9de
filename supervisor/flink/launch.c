/* launch: see launch.h. */
#include "flink/launch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/settings.h"

static int add(struct launch *l, const char *name, const struct flinkhome *fh, const char *script,
               char *const *role_args, size_t n_role_args)
{
        char path[1200];
        char **argv;
        int r = flinkhome_script(fh, script, path, sizeof path);

        if (r < 0)
                return r;
        argv = calloc(n_role_args + 3, sizeof *argv);
        if (!argv)
                return -ENOMEM;
        argv[0] = strdup(path);
        argv[1] = strdup("start-foreground");
        if (!argv[0] || !argv[1]) {
                free(argv[0]);
                free(argv[1]);
                free(argv);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n_role_args; i++)
                argv[2 + i] = role_args[i];
        l->names[l->n] = name;
        l->argv[l->n++] = argv;
        return 0;
}

static int build_env(struct launch *l, char *const *environ_in, const char *conf_dir)
{
        if (asprintf(&l->conf_dir_entry, "FLINK_CONF_DIR=%s", conf_dir) < 0) {
                l->conf_dir_entry = NULL;
                return -ENOMEM;
        }
        l->envp = settings_child_env(environ_in, l->conf_dir_entry);
        return l->envp ? 0 : -ENOMEM;
}

int launch_plan(struct launch *l, enum role role, const struct flinkhome *fh, char *const *role_args,
                size_t n_role_args, char *const *environ_in, const char *conf_dir)
{
        int r = 0;

        memset(l, 0, sizeof *l);
        switch (role) {
        case ROLE_LOCAL:
                r = add(l, "jobmanager", fh, "jobmanager.sh", role_args, n_role_args);
                if (r == 0)
                        r = add(l, "taskmanager", fh, "taskmanager.sh", NULL, 0);
                break;
        case ROLE_JOBMANAGER:
        case ROLE_APPMASTER:
                r = add(l, "jobmanager", fh, "jobmanager.sh", role_args, n_role_args);
                break;
        case ROLE_TASKMANAGER:
                r = add(l, "taskmanager", fh, "taskmanager.sh", role_args, n_role_args);
                break;
        case ROLE_STANDALONE_JOB:
                r = add(l, "standalone-job", fh, "standalone-job.sh", role_args, n_role_args);
                break;
        case ROLE_HISTORY_SERVER:
                r = add(l, "history-server", fh, "historyserver.sh", role_args, n_role_args);
                break;
        default:
                r = -EINVAL;
        }
        if (r == 0)
                r = build_env(l, environ_in, conf_dir);
        if (r < 0)
                launch_free(l);
        return r;
}

void launch_free(struct launch *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->argv[i][0]);
                free(l->argv[i][1]);
                free(l->argv[i]);
        }
        free(l->conf_dir_entry);
        free(l->envp);
        memset(l, 0, sizeof *l);
}
