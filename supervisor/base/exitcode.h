/* exitcode: the supervisor's own exit codes; otherwise it exits with its
 * child's code, or 128+N when the child died of signal N. */
#pragma once

enum {
        EXIT_USAGE = 2,               /* bad command line, setting or document */
        EXIT_GAVE_UP = 111,           /* crash loop: let the scheduler move the task */
        /* ZooKeeper gave no configuration within FLINK_ZK_TIMEOUT and there
         * was no last good one: starting without the shared config could
         * start a cluster without HA, which then splits. */
        EXIT_NO_CONFIG = 112,
        EXIT_SUPERVISOR_FAILED = 125, /* the supervisor could not set itself up */
        EXIT_NOT_EXECUTABLE = 126,    /* the command exists but exec failed */
        EXIT_NOT_FOUND = 127,         /* the command does not exist */
};
