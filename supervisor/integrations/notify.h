/* notify: systemd's readiness protocol (sd_notify) and its watchdog.
 *
 * Under a systemd unit of Type=notify, $NOTIFY_SOCKET names the datagram
 * socket (a path, or @name for an abstract one) that wants READY=1 once the
 * service is up, STATUS= lines for `systemctl status`, WATCHDOG=1 more often
 * than $WATCHDOG_USEC, and STOPPING=1. The notify owns its watchdog timer;
 * the status strings passed in are borrowed for the call (the last one sent
 * is copied).
 *
 * Built without WITH_SYSTEMD (the default) every function is a no-op and
 * nothing of libsystemd is referenced, so the default binary does not link
 * it. Without $NOTIFY_SOCKET, too, nothing is sent and no timer is armed:
 * the idle supervisor keeps having no wakeups. Sending never fails the
 * supervisor: a notification that does not arrive is logged, not fatal. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/timer.h"

#define NOTIFY_STATUS_MAX 256

struct notify {
        bool on;                /* $NOTIFY_SOCKET is set and the build can use it */
        struct timer watchdog;  /* fd -1 when there is no watchdog */
        uint64_t watchdog_ms;   /* half of $WATCHDOG_USEC; 0: no watchdog */
        bool ready_sent;
        bool stopping_sent;
        bool warned;            /* a send failed and was logged at warn */
        char status[NOTIFY_STATUS_MAX]; /* the last STATUS= sent */
};

/* Reads $NOTIFY_SOCKET and, when $WATCHDOG_PID is unset or ours,
 * $WATCHDOG_USEC; arms a timer that sends WATCHDOG=1 every half of it.
 * The environment is left as it is: children inherit NOTIFY_SOCKET, as
 * under tini. Returns 0, or -errno when the watchdog cannot be set up
 * (READY=1 and STATUS= still go out then). notify_close is safe after any
 * result. */
/* A notifier that is not open yet: safe to close. */
void notify_init(struct notify *n);
int notify_open(struct notify *n, struct loop *l);
/* READY=1 with STATUS=status (status may be NULL), once; later calls only
 * update the status. */
void notify_ready(struct notify *n, const char *status);
/* STATUS=status, only when it differs from the last one sent. */
void notify_status(struct notify *n, const char *status);
/* STOPPING=1 with STATUS=status, once; later calls only update the status. */
void notify_stopping(struct notify *n, const char *status);
/* Stops the watchdog; nothing is sent after it. */
void notify_close(struct notify *n, struct loop *l);
