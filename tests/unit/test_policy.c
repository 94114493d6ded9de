/* Unit tests: the supervision policy, through its one step function. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "core/backoff.h"
#include "core/policy.h"

static const struct policy_config always = {
        .restart = RESTART_ALWAYS, .stop_timeout_ms = 8000, .backoff_min_ms = 100, .backoff_max_ms = 30000,
        .backoff_reset_ms = 60000, .gave_up_code = 111,
};

static struct policy_actions step_ok(const struct policy_config *cfg, struct policy_child *c, struct policy_event ev)
{
        struct policy_actions a;

        assert_int_equal(policy_step(cfg, c, &ev, &a), 0);
        return a;
}

static struct policy_child running(void)
{
        struct policy_child c = { .state = CHILD_IDLE };

        step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_START });
        step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXEC_OK });
        assert_int_equal(c.state, CHILD_RUNNING);
        return c;
}

static void start_spawns_and_exec_runs(void **state)
{
        struct policy_child c = { .state = CHILD_IDLE };
        struct policy_actions a;

        (void)state;
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_START });
        assert_int_equal(c.state, CHILD_STARTING);
        assert_int_equal(a.flags, POLICY_SPAWN);
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXEC_OK });
        assert_int_equal(c.state, CHILD_RUNNING);
        assert_int_equal(a.flags, POLICY_RUNNING);
}

static void a_crash_backs_off_then_spawns(void **state)
{
        struct policy_child c = running();
        struct policy_actions a;

        (void)state;
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 3, .ran_ms = 10, .random = 7 });
        assert_int_equal(c.state, CHILD_BACKOFF);
        assert_int_equal(a.flags, POLICY_DISARM | POLICY_ARM | POLICY_RECORD_CRASH);
        assert_int_equal(a.timer_ms, backoff_delay_ms(0, 100, 30000, 7));
        assert_int_equal(a.note, POLICY_NOTE_RESTART);
        assert_int_equal(c.exit_code, 3);
        assert_int_equal(c.attempt, 1);
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_TIMER });
        assert_int_equal(c.state, CHILD_STARTING);
        assert_int_equal(a.flags, POLICY_SPAWN);
}

static void backoff_grows_and_a_long_run_resets_it(void **state)
{
        struct policy_child c = running();
        uint64_t last = 0;

        (void)state;
        for (unsigned i = 0; i < 5; i++) {
                struct policy_actions a =
                        step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 1, .ran_ms = 5 });
                assert_int_equal(c.attempt, i + 1);
                assert_true(a.timer_ms > last);
                last = a.timer_ms;
                step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_TIMER });
                step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXEC_OK });
        }
        struct policy_actions a =
                step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 1, .ran_ms = 60000 });
        assert_int_equal(a.timer_ms, backoff_delay_ms(0, 100, 30000, 0));
        assert_int_equal(c.attempt, 1);
}

static void restart_policies(void **state)
{
        const struct policy_config on_failure = { .restart = RESTART_ON_FAILURE, .gave_up_code = 111 };
        const struct policy_config never = { .restart = RESTART_NEVER, .gave_up_code = 111 };
        struct policy_child c;
        struct policy_actions a;

        (void)state;
        c = running();
        a = step_ok(&on_failure, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 0 });
        assert_int_equal(c.state, CHILD_EXITED);
        assert_int_equal(a.flags, POLICY_DISARM | POLICY_FINAL);
        assert_int_equal(a.final_code, 0);
        c = running();
        a = step_ok(&on_failure, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 143 });
        assert_int_equal(c.state, CHILD_BACKOFF);
        c = running();
        a = step_ok(&never, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 9 });
        assert_int_equal(c.state, CHILD_EXITED);
        assert_int_equal(a.final_code, 9);
        c = running();
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 0 });
        assert_int_equal(c.state, CHILD_BACKOFF);
}

static void an_exec_failure_is_final_whatever_the_policy(void **state)
{
        struct policy_child c = { .state = CHILD_IDLE };
        struct policy_actions a;

        (void)state;
        step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_START });
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 127, .exec_failed = true });
        assert_int_equal(c.state, CHILD_EXITED);
        assert_int_equal(a.flags, POLICY_DISARM | POLICY_FINAL);
        assert_int_equal(a.final_code, 127);
}

static void a_crash_loop_gives_up(void **state)
{
        struct policy_child c = running();
        struct policy_actions a;

        (void)state;
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 1, .over_limit = true });
        assert_int_equal(c.state, CHILD_GIVEN_UP);
        assert_int_equal(a.flags, POLICY_DISARM | POLICY_RECORD_CRASH | POLICY_FINAL);
        assert_int_equal(a.final_code, 111);
        assert_int_equal(a.note, POLICY_NOTE_GAVE_UP);
        assert_int_equal(c.exit_code, 1);
}

static void stop_signals_arms_the_deadline_once_then_kills(void **state)
{
        struct policy_child c = running();
        struct policy_actions a;

        (void)state;
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_STOP, .signo = SIGTERM });
        assert_int_equal(c.state, CHILD_STOPPING);
        assert_int_equal(a.flags, POLICY_SIGNAL | POLICY_ARM);
        assert_int_equal(a.signo, SIGTERM);
        assert_int_equal(a.timer_ms, 8000);
        /* A second signal is passed on; the grace period is not cut short. */
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_STOP, .signo = SIGINT });
        assert_int_equal(a.flags, POLICY_SIGNAL);
        assert_int_equal(a.signo, SIGINT);
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_TIMER });
        assert_int_equal(c.state, CHILD_STOPPING);
        assert_int_equal(a.flags, POLICY_SIGNAL);
        assert_int_equal(a.signo, SIGKILL);
        assert_int_equal(a.note, POLICY_NOTE_STOP_TIMEOUT);
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 137, .stopping = true });
        assert_int_equal(c.state, CHILD_EXITED);
        assert_int_equal(a.flags, POLICY_DISARM | POLICY_FINAL);
        assert_int_equal(a.final_code, 137);
}

