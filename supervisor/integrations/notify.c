/* notify: see notify.h. */
#include "integrations/notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#ifdef WITH_SYSTEMD
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#endif

/* What needs WITH_SYSTEMD lives in the two functions below, so that the
 * default build references none of libsystemd's symbols and yet compiles
 * (and warns about) the rest of this module just the same. */
#ifdef WITH_SYSTEMD
static const bool built_with_systemd = true;
#else
static const bool built_with_systemd = false;
#endif

/* The datagram to NOTIFY_SOCKET (a path, or @ for an abstract name),
 * sent without blocking: libsystemd's sd_notify (252) blocks while the
 * receiver's queue is full, and PID 1 must never stall on a receiver that
 * stopped reading. A message that finds the queue full is dropped. */
static int send_raw(const char *msg)
{
#ifdef WITH_SYSTEMD
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = path ? strlen(path) : 0;
        int fd, r = 0;

        if (len < 2 || len >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@'))
                return -EINVAL;
        memcpy(sa.sun_path, path, len);
        if (path[0] == '@')
                sa.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (sendto(fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa,
                   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
                r = -errno;
        close(fd);
        return r;
#else
        (void)msg;
        return -EOPNOTSUPP;
#endif
}

/* > 0 with *ret set when the watchdog is on for this process, 0 when not,
 * -errno when WATCHDOG_USEC or WATCHDOG_PID cannot be parsed. */
static int watchdog_usec(uint64_t *ret)
{
#ifdef WITH_SYSTEMD
        /* sd_watchdog_enabled checks WATCHDOG_PID against our pid: the
         * variables may have been meant for a parent and leaked to us. */
        return sd_watchdog_enabled(0, ret);
#else
        *ret = 0;
        return 0;
#endif
}

static void send_msg(struct notify *n, const char *msg)
{
        int r = send_raw(msg);

        if (r >= 0)
                return;
        /* systemd would time the unit out or kill it on a missed watchdog;
         * worth one warning, but not worth ending the children over, and
         * not worth a line for every watchdog period either. */
        if (!n->warned) {
                n->warned = true;
                log_warn("notify.send_failed", LOG_STR("socket", getenv("NOTIFY_SOCKET")),
                         LOG_STR("error", strerror(-r)),
                         LOG_STR("meaning", "systemd may not see this supervisor's state; the children run regardless"));
        } else {
                log_debug("notify.send_failed", LOG_STR("error", strerror(-r)));
        }
}

/* STATUS= ends at a newline (the next line is another KEY=), so control
 * characters become spaces; the text is cut to fit. */
static void clean_status(char *out, size_t size, const char *in)
{
        size_t i;

        for (i = 0; i + 1 < size && in[i]; i++)
                out[i] = (unsigned char)in[i] < 0x20 || in[i] == 0x7f ? ' ' : in[i];
        out[i] = '\0';
}

/* Sends head (NULL: none) and, when given and changed, STATUS=status in
 * one datagram, so that READY=1 and its status arrive together. */
static void send_with_status(struct notify *n, const char *head, const char *status)
{
        char clean[NOTIFY_STATUS_MAX];
        char msg[NOTIFY_STATUS_MAX + 32];
        bool changed = false;

        if (status) {
                clean_status(clean, sizeof clean, status);
                changed = strcmp(clean, n->status) != 0;
        }
        if (!head && !changed)
                return;
        if (changed) {
                memcpy(n->status, clean, strlen(clean) + 1);
                snprintf(msg, sizeof msg, "%s%sSTATUS=%s", head ? head : "", head ? "\n" : "", clean);
        } else {
                snprintf(msg, sizeof msg, "%s", head);
        }
        send_msg(n, msg);
}

static void watchdog_fire(struct timer *t)
{
        struct notify *n = container_of(t, struct notify, watchdog);
        int r;

        send_msg(n, "WATCHDOG=1");
        /* One-shot, re-armed here: a loop that stops turning stops feeding
         * the watchdog, which is what systemd wants to notice. */
        r = timer_arm_ms(t, n->watchdog_ms);
        if (r < 0)
                log_error("notify.watchdog_failed", LOG_STR("error", strerror(-r)),
                          LOG_STR("meaning", "systemd's watchdog is no longer fed"));
}

void notify_init(struct notify *n)
{
        *n = (struct notify){ .on = false };
        timer_init(&n->watchdog, watchdog_fire);
}

int notify_open(struct notify *n, struct loop *l)
{
        const char *sock = getenv("NOTIFY_SOCKET");
        uint64_t usec = 0;
        int r;

        notify_init(n);
        if (!sock || !*sock)
                return 0;
        if (!built_with_systemd) {
                /* A unit of Type=notify would wait for READY=1 in vain. */
                log_warn("notify.unsupported", LOG_STR("socket", sock),
                         LOG_STR("meaning", "built without WITH_SYSTEMD=1: READY=1 is never sent"));
                return 0;
        }
        n->on = true;
        r = watchdog_usec(&usec);
        if (r < 0)
                return r;
        if (r > 0) {
                /* Half the period, as sd_watchdog_enabled(3) recommends:
                 * room for one late wakeup before systemd gives up. */
                n->watchdog_ms = usec / 2000u ? usec / 2000u : 1u;
                r = timer_open(&n->watchdog, l, watchdog_fire);
                if (r >= 0)
                        r = timer_arm_ms(&n->watchdog, n->watchdog_ms);
                if (r < 0) {
                        timer_close(&n->watchdog, l);
                        n->watchdog_ms = 0;
                        return r;
                }
        }
        log_info("notify.enabled", LOG_STR("socket", sock), LOG_INT("watchdog_ms", n->watchdog_ms));
        return 0;
}

/* head goes out once (with the status); later calls only update the status. */
static void send_once(struct notify *n, bool *sent, const char *head, const char *status)
{
        if (!n->on)
                return;
        send_with_status(n, *sent ? NULL : head, status);
        *sent = true;
}

void notify_ready(struct notify *n, const char *status)
{
        send_once(n, &n->ready_sent, "READY=1", status);
}

void notify_status(struct notify *n, const char *status)
{
        if (n->on && status)
                send_with_status(n, NULL, status);
}

void notify_stopping(struct notify *n, const char *status)
{
        send_once(n, &n->stopping_sent, "STOPPING=1", status);
}

void notify_close(struct notify *n, struct loop *l)
{
        timer_close(&n->watchdog, l);
        n->watchdog_ms = 0;
        n->on = false;
}
