/* child: see child.h. */
#include "core/child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "base/exitcode.h"
#include "base/fmt.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int child_exit_code(int wstatus)
{
        if (WIFEXITED(wstatus))
                return WEXITSTATUS(wstatus);
        if (WIFSIGNALED(wstatus))
                return 128 + WTERMSIG(wstatus);
        return 255;
}

static bool executable_file(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* dir/name, or with dir "" ./name; relative ones under base when given. */
static int candidate(const char *base, const char *dir, size_t len, const char *name, char *buf, size_t size)
{
        bool relative = !len || dir[0] != '/';

        if (!len)
                return base ? fmt(buf, size, "%s/%s", base, name) : fmt(buf, size, "./%s", name);
        if (relative && base)
                return fmt(buf, size, "%s/%.*s/%s", base, (int)len, dir, name);
        return fmt(buf, size, "%.*s/%s", (int)len, dir, name);
}

int child_resolve(const char *name, const char *path, const char *base, char *buf, size_t size)
{
        int r = -ENOENT;

        if (!*name)
                return -ENOENT;
        if (strchr(name, '/')) {
                if (base && name[0] != '/')
                        return fmt(buf, size, "%s/%s", base, name);
                return fmt(buf, size, "%s", name);
        }
        if (!path)
                path = "/bin:/usr/bin";
        for (;;) {
                size_t len = strcspn(path, ":");

                /* An empty entry is the current directory, as execvp has it. */
                if (candidate(base, path, len, name, buf, size) < 0)
                        r = -ENAMETOOLONG;
                else if (executable_file(buf))
                        return 0;
                else if (access(buf, F_OK) == 0 && r == -ENOENT)
                        r = -EACCES;
                if (!path[len])
                        break;
                path += len + 1;
        }
        return r;
}

/* Marks every descriptor from 3 up CLOEXEC except fds->keep; runs in the
 * forked child. close_range needs Linux 5.11; older kernels get fcntl up to
 * max_fd. */
static void cloexec_from_3(const struct child_start *start, unsigned max_fd)
{
        unsigned lo = 3;

        for (size_t i = 0; i <= start->n_keep; i++) {
                unsigned hi = i < start->n_keep ? (unsigned)start->keep[i] : ~0u;
                if (hi < lo)
                        continue;
                if (hi > lo && close_range(lo, hi - 1, CLOSE_RANGE_CLOEXEC) < 0)
                        for (unsigned fd = lo; fd < hi && fd < max_fd; fd++)
                                fcntl((int)fd, F_SETFD, FD_CLOEXEC);
                if (hi == ~0u)
                        break;
                lo = hi + 1;
        }
}

struct exec_plan {
        const char *path;       /* NULL: not found; errno_ says why */
        int errno_;
        char *const *sh_argv;   /* for a script without #!, as execvp runs it */
        unsigned max_fd;
        pid_t parent;
};

static _Noreturn void report_exec_error(int status_fd, int err)
{
        ssize_t r = write(status_fd, &err, sizeof err);
        (void)r;
        _exit(err == ENOENT ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE);
}

/* Runs in the forked child: async-signal-safe calls only. */
static _Noreturn void exec_child(const struct child *c, const struct sig_saved *saved, const struct child_start *start,
                                 const struct exec_plan *plan, int status_fd)
{
        char *const *envp = c->envp ? c->envp : environ;

        setpgid(0, 0);
        /* Give an interactive terminal to the child's group, as a shell
         * would; not a terminal (the usual case) is fine. */
        if (isatty(STDIN_FILENO))
                tcsetpgrp(STDIN_FILENO, getpgrp());
        sig_restore(saved);
        /* Before the change of user: the start directory may be one that
         * only we can enter, and the child keeps it all the same, as it
         * would have kept it without the supervisor's move to /. */
        if (start->dir && chdir(start->dir) < 0)
                report_exec_error(status_fd, errno);
        if (c->creds && (setgroups((size_t)c->creds->n_groups, c->creds->groups) < 0 ||
                         setgid(c->creds->gid) < 0 || setuid(c->creds->uid) < 0))
                report_exec_error(status_fd, errno);
        /* After the change of user, which clears it; a supervisor that died
         * before it was set has left us to another parent already. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                report_exec_error(status_fd, errno);
        if (getppid() != plan->parent)
                _exit(EXIT_SUPERVISOR_FAILED);
        if (!plan->path)
                report_exec_error(status_fd, plan->errno_);
        cloexec_from_3(start, plan->max_fd);
        execve(plan->path, c->argv, envp);
        if (errno == ENOEXEC && plan->sh_argv)
                execve("/bin/sh", plan->sh_argv, envp);
        report_exec_error(status_fd, errno);
}

/* /bin/sh PATH ARGS...: what execvp runs for a file without #!. */
static char **shell_argv(const char *path, char *const *argv)
{
        size_t n = 0;
        char **sh;

        while (argv[n])
                n++;
        sh = calloc(n + 2, sizeof *sh);
        if (!sh)
                return NULL;
        sh[0] = (char *)(uintptr_t)"/bin/sh";
        sh[1] = (char *)(uintptr_t)path;
        for (size_t i = 1; i < n; i++)
                sh[i + 1] = argv[i];
        return sh;
}

int child_spawn(struct child *c, const struct sig_saved *saved, const struct child_start *start)
{
        char path[PATH_MAX];
        struct exec_plan plan = { .path = path };
        struct rlimit lim;
        char **sh = NULL;
        int pipefd[2] = { -1, -1 }, r = 0;
        pid_t pid;

        /* Relative to where the child runs, not to where we are. */
        r = child_resolve(c->argv[0], getenv("PATH"), start->dir, path, sizeof path);
        if (r < 0) {
                plan.path = NULL;
                plan.errno_ = -r;
        } else if (!(sh = shell_argv(path, c->argv))) {
                return -ENOMEM;
        }
        plan.sh_argv = sh;
        plan.parent = getpid();
        plan.max_fd = getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < 65536 ? (unsigned)lim.rlim_cur : 65536;
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                r = -errno;
                goto out;
        }
        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto out;
        }
        if (pid == 0)
                exec_child(c, saved, start, &plan, pipefd[1]);
        /* Also here, so signalling the group cannot race the child's own call. */
        setpgid(pid, pid);
        fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
        c->pid = c->pgid = pid;
        c->exec_errno = 0;
        c->exec_pipe.fd = pipefd[0];
        pipefd[0] = -1;
        r = 0;
out:
        if (pipefd[0] >= 0)
                close(pipefd[0]);
        if (pipefd[1] >= 0)
                close(pipefd[1]);
        free(sh);
        return r;
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
        if (c->pgid <= 0)
                return -ESRCH;
        return kill(-c->pgid, signo) < 0 ? -errno : 0;
}

bool child_group_left(const struct child *c)
{
        return c->pgid > 0 && (kill(-c->pgid, 0) == 0 || errno == EPERM);
}