static void a_stop_before_exec_is_confirmed_stands(void **state)
{
        struct policy_child c = { .state = CHILD_IDLE };
        struct policy_actions a;

        (void)state;
        step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_START });
        step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_STOP, .signo = SIGTERM });
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXEC_OK });
        assert_int_equal(c.state, CHILD_STOPPING);
        assert_int_equal(a.flags, 0);
}

static void stop_before_start_or_in_backoff_ends_at_once(void **state)
{
        struct policy_child c = { .state = CHILD_IDLE };
        struct policy_actions a;

        (void)state;
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_STOP, .signo = SIGTERM });
        assert_int_equal(c.state, CHILD_EXITED);
        assert_int_equal(a.flags, POLICY_FINAL);
        assert_int_equal(a.final_code, 128 + SIGTERM);
        assert_int_equal(a.note, POLICY_NOTE_NEVER_STARTED);
        c = running();
        step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 5 });
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_STOP, .signo = SIGTERM });
        assert_int_equal(c.state, CHILD_EXITED);
        assert_int_equal(a.flags, POLICY_DISARM | POLICY_FINAL);
        assert_int_equal(a.final_code, 5);
        assert_int_equal(a.note, POLICY_NOTE_STOPPED_IN_BACKOFF);
}

static void a_rolling_restart_is_neither_a_crash_nor_a_backoff(void **state)
{
        struct policy_child c = running();
        struct policy_actions a;

        (void)state;
        c.attempt = 3;
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_ROLL });
        assert_int_equal(c.state, CHILD_STOPPING);
        assert_true(c.restart_now);
        assert_int_equal(a.flags, POLICY_SIGNAL | POLICY_ARM);
        assert_int_equal(a.signo, SIGTERM);
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 143, .over_limit = true });
        assert_int_equal(c.state, CHILD_BACKOFF);
        assert_int_equal(a.flags, POLICY_DISARM | POLICY_ARM);
        assert_int_equal(a.timer_ms, 0);
        assert_int_equal(a.note, POLICY_NOTE_ROLL_RESTART);
        assert_int_equal(c.attempt, 3);
        assert_false(c.restart_now);
}

