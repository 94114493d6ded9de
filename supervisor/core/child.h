/* child: one supervised process: how it is started, signalled and reaped.
 * What happens to it when is the policy's (policy.h); the child owns its
 * exec-status pipe and its timer (the backoff delay or the stop deadline:
 * never both); argv and envp are borrowed and must outlive it. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/crashloop.h"
#include "core/loop.h"
#include "core/policy.h"
#include "core/sig.h"
#include "core/timer.h"

/* A supervisor runs at most this many children: Flink's local mode has two. */
#define CHILD_MAX 2

/* Who a child runs as, resolved before fork (no name lookups after it).
 * As many groups as the kernel allows: a user in more must not run with
 * only some of them. */
struct child_creds {
        uid_t uid;
        gid_t gid;
        gid_t groups[NGROUPS_MAX];
        int n_groups;
};

/* What every child starts with that the supervisor no longer has. */
struct child_start {
        /* Open besides 0, 1 and 2: the descriptors the supervisor itself was
         * started with (sorted). Everything else, including what library
         * threads opened without O_CLOEXEC, is closed on exec. */
        const int *keep;
        size_t n_keep;
        /* The directory the supervisor was started in (absolute; NULL: the
         * current one): the supervisor itself moves to / once its children
         * run, so as not to keep it busy. */
        const char *dir;
};

struct child {
        const char *name;
        char *const *argv;
        char *const *envp;        /* NULL: the supervisor's environment */
        struct policy_child p;
        pid_t pid;                /* 0 when no process runs */
        pid_t pgid;               /* its process group, kept until the group is drained; 0 when none */
        int exec_errno;           /* why exec failed, 0 if it did not */
        uint64_t started_ms;
        uint64_t starts;          /* processes started, for restart counts */
        uint64_t exits;
        struct loop_source exec_pipe;
        struct timer timer;
        struct crashloop crashes;
        void *owner;              /* the supervisor, for the loop handlers */
        const struct child_creds *creds; /* NULL: run as the supervisor's user */
};

/* The exit code for a wait status: the code, or 128+N for signal N. */
int child_exit_code(int wstatus);

/* Finds name as execvp would, in path (NULL: "/bin:/usr/bin"; an empty
 * entry is the current directory), without exec'ing: into buf. Relative
 * names and entries are taken under base when it is given (absolute), else
 * under the current directory. Returns 0, -ENOENT, -EACCES (found, but
 * nothing there is executable) or -ENAMETOOLONG. */
int child_resolve(const char *name, const char *path, const char *base, char *buf, size_t size);

/* Forks and execs c->argv in a new process group, in start->dir, with the
 * saved signal mask restored and SIGKILL as its parent-death signal (set
 * after the change of user, which would clear it), so a child never
 * outlives a supervisor that was killed. The command's path is resolved before
 * the fork: after it, in a process with library threads, only
 * async-signal-safe calls are made. The exec-status pipe's read end goes to
 * c->exec_pipe (the caller registers it): EOF means exec succeeded, an int
 * means exec failed with that errno. Returns 0 or -errno (fork failed). */
int child_spawn(struct child *c, const struct sig_saved *saved, const struct child_start *fds);

/* Reads the exec-status pipe after it became readable; sets exec_errno.
 * Returns 1 when the pipe is done (EOF or errno read), 0 to wait for more. */
int child_read_exec_status(struct child *c);

/* Sends signo to the child's whole process group. Returns 0 or -errno. */
int child_signal_group(const struct child *c, int signo);
/* Whether any process (zombies included) is left in the child's group. */
bool child_group_left(const struct child *c);
