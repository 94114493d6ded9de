/* role: the Flink roles of the interface contract, by name. Pure. */
#pragma once

enum role {
        ROLE_LOCAL,
        ROLE_JOBMANAGER,
        ROLE_APPMASTER,
        ROLE_TASKMANAGER,
        ROLE_STANDALONE_JOB,
        ROLE_HISTORY_SERVER,
        ROLE_COUNT,
};

/* Returns 0 and sets *ret, or -EINVAL for an unknown name. */
int role_parse(const char *name, enum role *ret);
const char *role_name(enum role role);
/* "local, jobmanager, ..." for error messages. */
const char *role_expected(void);
