/* sig: the supervisor's signal set-up, and its undoing in a child.
 *
 * Every catchable signal is blocked and read from a signalfd by the loop,
 * the fault signals (SEGV, BUS, FPE, ILL, ABRT, TRAP, SYS) included: one
 * that another process sends is then read and passed on like any other,
 * while a genuine fault in the supervisor is forced by the kernel, which
 * unblocks it and ends the supervisor (with a core where enabled). Blocked
 * signals are never dropped, also not for PID 1 of a PID namespace, which
 * drops signals whose disposition is SIG_DFL. Dispositions are left as
 * they were inherited: an ignored signal stays ignored, in the children
 * too. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <sys/signalfd.h>

struct sig_saved {
        sigset_t mask;
};

/* Blocks every catchable signal, saves the old mask in *ret and returns a
 * CLOEXEC, non-blocking signalfd, or -errno. */
int sig_setup(struct sig_saved *ret);

/* In a forked child before exec: restores the mask. */
void sig_restore(const struct sig_saved *saved);

/* What the supervisor does with a signal it read. */
enum sig_action {
        SIG_ACT_REAP,     /* SIGCHLD: ours */
        SIG_ACT_STOP,     /* SIGTERM, SIGINT: stop with the deadline */
        SIG_ACT_FORWARD,  /* to the children's process groups */
        SIG_ACT_DROP,     /* one the supervisor caused itself (SIGPIPE of its own write) */
};

/* Pure: the action for the signal in info; self is the supervisor's pid. */
enum sig_action sig_classify(const struct signalfd_siginfo *info, int self);

/* "TERM" for SIGTERM; "RT3" style names for real-time signals. */
const char *sig_name(int signo, char *buf, unsigned size);
