/* timer: see timer.h. */
#include "core/timer.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static void timer_readable(struct loop_source *src, uint32_t events)
{
        struct timer *t = container_of(src, struct timer, src);
        uint64_t expirations;

        (void)events;
        /* EAGAIN: disarmed or re-armed after epoll reported it. */
        if (read(src->fd, &expirations, sizeof expirations) != sizeof expirations)
                return;
        t->fire(t);
}

void timer_init(struct timer *t, timer_fire_fn fire)
{
        loop_source_init(&t->src, timer_readable);
        t->fire = fire;
}

int timer_open(struct timer *t, struct loop *l, timer_fire_fn fire)
{
        int r;

        t->fire = fire;
        t->src.handler = timer_readable;
        t->src.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (t->src.fd < 0)
                return -errno;
        r = loop_add(l, &t->src, EPOLLIN);
        if (r < 0) {
                close(t->src.fd);
                t->src.fd = -1;
        }
        return r;
}

int timer_arm_ms(struct timer *t, uint64_t ms)
{
        struct itimerspec its = { 0 };

        /* it_value of zero would disarm; one nanosecond means "now". */
        its.it_value.tv_sec = (time_t)(ms / 1000);
        its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
        if (ms == 0)
                its.it_value.tv_nsec = 1;
        return timerfd_settime(t->src.fd, 0, &its, NULL) < 0 ? -errno : 0;
}

int timer_disarm(struct timer *t)
{
        struct itimerspec its = { 0 };

        /* Setting the time also clears a queued expiry, so a disarmed
         * timer cannot fire late (timer_readable then reads EAGAIN). */
        return timerfd_settime(t->src.fd, 0, &its, NULL) < 0 ? -errno : 0;
}

void timer_close(struct timer *t, struct loop *l)
{
        loop_remove(l, &t->src);
}

uint64_t timer_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
