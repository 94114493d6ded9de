/* Unit tests: the child state table and exit-code mapping. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "core/child.h"

static void lifecycle_paths(void **state)
{
        (void)state;
        /* start, run, crash, back off, start again */
        assert_int_equal(child_transition(CHILD_IDLE, CHILD_EV_SPAWN), CHILD_STARTING);
        assert_int_equal(child_transition(CHILD_STARTING, CHILD_EV_EXEC_OK), CHILD_RUNNING);
        assert_int_equal(child_transition(CHILD_RUNNING, CHILD_EV_EXIT), CHILD_EXITED);
        assert_int_equal(child_transition(CHILD_EXITED, CHILD_EV_RESTART), CHILD_BACKOFF);
        assert_int_equal(child_transition(CHILD_BACKOFF, CHILD_EV_SPAWN), CHILD_STARTING);
        /* stop with a deadline */
        assert_int_equal(child_transition(CHILD_RUNNING, CHILD_EV_STOP), CHILD_STOPPING);
        assert_int_equal(child_transition(CHILD_STOPPING, CHILD_EV_STOP), CHILD_STOPPING);
        assert_int_equal(child_transition(CHILD_STOPPING, CHILD_EV_DEADLINE), CHILD_STOPPING);
        assert_int_equal(child_transition(CHILD_STOPPING, CHILD_EV_EXIT), CHILD_EXITED);
        /* exec may be confirmed after the stop request */
        assert_int_equal(child_transition(CHILD_STARTING, CHILD_EV_STOP), CHILD_STOPPING);
        assert_int_equal(child_transition(CHILD_STOPPING, CHILD_EV_EXEC_OK), CHILD_STOPPING);
        /* a crash loop */
        assert_int_equal(child_transition(CHILD_EXITED, CHILD_EV_GIVE_UP), CHILD_GIVEN_UP);
}

static void stop_during_backoff_ends_at_once(void **state)
{
        (void)state;
        assert_int_equal(child_transition(CHILD_BACKOFF, CHILD_EV_STOP), CHILD_EXITED);
        assert_int_equal(child_transition(CHILD_IDLE, CHILD_EV_STOP), CHILD_EXITED);
}

static void final_states_stay_final(void **state)
{
        (void)state;
        for (int e = 0; e < CHILD_EVENT_COUNT; e++) {
                int g = child_transition(CHILD_GIVEN_UP, (enum child_event)e);
                assert_true(g == CHILD_GIVEN_UP || g == -EINVAL);
                int x = child_transition(CHILD_EXITED, (enum child_event)e);
                assert_true(x == CHILD_EXITED || x == CHILD_BACKOFF || x == CHILD_GIVEN_UP || x == -EINVAL);
        }
}

static void impossible_events_are_rejected(void **state)
{
        (void)state;
        assert_int_equal(child_transition(CHILD_RUNNING, CHILD_EV_SPAWN), -EINVAL);
        assert_int_equal(child_transition(CHILD_RUNNING, CHILD_EV_RESTART), -EINVAL);
        assert_int_equal(child_transition(CHILD_BACKOFF, CHILD_EV_EXIT), -EINVAL);
        assert_int_equal(child_transition(CHILD_EXITED, CHILD_EV_SPAWN), -EINVAL);
        assert_int_equal(child_transition(CHILD_IDLE, CHILD_EV_EXIT), -EINVAL);
        assert_int_equal(child_transition(CHILD_STATE_COUNT, CHILD_EV_SPAWN), -EINVAL);
        assert_int_equal(child_transition(CHILD_IDLE, CHILD_EVENT_COUNT), -EINVAL);
}

static void every_cell_is_a_state_or_invalid(void **state)
{
        (void)state;
        for (int s = 0; s < CHILD_STATE_COUNT; s++)
                for (int e = 0; e < CHILD_EVENT_COUNT; e++) {
                        int n = child_transition((enum child_state)s, (enum child_event)e);
                        assert_true(n == -EINVAL || (n >= 0 && n < CHILD_STATE_COUNT));
                }
}

static void exit_codes(void **state)
{
        (void)state;
        for (int code = 0; code < 256; code++)
                assert_int_equal(child_exit_code(code << 8), code);
        assert_int_equal(child_exit_code(SIGKILL), 137);
        assert_int_equal(child_exit_code(SIGTERM), 143);
        assert_int_equal(child_exit_code(SIGSEGV | 0x80), 139); /* core dumped */
}

static void state_names(void **state)
{
        (void)state;
        assert_string_equal(child_state_name(CHILD_GIVEN_UP), "given-up");
        assert_string_equal(child_state_name(CHILD_BACKOFF), "backoff");
        assert_string_equal(child_state_name(CHILD_STATE_COUNT), "invalid");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(lifecycle_paths),
                cmocka_unit_test(stop_during_backoff_ends_at_once),
                cmocka_unit_test(final_states_stay_final),
                cmocka_unit_test(impossible_events_are_rejected),
                cmocka_unit_test(every_cell_is_a_state_or_invalid),
                cmocka_unit_test(exit_codes),
                cmocka_unit_test(state_names),
        };
        return cmocka_run_group_tests_name("child", tests, NULL, NULL);
}
