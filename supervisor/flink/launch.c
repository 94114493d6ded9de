/* launch: see launch.h. */
#include "flink/launch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/settings.h"

/* The file:// URI of a --jars path (see launch.h); NULL without memory. */
static char *jar_uri(const char *value, const char *sandbox)
{
        char *out;

        if (value[0] == '/')
                return asprintf(&out, "file://%s", value) < 0 ? NULL : out;
        return asprintf(&out, "file://%s/%s", sandbox, value) < 0 ? NULL : out;
}

static int add(struct launch *l, const char *name, const struct flinkhome *fh, const char *script,
               char *const *role_args, size_t n_role_args, const char *sandbox)
{
        char path[1200];
        char **argv;
        int r = flinkhome_script(fh, script, path, sizeof path);

        if (r < 0)
                return r;
        argv = calloc(n_role_args + 3, sizeof *argv);
        if (!argv)
                return -ENOMEM;
        l->argv[l->n] = argv;
        l->names[l->n++] = name;
        argv[0] = strdup(path);
        argv[1] = strdup("start-foreground");
        if (!argv[0] || !argv[1])
                return -ENOMEM;
        /* After "--" the arguments are the job's: none is rewritten. */
        for (size_t i = 0; i < n_role_args; i++) {
                argv[2 + i] = role_args[i];
                if (sandbox && strcmp(role_args[i], "--") == 0)
                        sandbox = NULL;
                if (!sandbox || i == 0 || strcmp(role_args[i - 1], "--jars") != 0 || strstr(role_args[i], "://"))
                        continue;
                if (l->n_jars == LAUNCH_MAX_JARS || !(l->jars[l->n_jars] = jar_uri(role_args[i], sandbox)))
                        return l->n_jars == LAUNCH_MAX_JARS ? -E2BIG : -ENOMEM;
                argv[2 + i] = l->jars[l->n_jars++];
        }
        return 0;
}

bool launch_is_application(enum role role, char *const *role_args, size_t n_role_args)
{
        if (role != ROLE_APPMASTER)
                return false;
        for (size_t i = 0; i < n_role_args && strcmp(role_args[i], "--") != 0; i++)
                if (strcmp(role_args[i], "--job-classname") == 0 || strcmp(role_args[i], "-j") == 0 ||
                    strcmp(role_args[i], "--jars") == 0)
                        return true;
        return false;
}

/* Where fetched files are: the sandbox, else the working directory. */
static const char *sandbox_of(char *const *environ_in, char *cwd, size_t size)
{
        for (char *const *e = environ_in; *e; e++)
                if (strncmp(*e, "MESOS_SANDBOX=", 14) == 0 && (*e)[14] == '/')
                        return *e + 14;
        return getcwd(cwd, size) ? cwd : ".";
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
        char cwd[1024];
        const char *sandbox = sandbox_of(environ_in, cwd, sizeof cwd);
        int r = 0;

        memset(l, 0, sizeof *l);
        switch (role) {
        case ROLE_LOCAL:
                r = add(l, "jobmanager", fh, "jobmanager.sh", role_args, n_role_args, NULL);
                if (r == 0)
                        r = add(l, "taskmanager", fh, "taskmanager.sh", NULL, 0, NULL);
                break;
        case ROLE_APPMASTER:
                if (launch_is_application(role, role_args, n_role_args)) {
                        r = add(l, "standalone-job", fh, "standalone-job.sh", role_args, n_role_args, sandbox);
                        break;
                }
                /* fall through */
        case ROLE_JOBMANAGER:
                r = add(l, "jobmanager", fh, "jobmanager.sh", role_args, n_role_args, NULL);
                break;
        case ROLE_TASKMANAGER:
                r = add(l, "taskmanager", fh, "taskmanager.sh", role_args, n_role_args, NULL);
                break;
        case ROLE_STANDALONE_JOB:
                r = add(l, "standalone-job", fh, "standalone-job.sh", role_args, n_role_args, sandbox);
                break;
        case ROLE_HISTORY_SERVER:
                r = add(l, "history-server", fh, "historyserver.sh", role_args, n_role_args, NULL);
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
        for (size_t i = 0; i < l->n_jars; i++)
                free(l->jars[i]);
        free(l->conf_dir_entry);
        free(l->envp);
        memset(l, 0, sizeof *l);
}
