/* sig: see sig.h. */
#include "core/sig.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>

static const int sync_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS,
                                    SIGTTIN, SIGTTOU };

int sig_setup(struct sig_saved *ret)
{
        struct sigaction ign = { .sa_handler = SIG_IGN };
        sigset_t all;
        int fd;

        sigfillset(&all);
        for (size_t i = 0; i < sizeof sync_signals / sizeof sync_signals[0]; i++)
                sigdelset(&all, sync_signals[i]);
        if (sigaction(SIGTTIN, &ign, &ret->ttin) < 0 || sigaction(SIGTTOU, &ign, &ret->ttou) < 0)
                return -errno;
        if (sigprocmask(SIG_SETMASK, &all, &ret->mask) < 0)
                return -errno;
        fd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
        if (fd < 0)
                return -errno;
        return fd;
}

void sig_restore(const struct sig_saved *saved)
{
        sigaction(SIGTTIN, &saved->ttin, NULL);
        sigaction(SIGTTOU, &saved->ttou, NULL);
        sigprocmask(SIG_SETMASK, &saved->mask, NULL);
}

int sig_is_forwarded(int signo)
{
        /* SIGCHLD is ours (reaping); SIGPIPE is about our own writes. */
        return signo != SIGCHLD && signo != SIGPIPE;
}

const char *sig_name(int signo, char *buf, unsigned size)
{
        const char *abbrev = sigabbrev_np(signo);

        if (abbrev)
                return abbrev;
        if (signo >= SIGRTMIN && signo <= SIGRTMAX)
                snprintf(buf, size, "RT%d", signo - SIGRTMIN);
        else
                snprintf(buf, size, "%d", signo);
        return buf;
}
