/* role: see role.h. */
#include "config/role.h"

#include <errno.h>
#include <string.h>

static const char *const role_names[ROLE_COUNT] = {
        [ROLE_LOCAL] = "local",
        [ROLE_JOBMANAGER] = "jobmanager",
        [ROLE_APPMASTER] = "appmaster",
        [ROLE_TASKMANAGER] = "taskmanager",
        [ROLE_STANDALONE_JOB] = "standalone-job",
        [ROLE_HISTORY_SERVER] = "history-server",
};

int role_parse(const char *name, enum role *ret)
{
        for (int i = 0; i < ROLE_COUNT; i++) {
                if (strcmp(role_names[i], name) == 0) {
                        *ret = (enum role)i;
                        return 0;
                }
        }
        return -EINVAL;
}

const char *role_name(enum role role)
{
        return role_names[role];
}

const char *role_expected(void)
{
        return "local, jobmanager, appmaster, taskmanager, standalone-job or history-server";
}
