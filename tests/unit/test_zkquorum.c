/* Unit tests: FLINK_ZK_QUORUM, FLINK_ZK_CONFIG_PATH and FLINK_ZK_AUTH. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/zkquorum.h"

static void quorum_with_and_without_chroot(void **state)
{
        struct zkquorum q;
        char err[256];
        (void)state;
        assert_int_equal(zkquorum_parse("zk1:2181,zk2.dc:2182/flink/prod", &q, err, sizeof err), 0);
        assert_string_equal(q.hosts, "zk1:2181,zk2.dc:2182");
        assert_string_equal(q.chroot, "/flink/prod");
        assert_int_equal(zkquorum_parse("127.0.0.1:2181", &q, err, sizeof err), 0);
        assert_string_equal(q.chroot, "");
}

static void malformed_quorums(void **state)
{
        static const char *const bad[] = { "", "zk", "zk:", ":2181", "zk:0", "zk:65536", "zk:21x", "zk:1,", ",zk:1",
                                           "zk:1,,zk:2", "zk:1/", "zk:1/a/", "zk:1/a//b", "/chroot" };
        struct zkquorum q;
        char err[256];
        (void)state;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                if (zkquorum_parse(bad[i], &q, err, sizeof err) != -EINVAL)
                        fail_msg("accepted \"%s\"", bad[i]);
                assert_non_null(strstr(err, "expected host:port[,host:port...][/chroot]"));
        }
}

static void paths(void **state)
{
        char err[256];
        (void)state;
        assert_int_equal(zkquorum_check_path("V", "/flink/config", err, sizeof err), 0);
        assert_int_equal(zkquorum_check_path("V", "flink", err, sizeof err), -EINVAL);
        assert_int_equal(zkquorum_check_path("V", "/a/", err, sizeof err), -EINVAL);
        assert_int_equal(zkquorum_check_path("V", "/a//b", err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "invalid V=\"/a//b\""));
}

static void auth_never_echoes_the_password(void **state)
{
        char cred[128], err[256];
        (void)state;
        assert_int_equal(zkquorum_parse_auth("digest:flink:pa:ss", cred, sizeof cred, err, sizeof err), 0);
        assert_string_equal(cred, "flink:pa:ss");
        static const char *const bad[] = { "flink:secretpw", "digest:secretpw", "digest::secretpw", "digest:u:",
                                           "sasl:u:secretpw" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                assert_int_equal(zkquorum_parse_auth(bad[i], cred, sizeof cred, err, sizeof err), -EINVAL);
                assert_null(strstr(err, "secretpw"));
        }
}

static void auth_from_a_file(void **state)
{
        char path[] = "/tmp/test_zkquorum.XXXXXX", value[64], cred[128], err[256];
        int fd = mkstemp(path);
        (void)state;
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "digest:flink:secretpw\n", 22), 22);
        close(fd);
        snprintf(value, sizeof value, "@%s", path);
        assert_int_equal(zkquorum_load_auth(value, cred, sizeof cred, err, sizeof err), 0);
        assert_string_equal(cred, "flink:secretpw");
        assert_int_equal(zkquorum_load_auth("digest:u:pw", cred, sizeof cred, err, sizeof err), 0);
        assert_string_equal(cred, "u:pw");
        unlink(path);
        assert_int_equal(zkquorum_load_auth(value, cred, sizeof cred, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, "No such file or directory"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(quorum_with_and_without_chroot),
                cmocka_unit_test(malformed_quorums),
                cmocka_unit_test(paths),
                cmocka_unit_test(auth_never_echoes_the_password),
                cmocka_unit_test(auth_from_a_file),
        };
        return cmocka_run_group_tests_name("zkquorum", tests, NULL, NULL);
}
