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
        /* Only a stop may meet a child that has exited or given up; only
         * restart and give-up lead out of exited. */
        static const int given_up[CHILD_EVENT_COUNT] = {
                [CHILD_EV_SPAWN] = -EINVAL, [CHILD_EV_EXEC_OK] = -EINVAL,  [CHILD_EV_EXIT] = -EINVAL,
                [CHILD_EV_STOP] = CHILD_GIVEN_UP, [CHILD_EV_DEADLINE] = -EINVAL, [CHILD_EV_RESTART] = -EINVAL,
                [CHILD_EV_GIVE_UP] = -EINVAL,
        };
        static const int exited[CHILD_EVENT_COUNT] = {
                [CHILD_EV_SPAWN] = -EINVAL, [CHILD_EV_EXEC_OK] = -EINVAL,      [CHILD_EV_EXIT] = -EINVAL,
                [CHILD_EV_STOP] = CHILD_EXITED, [CHILD_EV_DEADLINE] = -EINVAL, [CHILD_EV_RESTART] = CHILD_BACKOFF,
                [CHILD_EV_GIVE_UP] = CHILD_GIVEN_UP,
        };
        (void)state;
        for (int e = 0; e < CHILD_EVENT_COUNT; e++) {
                assert_int_equal(child_transition(CHILD_GIVEN_UP, (enum child_event)e), given_up[e]);
                assert_int_equal(child_transition(CHILD_EXITED, (enum child_event)e), exited[e]);
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

/* Every transition the table has, written out once more: any cell not
 * listed here must be -EINVAL, and one that changes shows up here. */
static const struct {
        enum child_state from;
        enum child_event ev;
        enum child_state to;
} allowed[] = {
        { CHILD_IDLE, CHILD_EV_SPAWN, CHILD_STARTING },         { CHILD_IDLE, CHILD_EV_STOP, CHILD_EXITED },
        { CHILD_STARTING, CHILD_EV_EXEC_OK, CHILD_RUNNING },    { CHILD_STARTING, CHILD_EV_EXIT, CHILD_EXITED },
        { CHILD_STARTING, CHILD_EV_STOP, CHILD_STOPPING },      { CHILD_RUNNING, CHILD_EV_EXIT, CHILD_EXITED },
        { CHILD_RUNNING, CHILD_EV_STOP, CHILD_STOPPING },       { CHILD_STOPPING, CHILD_EV_EXEC_OK, CHILD_STOPPING },
        { CHILD_STOPPING, CHILD_EV_EXIT, CHILD_EXITED },        { CHILD_STOPPING, CHILD_EV_STOP, CHILD_STOPPING },
        { CHILD_STOPPING, CHILD_EV_DEADLINE, CHILD_STOPPING },  { CHILD_EXITED, CHILD_EV_STOP, CHILD_EXITED },
        { CHILD_EXITED, CHILD_EV_RESTART, CHILD_BACKOFF },      { CHILD_EXITED, CHILD_EV_GIVE_UP, CHILD_GIVEN_UP },
        { CHILD_BACKOFF, CHILD_EV_SPAWN, CHILD_STARTING },      { CHILD_BACKOFF, CHILD_EV_STOP, CHILD_EXITED },
        { CHILD_GIVEN_UP, CHILD_EV_STOP, CHILD_GIVEN_UP },
};

static int expected_transition(int s, int e)
{
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
                if ((int)allowed[i].from == s && (int)allowed[i].ev == e)
                        return (int)allowed[i].to;
        return -EINVAL;
}

static void every_cell_is_a_state_or_invalid(void **state)
{
        (void)state;
        for (int s = 0; s < CHILD_STATE_COUNT; s++)
                for (int e = 0; e < CHILD_EVENT_COUNT; e++) {
                        int n = child_transition((enum child_state)s, (enum child_event)e);
                        assert_true(n == -EINVAL || (n >= 0 && n < CHILD_STATE_COUNT));
                        if (n != expected_transition(s, e))
                                fail_msg("%s + event %d: got %d, expected %d", child_state_name((enum child_state)s), e,
                                         n, expected_transition(s, e));
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
