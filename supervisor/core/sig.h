/* sig: the supervisor's signal set-up, and its undoing in a child.
 *
 * Every asynchronous signal is blocked and read from a signalfd by the loop.
 * Blocked signals are never dropped by the kernel, also not for PID 1 of a
 * PID namespace, which drops signals whose disposition is SIG_DFL. The
 * synchronous faults stay unblocked so a bug still crashes visibly. */
#pragma once

#include <signal.h>

struct sig_saved {
        sigset_t mask;
        struct sigaction ttin, ttou;
};

/* Blocks the asynchronous signals, ignores SIGTTIN/SIGTTOU (so that handing
 * the terminal to a child cannot stop us), saves what it changed in *ret
 * and returns a CLOEXEC, non-blocking signalfd, or -errno. */
int sig_setup(struct sig_saved *ret);

/* In a forked child before exec: restores the mask and dispositions. */
void sig_restore(const struct sig_saved *saved);

/* True for the signals a supervisor passes on to its children. */
int sig_is_forwarded(int signo);

/* "TERM" for SIGTERM; "RT3" style names for real-time signals. */
const char *sig_name(int signo, char *buf, unsigned size);
