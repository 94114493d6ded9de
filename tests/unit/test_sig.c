/* Unit tests: what the supervisor does with each signal it reads. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/sig.h"

static struct signalfd_siginfo info(int signo, int code, int pid)
{
        return (struct signalfd_siginfo){ .ssi_signo = (uint32_t)signo, .ssi_code = code, .ssi_pid = (uint32_t)pid };
}

static void stop_reap_and_forward(void **state)
{
        struct signalfd_siginfo i;

        (void)state;
        i = info(SIGCHLD, CLD_EXITED, 7);
        assert_int_equal(sig_classify(&i, 1), SIG_ACT_REAP);
        i = info(SIGTERM, SI_USER, 7);
        assert_int_equal(sig_classify(&i, 1), SIG_ACT_STOP);
        i = info(SIGINT, SI_KERNEL, 0);
        assert_int_equal(sig_classify(&i, 1), SIG_ACT_STOP);
        /* The faults and the terminal stops someone sent are passed on. */
        for (int signo = 1; signo < 32; signo++) {
                if (signo == SIGCHLD || signo == SIGTERM || signo == SIGINT)
                        continue;
                i = info(signo, SI_USER, 7);
                assert_int_equal(sig_classify(&i, 1), SIG_ACT_FORWARD);
        }
        i = info(SIGRTMIN + 3, SI_QUEUE, 7);
        assert_int_equal(sig_classify(&i, 1), SIG_ACT_FORWARD);
}

static void only_our_own_sigpipe_is_dropped(void **state)
{
        struct signalfd_siginfo i;

        (void)state;
        i = info(SIGPIPE, SI_USER, 42);
        assert_int_equal(sig_classify(&i, 42), SIG_ACT_DROP);
        i = info(SIGPIPE, SI_USER, 43);
        assert_int_equal(sig_classify(&i, 42), SIG_ACT_FORWARD);
        i = info(SIGPIPE, SI_QUEUE, 42);
        assert_int_equal(sig_classify(&i, 42), SIG_ACT_FORWARD);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(stop_reap_and_forward),
                cmocka_unit_test(only_our_own_sigpipe_is_dropped),
        };
        return cmocka_run_group_tests_name("sig", tests, NULL, NULL);
}
