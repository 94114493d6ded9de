/* child: one supervised process and its state machine.
 *
 *   idle -> starting -> running -> stopping -> exited -> backoff -> starting
 *                                               exited -> given-up
 *
 * The transitions are a table (child_transition), so what may happen in
 * each state is data that a test can read. The child owns its exec-status
 * pipe and its timer (the backoff delay or the stop deadline: never both);
 * argv and envp are borrowed and must outlive it. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/crashloop.h"
#include "core/loop.h"
#include "core/sig.h"
#include "core/timer.h"

/* The exit codes of a child whose exec failed, as shells and tini use them. */
enum {
        CHILD_EXIT_NOT_EXECUTABLE = 126, /* the command exists but exec failed */
        CHILD_EXIT_NOT_FOUND = 127,      /* the command does not exist */
};

/* Who a child runs as, resolved before fork (no name lookups after it).
 * As many groups as the kernel allows: a user in more must not run with
 * only some of them. */
struct child_creds {
        uid_t uid;
        gid_t gid;
        gid_t groups[NGROUPS_MAX];
        int n_groups;
};

enum child_state {
        CHILD_IDLE,
        CHILD_STARTING, /* forked; exec not yet confirmed */
        CHILD_RUNNING,
        CHILD_STOPPING, /* signalled to stop; the deadline timer runs */
        CHILD_EXITED,
        CHILD_BACKOFF,  /* waiting to restart; the backoff timer runs */
        CHILD_GIVEN_UP,
        CHILD_STATE_COUNT,
};

enum child_event {
        CHILD_EV_SPAWN,
        CHILD_EV_EXEC_OK,
        CHILD_EV_EXIT,
        CHILD_EV_STOP,
        CHILD_EV_DEADLINE,
        CHILD_EV_RESTART,
        CHILD_EV_GIVE_UP,
        CHILD_EVENT_COUNT,
};

struct child {
        const char *name;
        char *const *argv;
        char *const *envp;        /* NULL: the supervisor's environment */
        enum child_state state;
        pid_t pid;                /* also the process group id; 0 when none */
        int exec_errno;           /* why exec failed, 0 if it did not */
        int exit_code;            /* 0-255, 128+N for signal N */
        uint64_t started_ms;
        unsigned attempt;         /* backoff attempt since the last stable run */
        bool restart_now;         /* stopped for a rolling restart: start again at once */
        uint64_t starts;          /* processes started, for restart counts */
        uint64_t exits;
        struct loop_source exec_pipe;
        struct timer timer;
        struct crashloop crashes;
        void *owner;              /* the supervisor, for the loop handlers */
        const struct child_creds *creds; /* NULL: run as the supervisor's user */
};

/* The state after event e in state s, or -EINVAL when e cannot happen there. */
int child_transition(enum child_state s, enum child_event e);
const char *child_state_name(enum child_state s);

/* The exit code for a wait status: the code, or 128+N for signal N. */
int child_exit_code(int wstatus);

/* Forks and execs c->argv in a new process group with the saved signal
 * mask and dispositions restored. The exec-status pipe's read end goes to
 * c->exec_pipe (the caller registers it): EOF means exec succeeded, an int
 * means exec failed with that errno. Returns 0 or -errno (fork failed). */
int child_spawn(struct child *c, const struct sig_saved *saved);

/* Reads the exec-status pipe after it became readable; sets exec_errno.
 * Returns 1 when the pipe is done (EOF or errno read), 0 to wait for more. */
int child_read_exec_status(struct child *c);

/* Sends signo to the child's whole process group. Returns 0 or -errno. */
int child_signal_group(const struct child *c, int signo);
