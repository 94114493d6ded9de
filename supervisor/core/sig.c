/* sig: see sig.h. */
#include "core/sig.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int sig_setup(struct sig_saved *ret)
{
        sigset_t all;
        int fd;

        sigfillset(&all);
        if (sigprocmask(SIG_SETMASK, &all, &ret->mask) < 0)
                return -errno;
        fd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
        if (fd < 0)
                return -errno;
        return fd;
}

void sig_restore(const struct sig_saved *saved)
{
        sigprocmask(SIG_SETMASK, &saved->mask, NULL);
}

enum sig_action sig_classify(const struct signalfd_siginfo *info, int self)
{
        switch (info->ssi_signo) {
        case SIGCHLD:
                return SIG_ACT_REAP;
        case SIGTERM:
        case SIGINT:
                return SIG_ACT_STOP;
        case SIGPIPE:
                /* A write of ours to a closed pipe raises it as if we had
                 * sent it to ourselves; anyone else's is passed on. */
                return (int)info->ssi_pid == self && info->ssi_code == SI_USER ? SIG_ACT_DROP : SIG_ACT_FORWARD;
        default:
                return SIG_ACT_FORWARD;
        }
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
