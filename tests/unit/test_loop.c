/* Unit tests: the loop with its timers and the mailbox, with real fds and
 * real threads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/loop.h"
#include "core/mailbox.h"
#include "core/timer.h"

struct fixture {
        struct loop loop;
        struct timer a, b;
        int fired_a, fired_b;
        struct mailbox mb;
        int received;
        int expected;
};

static void fire_a(struct timer *t)
{
        struct fixture *f = container_of(t, struct fixture, a);
        f->fired_a++;
        /* Disarming b from here must stop it even if it is already due. */
        timer_disarm(&f->b);
        timer_arm_ms(&f->b, 30);
}

static void fire_b(struct timer *t)
{
        struct fixture *f = container_of(t, struct fixture, b);
        f->fired_b++;
        loop_quit(&f->loop);
}

static void timers_fire_once_in_order(void **state)
{
        struct fixture f = { 0 };
        (void)state;
        assert_int_equal(loop_open(&f.loop), 0);
        assert_int_equal(timer_open(&f.a, &f.loop, fire_a), 0);
        assert_int_equal(timer_open(&f.b, &f.loop, fire_b), 0);
        uint64_t start = timer_now_ms();
        assert_int_equal(timer_arm_ms(&f.a, 10), 0);
        assert_int_equal(timer_arm_ms(&f.b, 20), 0);
        assert_int_equal(loop_run(&f.loop), 0);
        assert_int_equal(f.fired_a, 1);
        assert_int_equal(f.fired_b, 1);
        assert_true(timer_now_ms() - start >= 40);
        timer_close(&f.a, &f.loop);
        timer_close(&f.b, &f.loop);
        assert_int_equal(f.a.src.fd, -1);
        loop_close(&f.loop);
}

struct msg {
        struct mailbox_msg base;
        int value;
};

static void handle(struct mailbox_msg *m, void *ctx)
{
        struct fixture *f = ctx;
        struct msg *msg = container_of(m, struct msg, base);
        f->received += msg->value;
        free(msg);
        if (f->received == f->expected)
                loop_quit(&f->loop);
}

static void destroy(struct mailbox_msg *m)
{
        free(container_of(m, struct msg, base));
}

static void *poster(void *arg)
{
        struct fixture *f = arg;
        for (int i = 0; i < 1000; i++) {
                struct msg *m = calloc(1, sizeof *m);
                m->base.handle = handle;
                m->base.destroy = destroy;
                m->value = 1;
                mailbox_post(&f->mb, &m->base);
        }
        return NULL;
}

static void mailbox_delivers_every_message_on_the_loop(void **state)
{
        struct fixture f = { .expected = 4000 };
        pthread_t threads[4];
        (void)state;
        assert_int_equal(loop_open(&f.loop), 0);
        assert_int_equal(mailbox_open(&f.mb, &f.loop, &f), 0);
        for (int i = 0; i < 4; i++)
                pthread_create(&threads[i], NULL, poster, &f);
        assert_int_equal(loop_run(&f.loop), 0);
        for (int i = 0; i < 4; i++)
                pthread_join(threads[i], NULL);
        assert_int_equal(f.received, 4000);
        mailbox_close(&f.mb, &f.loop);
        loop_close(&f.loop);
}

static void mailbox_close_destroys_undelivered(void **state)
{
        struct fixture f = { 0 };
        (void)state;
        assert_int_equal(loop_open(&f.loop), 0);
        assert_int_equal(mailbox_open(&f.mb, &f.loop, &f), 0);
        poster(&f);
        /* Never delivered: ASan's leak check fails the test if not freed. */
        mailbox_close(&f.mb, &f.loop);
        assert_int_equal(f.received, 0);
        loop_close(&f.loop);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(timers_fire_once_in_order),
                cmocka_unit_test(mailbox_delivers_every_message_on_the_loop),
                cmocka_unit_test(mailbox_close_destroys_undelivered),
        };
        return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
