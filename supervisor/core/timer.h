/* timer: a one-shot timerfd on CLOCK_MONOTONIC, owned by the loop.
 * Disarmed timers cost nothing: the idle supervisor has no wakeups. */
#pragma once

#include <stdint.h>

#include "core/loop.h"

struct timer;
typedef void (*timer_fire_fn)(struct timer *t);

struct timer {
        struct loop_source src;
        timer_fire_fn fire;
};

/* A timer that is not open yet: safe to close. */
void timer_init(struct timer *t, timer_fire_fn fire);
int timer_open(struct timer *t, struct loop *l, timer_fire_fn fire);
/* (Re)arms the timer to fire once after ms milliseconds (0 fires at once). */
int timer_arm_ms(struct timer *t, uint64_t ms);
int timer_disarm(struct timer *t);
void timer_close(struct timer *t, struct loop *l);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t timer_now_ms(void);