static void a_rolling_restart_during_a_stop_ends(void **state)
{
        const struct policy_config never = { .restart = RESTART_NEVER, .stop_timeout_ms = 1000, .gave_up_code = 111 };
        struct policy_child c = running();
        struct policy_actions a;

        (void)state;
        step_ok(&never, &c, (struct policy_event){ .type = CHILD_EV_ROLL });
        a = step_ok(&never, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 143, .stopping = true });
        assert_int_equal(c.state, CHILD_EXITED);
        assert_int_equal(a.flags, POLICY_DISARM | POLICY_FINAL);
        /* and an exec failure after a roll is not retried either */
        c = running();
        step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_ROLL });
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 127, .exec_failed = true });
        assert_int_equal(c.state, CHILD_EXITED);
}

/* Exactly which events each state takes: 1 allowed, 0 refused. */
static void what_a_process_leaves_in_its_group_is_drained_first(void **state)
{
        const struct policy_config never = { .restart = RESTART_NEVER, .stop_timeout_ms = 8000, .gave_up_code = 111 };
        struct policy_child c = running();
        struct policy_actions a;

        (void)state;
        a = step_ok(&never, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 3, .group_left = true });
        assert_int_equal(c.state, CHILD_DRAINING);
        assert_int_equal(a.flags, POLICY_DISARM | POLICY_SIGNAL | POLICY_ARM);
        assert_int_equal(a.signo, SIGTERM);
        assert_int_equal(a.timer_ms, 8000);
        assert_int_equal(a.note, POLICY_NOTE_DRAINING);
        /* A stop meanwhile reaches them too. */
        a = step_ok(&never, &c, (struct policy_event){ .type = CHILD_EV_STOP, .signo = SIGINT });
        assert_int_equal(c.state, CHILD_DRAINING);
        assert_int_equal(a.flags, POLICY_SIGNAL);
        assert_int_equal(a.signo, SIGINT);
        /* Gone: only now does the exit count, with the process's own code. */
        a = step_ok(&never, &c, (struct policy_event){ .type = CHILD_EV_DRAINED });
        assert_int_equal(c.state, CHILD_EXITED);
        assert_int_equal(a.flags, POLICY_DISARM | POLICY_FINAL);
        assert_int_equal(a.final_code, 3);
}

static void a_group_that_outlives_the_timeout_is_killed_then_the_child_restarts(void **state)
{
        struct policy_child c = running();
        struct policy_actions a;

        (void)state;
        step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 1, .ran_ms = 5, .group_left = true });
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_TIMER, .random = 3 });
        assert_int_equal(c.state, CHILD_BACKOFF);
        assert_int_equal(a.flags, POLICY_SIGNAL | POLICY_DISARM | POLICY_ARM | POLICY_RECORD_CRASH);
        assert_int_equal(a.signo, SIGKILL);
        assert_int_equal(a.timer_ms, backoff_delay_ms(0, 100, 30000, 3));
        assert_int_equal(c.attempt, 1);
}

static void a_stopped_group_drains_within_the_stop_deadline(void **state)
{
        struct policy_child c = running();
        struct policy_actions a;

        (void)state;
        step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_STOP, .signo = SIGTERM });
        /* The group had SIGTERM with the process: no second one, no new deadline. */
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 143, .group_left = true,
                                                        .stopping = true });
        assert_int_equal(c.state, CHILD_DRAINING);
        assert_int_equal(a.flags, 0);
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_TIMER, .stopping = true });
        assert_int_equal(c.state, CHILD_EXITED);
        assert_int_equal(a.flags, POLICY_SIGNAL | POLICY_DISARM | POLICY_FINAL);
        assert_int_equal(a.signo, SIGKILL);
        assert_int_equal(a.final_code, 143);
        /* Past the deadline the group had SIGKILL already: nothing to drain. */
        c = running();
        step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_STOP, .signo = SIGTERM });
        step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_TIMER, .stopping = true });
        a = step_ok(&always, &c, (struct policy_event){ .type = CHILD_EV_EXIT, .exit_code = 137, .group_left = true,
                                                        .stopping = true });
        assert_int_equal(c.state, CHILD_EXITED);
        assert_int_equal(a.final_code, 137);
}

