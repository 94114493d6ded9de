/* child: see child.h. */
#include "core/child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>


#define X (-EINVAL)
static const int8_t transitions[CHILD_STATE_COUNT][CHILD_EVENT_COUNT] = {
        /*                  SPAWN           EXEC_OK         EXIT          STOP            DEADLINE        RESTART        GIVE_UP */
        [CHILD_IDLE]     = { CHILD_STARTING, X,              X,            CHILD_EXITED,   X,              X,             X },
        [CHILD_STARTING] = { X,              CHILD_RUNNING,  CHILD_EXITED, CHILD_STOPPING, X,              X,             X },
        [CHILD_RUNNING]  = { X,              X,              CHILD_EXITED, CHILD_STOPPING, X,              X,             X },
        [CHILD_STOPPING] = { X,              CHILD_STOPPING, CHILD_EXITED, CHILD_STOPPING, CHILD_STOPPING, X,             X },
        [CHILD_EXITED]   = { X,              X,              X,            CHILD_EXITED,   X,              CHILD_BACKOFF, CHILD_GIVEN_UP },
        [CHILD_BACKOFF]  = { CHILD_STARTING, X,              X,            CHILD_EXITED,   X,              X,             X },
        [CHILD_GIVEN_UP] = { X,              X,              X,            CHILD_GIVEN_UP, X,              X,             X },
};
#undef X

static const char *const state_names[CHILD_STATE_COUNT] = {
        [CHILD_IDLE] = "idle",         [CHILD_STARTING] = "starting", [CHILD_RUNNING] = "running",
        [CHILD_STOPPING] = "stopping", [CHILD_EXITED] = "exited",     [CHILD_BACKOFF] = "backoff",
        [CHILD_GIVEN_UP] = "given-up",
};

int child_transition(enum child_state s, enum child_event e)
{
        if ((unsigned)s >= CHILD_STATE_COUNT || (unsigned)e >= CHILD_EVENT_COUNT)
                return -EINVAL;
        return transitions[s][e];
}

const char *child_state_name(enum child_state s)
{
        return (unsigned)s < CHILD_STATE_COUNT ? state_names[s] : "invalid";
}

int child_exit_code(int wstatus)
{
        if (WIFEXITED(wstatus))
                return WEXITSTATUS(wstatus);
        if (WIFSIGNALED(wstatus))
                return 128 + WTERMSIG(wstatus);
        return 255;
}

/* Runs in the forked child: async-signal-safe calls only. */
static _Noreturn void exec_child(const struct child *c, const struct sig_saved *saved, int status_fd)
{
        int err;

        setpgid(0, 0);
        /* Give an interactive terminal to the child's group, as a shell
         * would; not a terminal (the usual case) is fine. */
        if (isatty(STDIN_FILENO))
                tcsetpgrp(STDIN_FILENO, getpgrp());
        sig_restore(saved);
        if (c->creds && (setgroups((size_t)c->creds->n_groups, c->creds->groups) < 0 ||
                         setgid(c->creds->gid) < 0 || setuid(c->creds->uid) < 0)) {
                err = errno;
                ssize_t r = write(status_fd, &err, sizeof err);
                (void)r;
                _exit(CHILD_EXIT_NOT_EXECUTABLE);
        }
        execvpe(c->argv[0], c->argv, c->envp ? c->envp : environ);
        err = errno;
        ssize_t r = write(status_fd, &err, sizeof err);
        (void)r;
        _exit(err == ENOENT ? CHILD_EXIT_NOT_FOUND : CHILD_EXIT_NOT_EXECUTABLE);
}

int child_spawn(struct child *c, const struct sig_saved *saved)
{
        int fds[2];
        pid_t pid;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int err = -errno;
                close(fds[0]);
                close(fds[1]);
                return err;
        }
        if (pid == 0) {
                close(fds[0]);
                exec_child(c, saved, fds[1]);
        }
        /* Also here, so signalling the group cannot race the child's own call. */
        setpgid(pid, pid);
        close(fds[1]);
        fcntl(fds[0], F_SETFL, O_NONBLOCK);
        c->pid = pid;
        c->exec_errno = 0;
        c->exec_pipe.fd = fds[0];
        return 0;
}

int child_read_exec_status(struct child *c)
{
        int err;
        ssize_t n = read(c->exec_pipe.fd, &err, sizeof err);

        if (n == sizeof err) {
                c->exec_errno = err;
                return 1;
        }
        if (n == 0)
                return 1;
        return 0;
}

int child_signal_group(const struct child *c, int signo)
{
        if (c->pid <= 0)
                return -ESRCH;
        return kill(-c->pid, signo) < 0 ? -errno : 0;
}
