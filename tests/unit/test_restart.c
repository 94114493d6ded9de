/* Unit tests: backoff delays and crash-loop detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/backoff.h"
#include "core/crashloop.h"

static void backoff_doubles_from_min(void **state)
{
        (void)state;
        assert_int_equal(backoff_delay_ms(0, 100, 100000, 0), 100);
        assert_int_equal(backoff_delay_ms(1, 100, 100000, 0), 200);
        assert_int_equal(backoff_delay_ms(2, 100, 100000, 0), 400);
        assert_int_equal(backoff_delay_ms(5, 100, 100000, 0), 3200);
}

static void backoff_is_capped(void **state)
{
        (void)state;
        assert_int_equal(backoff_delay_ms(10, 100, 5000, 0), 5000);
        assert_int_equal(backoff_delay_ms(4000000000u, 100, 5000, 0), 5000);
        assert_int_equal(backoff_delay_ms(64, 1, 3600000, 0), 3600000);
}

static void jitter_takes_at_most_a_quarter_and_never_goes_below_min(void **state)
{
        (void)state;
        assert_int_equal(backoff_delay_ms(3, 100, 100000, UINT32_MAX), 600);
        assert_int_equal(backoff_delay_ms(0, 100, 100000, UINT32_MAX), 100);
        uint64_t rng = 42;
        for (unsigned attempt = 0; attempt < 12; attempt++) {
                for (int i = 0; i < 1000; i++) {
                        uint64_t d = backoff_delay_ms(attempt, 100, 60000, backoff_random(&rng));
                        uint64_t nominal = 100u << attempt > 60000 ? 60000 : 100u << attempt;
                        assert_true(d <= nominal);
                        assert_true(d >= nominal - nominal / 4);
                        assert_true(d >= 100);
                }
        }
}

static void growth_survives_jitter(void **state)
{
        (void)state;
        for (unsigned a = 0; a < 8; a++)
                assert_true(backoff_delay_ms(a + 1, 100, 1000000, UINT32_MAX) >
                            backoff_delay_ms(a, 100, 1000000, 0));
}

static void random_spreads(void **state)
{
        uint64_t rng = 1;
        uint32_t lo = UINT32_MAX, hi = 0;
        (void)state;
        for (int i = 0; i < 1000; i++) {
                uint32_t r = backoff_random(&rng);
                lo = r < lo ? r : lo;
                hi = r > hi ? r : hi;
        }
        assert_true(lo < UINT32_MAX / 10);
        assert_true(hi > UINT32_MAX / 10 * 9);
}

static void crashloop_gives_up_after_max_within_window(void **state)
{
        struct crashloop c;
        (void)state;
        assert_int_equal(crashloop_init(&c, 3, 1000), 0);
        assert_false(crashloop_record(&c, 0));
        assert_false(crashloop_record(&c, 100));
        assert_false(crashloop_record(&c, 200));
        assert_true(crashloop_record(&c, 300));
        crashloop_free(&c);
}

static void crashloop_forgets_old_restarts(void **state)
{
        struct crashloop c;
        (void)state;
        assert_int_equal(crashloop_init(&c, 2, 1000), 0);
        assert_false(crashloop_record(&c, 0));
        assert_false(crashloop_record(&c, 600));
        assert_false(crashloop_record(&c, 1200)); /* the one at 0 is outside */
        assert_false(crashloop_record(&c, 1900)); /* 600 is outside */
        assert_true(crashloop_record(&c, 2000));  /* 1200, 1900, 2000 */
        crashloop_free(&c);
}

static void crashloop_zero_means_never_restart(void **state)
{
        struct crashloop c;
        (void)state;
        assert_int_equal(crashloop_init(&c, 0, 1000), 0);
        assert_true(crashloop_record(&c, 5000));
        crashloop_free(&c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(backoff_doubles_from_min),
                cmocka_unit_test(backoff_is_capped),
                cmocka_unit_test(jitter_takes_at_most_a_quarter_and_never_goes_below_min),
                cmocka_unit_test(growth_survives_jitter),
                cmocka_unit_test(random_spreads),
                cmocka_unit_test(crashloop_gives_up_after_max_within_window),
                cmocka_unit_test(crashloop_forgets_old_restarts),
                cmocka_unit_test(crashloop_zero_means_never_restart),
        };
        return cmocka_run_group_tests_name("restart", tests, NULL, NULL);
}