static void every_cell_is_as_specified(void **state)
{
        static const int allowed[CHILD_STATE_COUNT][CHILD_EVENT_COUNT] = {
                /*                  START EXEC EXIT STOP ROLL TIMER DRAINED */
                [CHILD_IDLE]     = { 1,    0,   0,   1,   0,   1,    0 },
                [CHILD_STARTING] = { 0,    1,   1,   1,   1,   1,    0 },
                [CHILD_RUNNING]  = { 0,    0,   1,   1,   1,   1,    0 },
                [CHILD_STOPPING] = { 0,    1,   1,   1,   0,   1,    0 },
                [CHILD_EXITED]   = { 0,    0,   0,   1,   0,   1,    0 },
                [CHILD_BACKOFF]  = { 0,    0,   0,   1,   0,   1,    0 },
                [CHILD_GIVEN_UP] = { 0,    0,   0,   1,   0,   1,    0 },
                [CHILD_DRAINING] = { 0,    0,   0,   1,   0,   1,    1 },
        };

        (void)state;
        for (int s = 0; s < CHILD_STATE_COUNT; s++)
                for (int e = 0; e < CHILD_EVENT_COUNT; e++) {
                        struct policy_child c = { .state = (enum child_state)s, .attempt = 2, .exit_code = 4 };
                        struct policy_child before = c;
                        struct policy_event ev = { .type = (enum child_event)e, .signo = SIGTERM };
                        struct policy_actions a;
                        int r = policy_step(&always, &c, &ev, &a);

                        assert_int_equal(r, allowed[s][e] ? 0 : -EINVAL);
                        if (r < 0)
                                assert_memory_equal(&c, &before, sizeof c);
                }
}

static void final_states_stay_final_and_do_nothing(void **state)
{
        static const enum child_state finals[] = { CHILD_EXITED, CHILD_GIVEN_UP };

        (void)state;
        for (size_t i = 0; i < 2; i++) {
                static const enum child_event evs[] = { CHILD_EV_STOP, CHILD_EV_TIMER };
                for (size_t k = 0; k < 2; k++) {
                        struct policy_child c = { .state = finals[i] };
                        struct policy_actions a =
                                step_ok(&always, &c, (struct policy_event){ .type = evs[k], .signo = SIGTERM });
                        assert_int_equal(c.state, finals[i]);
                        assert_int_equal(a.flags, 0);
                }
        }
}

static void out_of_range_is_refused(void **state)
{
        struct policy_child c = { .state = CHILD_STATE_COUNT };
        struct policy_actions a;

        (void)state;
        assert_int_equal(policy_step(&always, &c, &(struct policy_event){ .type = CHILD_EV_START }, &a), -EINVAL);
        c.state = CHILD_IDLE;
        assert_int_equal(policy_step(&always, &c, &(struct policy_event){ .type = CHILD_EVENT_COUNT }, &a), -EINVAL);
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
                cmocka_unit_test(start_spawns_and_exec_runs),
                cmocka_unit_test(a_crash_backs_off_then_spawns),
                cmocka_unit_test(backoff_grows_and_a_long_run_resets_it),
                cmocka_unit_test(restart_policies),
                cmocka_unit_test(an_exec_failure_is_final_whatever_the_policy),
                cmocka_unit_test(a_crash_loop_gives_up),
                cmocka_unit_test(stop_signals_arms_the_deadline_once_then_kills),
                cmocka_unit_test(a_stop_before_exec_is_confirmed_stands),
                cmocka_unit_test(stop_before_start_or_in_backoff_ends_at_once),
                cmocka_unit_test(a_rolling_restart_is_neither_a_crash_nor_a_backoff),
                cmocka_unit_test(a_rolling_restart_during_a_stop_ends),
                cmocka_unit_test(what_a_process_leaves_in_its_group_is_drained_first),
                cmocka_unit_test(a_group_that_outlives_the_timeout_is_killed_then_the_child_restarts),
                cmocka_unit_test(a_stopped_group_drains_within_the_stop_deadline),
                cmocka_unit_test(every_cell_is_as_specified),
                cmocka_unit_test(final_states_stay_final_and_do_nothing),
                cmocka_unit_test(out_of_range_is_refused),
                cmocka_unit_test(state_names),
        };
        return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
