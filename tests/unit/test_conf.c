/* Unit tests: the key/value map, YAML reading and rendering, properties. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/conf.h"
#include "config/confyaml.h"

struct warnings {
        int n;
        char last[400];
};

static void on_warn(const char *msg, void *data)
{
        struct warnings *w = data;
        w->n++;
        snprintf(w->last, sizeof w->last, "%s", msg);
}

static int std_parse(struct conf *c, const char *text, char *err)
{
        return confyaml_parse_standard(c, text, strlen(text), CONF_SRC_FILE, NULL, NULL, err, 256);
}

static void map_keeps_order_and_provenance(void **state)
{
        struct conf c;
        (void)state;
        conf_init(&c);
        assert_int_equal(conf_set(&c, "a", "1", CONF_SRC_DEFAULT), 0);
        assert_int_equal(conf_set(&c, "b", "2", CONF_SRC_FILE), 0);
        assert_int_equal(conf_set(&c, "a", "3", CONF_SRC_ARG), 0);
        assert_int_equal(c.n, 2);
        assert_string_equal(c.entries[0].key, "a");
        assert_string_equal(c.entries[0].value, "3");
        assert_int_equal(c.entries[0].source, CONF_SRC_ARG);
        assert_string_equal(conf_source_name(c.entries[1].source), "file");
        assert_int_equal(conf_remove(&c, "a"), 0);
        assert_int_equal(conf_remove(&c, "a"), -ENOENT);
        assert_null(conf_get(&c, "a"));
        assert_string_equal(conf_get(&c, "b"), "2");
        conf_free(&c);
}

static void many_keys_stay_findable_through_growth_and_removal(void **state)
{
        struct conf c;
        char key[32], value[32];
        (void)state;
        conf_init(&c);
        for (int i = 0; i < 100000; i++) {
                snprintf(key, sizeof key, "k.%d", i);
                snprintf(value, sizeof value, "%d", i);
                assert_int_equal(conf_set(&c, key, value, CONF_SRC_FILE), 0);
        }
        assert_int_equal(conf_remove(&c, "k.500"), 0);
        for (int i = 0; i < 100000; i += 997) {
                snprintf(key, sizeof key, "k.%d", i);
                snprintf(value, sizeof value, "%d", i);
                if (i == 500)
                        assert_null(conf_get(&c, key));
                else
                        assert_string_equal(conf_get(&c, key), value);
        }
        assert_int_equal(c.n, 99999);
        assert_string_equal(c.entries[500].key, "k.501"); /* order kept */
        conf_free(&c);
}

static void copy_keeps_order_values_and_sources(void **state)
{
        struct conf a, b;
        (void)state;
        conf_init(&a);
        assert_int_equal(conf_set(&a, "x", "1", CONF_SRC_FILE), 0);
        assert_int_equal(conf_set(&a, "y", "2", CONF_SRC_MESOS), 0);
        assert_int_equal(conf_copy(&b, &a), 0);
        assert_int_equal(conf_set(&a, "x", "changed", CONF_SRC_ARG), 0);
        assert_int_equal(b.n, 2);
        assert_string_equal(b.entries[0].key, "x");
        assert_string_equal(conf_get(&b, "x"), "1");
        assert_int_equal(conf_find(&b, "y")->source, CONF_SRC_MESOS);
        conf_free(&a);
        conf_free(&b);
}

static void set_default_respects_explicit_layers(void **state)
{
        struct conf c;
        (void)state;
        conf_init(&c);
        conf_set(&c, "from.file", "f", CONF_SRC_FILE);
        conf_set(&c, "from.env", "e", CONF_SRC_ENV);
        conf_set_default(&c, "from.file", "m", CONF_SRC_MESOS, CONF_SRC_ZOOKEEPER);
        conf_set_default(&c, "from.env", "m", CONF_SRC_MESOS, CONF_SRC_ZOOKEEPER);
        conf_set_default(&c, "absent", "m", CONF_SRC_MESOS, CONF_SRC_ZOOKEEPER);
        assert_string_equal(conf_get(&c, "from.file"), "m");
        assert_string_equal(conf_get(&c, "from.env"), "e");
        assert_string_equal(conf_get(&c, "absent"), "m");
        conf_free(&c);
}

static void secrets_follow_flinks_rule(void **state)
{
        (void)state;
        assert_true(conf_key_is_secret("security.ssl.keystore-password"));
        assert_true(conf_key_is_secret("s3.secret-key"));
        assert_true(conf_key_is_secret("s3.access-key"));
        assert_true(conf_key_is_secret("fs.azure.account.key.x.blob.core.windows.net"));
        assert_true(conf_key_is_secret("metrics.reporter.dghttp.apikey"));
        assert_true(conf_key_is_secret("security.kerberos.token.provider"));
        assert_true(conf_key_is_secret("Some.PASSWORD"));
        assert_false(conf_key_is_secret("jobmanager.rpc.address"));
        assert_false(conf_key_is_secret("state.backend.type"));
        assert_false(conf_key_is_secret("keystore.type"));
}

static void standard_yaml_nested_and_flat(void **state)
{
        struct conf c;
        char err[256];
        (void)state;
        conf_init(&c);
        assert_int_equal(std_parse(&c, "jobmanager:\n  rpc:\n    address: jm\n    port: 6123\n"
                                       "taskmanager.numberOfTaskSlots: 4\n"
                                       "pipeline.jars: [a.jar, b.jar]\n"
                                       "empty:\n"
                                       "s: 'quoted # not a comment'\n", err), 0);
        assert_string_equal(conf_get(&c, "jobmanager.rpc.address"), "jm");
        assert_string_equal(conf_get(&c, "jobmanager.rpc.port"), "6123");
        assert_string_equal(conf_get(&c, "taskmanager.numberOfTaskSlots"), "4");
        assert_string_equal(conf_get(&c, "pipeline.jars"), "a.jar;b.jar");
        assert_null(conf_get(&c, "empty"));
        assert_string_equal(conf_get(&c, "s"), "quoted # not a comment");
        conf_free(&c);
}

static void standard_yaml_errors_name_the_line(void **state)
{
        static const struct {
                const char *text, *needle;
        } cases[] = {
                { "a: 1\nb: [unclosed\n", "line " },
                { "- just\n- a list\n", "line 1: the document is not a mapping" },
                { "a:\n  - {x: 1}\n", "holds more than plain values" },
                { "a: [x;y]\n", "without ';'" },
                { "? [complex]\n: key\n", "a key is not a plain value" },
        };
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct conf c;
                char err[256] = "";
                conf_init(&c);
                assert_int_equal(std_parse(&c, cases[i].text, err), -EINVAL);
                assert_non_null(strstr(err, cases[i].needle));
                assert_int_equal(c.n, 0); /* nothing of a bad document is kept */
                conf_free(&c);
        }
}

static void alias_bomb_depth_and_size_are_bounded(void **state)
{
        const char *bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n"
                           "b: &b {p: *a, q: *a, r: *a, s: *a, t: *a, u: *a, v: *a, w: *a, x: *a, y: *a}\n"
                           "c: &c {p: *b, q: *b, r: *b, s: *b, t: *b, u: *b, v: *b, w: *b, x: *b, y: *b}\n"
                           "d: &d {p: *c, q: *c, r: *c, s: *c, t: *c, u: *c, v: *c, w: *c, x: *c, y: *c}\n"
                           "e: &e {p: *d, q: *d, r: *d, s: *d, t: *d, u: *d, v: *d, w: *d, x: *d, y: *d}\n"
                           "f: &f {p: *e, q: *e, r: *e, s: *e, t: *e, u: *e, v: *e, w: *e, x: *e, y: *e}\n";
        char deep[2048] = "", err[256];
        struct conf c;
        (void)state;
        conf_init(&c);
        assert_int_equal(std_parse(&c, bomb, err), -EINVAL);
        assert_non_null(strstr(err, "nodes after alias expansion"));
        for (int i = 0; i < 40; i++)
                strcat(deep, "{a: ");
        strcat(deep, "1");
        for (int i = 0; i < 40; i++)
                strcat(deep, "}");
        assert_int_equal(std_parse(&c, deep, err), -EINVAL);
        assert_non_null(strstr(err, "nested deeper than"));
        size_t big = CONFYAML_MAX_BYTES + 1;
        char *huge = malloc(big + 1);
        memset(huge, '#', big);
        huge[big] = '\0';
        assert_int_equal(std_parse(&c, huge, err), -EINVAL);
        assert_non_null(strstr(err, "expected at most 1 MiB"));
        free(huge);
        conf_free(&c);
}

static void duplicates_in_one_document_warn_and_last_wins(void **state)
{
        struct warnings w = { 0 };
        struct conf c;
        char err[256];
        const char *text = "a: 1\nx:\n  y: 2\nx.y: 3\n";
        (void)state;
        conf_init(&c);
        conf_set(&c, "a", "from a lower layer", CONF_SRC_DEFAULT);
        assert_int_equal(confyaml_parse_standard(&c, text, strlen(text), CONF_SRC_FILE, on_warn, &w, err, sizeof err), 0);
        assert_int_equal(w.n, 1); /* x.y twice; "a" only overrides a layer */
        assert_non_null(strstr(w.last, "duplicate key \"x.y\""));
        assert_string_equal(conf_get(&c, "x.y"), "3");
        conf_free(&c);
}

static void legacy_lines_as_flink_reads_them(void **state)
{
        struct conf c;
        char err[256];
        const char *text = "# comment\n  jobmanager.rpc.address: jm # trailing\n"
                           "env.java.opts: -Dx=\"a b\"\n\nempty.value:\n";
        (void)state;
        conf_init(&c);
        assert_int_equal(confyaml_parse_legacy(&c, text, strlen(text), CONF_SRC_FILE, NULL, NULL, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "flink-conf.yaml line 5: empty value"));
        conf_free(&c);
        conf_init(&c);
        text = "# comment\n  jobmanager.rpc.address: jm # trailing\nenv.java.opts: -Dx=\"a b\"\n";
        assert_int_equal(confyaml_parse_legacy(&c, text, strlen(text), CONF_SRC_FILE, NULL, NULL, err, sizeof err), 0);
        assert_string_equal(conf_get(&c, "jobmanager.rpc.address"), "jm");
        assert_string_equal(conf_get(&c, "env.java.opts"), "-Dx=\"a b\"");
        text = "no separator here\n";
        assert_int_equal(confyaml_parse_legacy(&c, text, strlen(text), CONF_SRC_FILE, NULL, NULL, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "line 1: \"no separator here\" is not a setting"));
        conf_free(&c);
}

static void every_reader_has_the_same_key_limit(void **state)
{
        char text[2100], key[1100], err[256];
        struct conf c;
        (void)state;
        memset(key, 'k', sizeof key);
        key[CONFYAML_MAX_KEY] = '\0';
        conf_init(&c);
        snprintf(text, sizeof text, "%s: v\n", key);
        assert_int_equal(confyaml_parse_properties(&c, text, CONF_SRC_ENV, NULL, NULL, err, sizeof err), 0);
        assert_int_equal(std_parse(&c, text, err), 0);
        key[CONFYAML_MAX_KEY] = 'k';
        key[CONFYAML_MAX_KEY + 1] = '\0';
        snprintf(text, sizeof text, "%s: v\n", key);
        assert_int_equal(confyaml_parse_properties(&c, text, CONF_SRC_ENV, NULL, NULL, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "key longer than 1023 bytes"));
        assert_int_equal(confyaml_parse_legacy(&c, text, strlen(text), CONF_SRC_FILE, NULL, NULL, err, sizeof err), -EINVAL);
        assert_int_equal(std_parse(&c, text, err), -EINVAL);
        conf_free(&c);
}

static void line_formats_reject_invalid_utf8(void **state)
{
        static const char *const bad[] = { "k: \xb0\n", "k: \xc0\xaf\n", "k: \xed\xa0\x80\n", "k: \xf4\x90\x80\x80\n",
                                           "ok: 1\nk\xff: v\n" };
        struct conf c;
        char err[256];
        (void)state;
        conf_init(&c);
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                assert_int_equal(confyaml_parse_properties(&c, bad[i], CONF_SRC_ENV, NULL, NULL, err, sizeof err), -EINVAL);
                assert_non_null(strstr(err, "not valid UTF-8"));
        }
        assert_int_equal(confyaml_parse_properties(&c, "k: \xc3\xbc \xe2\x82\xac \xf0\x9f\x98\x80\n", CONF_SRC_ENV, NULL,
                                                   NULL, err, sizeof err), 0);
        conf_free(&c);
}

static void properties_keep_inner_spaces(void **state)
{
        struct conf c;
        char err[256];
        (void)state;
        conf_init(&c);
        assert_int_equal(confyaml_parse_properties(&c, "env.java.opts.all:   -Xss2m   -Dk=a  b  \n# skipped\n\n"
                                                       "s3.secret-key: p#ss: word\r\n",
                                                   CONF_SRC_ENV, NULL, NULL, err, sizeof err), 0);
        assert_string_equal(conf_get(&c, "env.java.opts.all"), "-Xss2m   -Dk=a  b");
        assert_string_equal(conf_get(&c, "s3.secret-key"), "p#ss: word");
        assert_int_equal(conf_find(&c, "s3.secret-key")->source, CONF_SRC_ENV);
        assert_int_equal(confyaml_parse_properties(&c, "ok: 1\nbroken line\n", CONF_SRC_ENV, NULL, NULL, err, sizeof err),
                         -EINVAL);
        assert_string_equal(err, "FLINK_PROPERTIES line 2: \"broken line\" is not a setting: expected key: value");
        assert_int_equal(confyaml_parse_properties(&c, "s3.secret-key hunter2\n", CONF_SRC_ENV, NULL, NULL, err, sizeof err),
                         -EINVAL);
        assert_null(strstr(err, "hunter2"));
        assert_non_null(strstr(err, "line 1: \"******\" is not a setting"));
        conf_free(&c);
}

static void quoting_rule(void **state)
{
        static const char *const quoted[] = { "", " lead", "trail ", "0123", "1e3", "0x10", "0o17", "1.50", ".5",
                                              "+1", "-1.0", "null", "~", "NULL", "yes", "No", "on", "OFF", "True",
                                              "FALSE", "a: b", "a #b", "*ref", "&anchor", "!tag", "[x]", "{y}",
                                              "'s'", "\"d\"", "%p", "@a", "`b", "- x", "-", ":", "x:", "line\nbreak",
                                              ".inf", ".NaN" };
        static const char *const plain[] = { "jm-host", "6123", "-1", "0", "true", "false", "1600m", "10 s",
                                             "0.0.0.0", "1.2.3", "--add-opens=x", "a#b", "a:b", "file:///tmp/x",
                                             "hdfs://nn:8020/flink", "x.y.z", "-Dk=v" };
        (void)state;
        for (size_t i = 0; i < sizeof quoted / sizeof quoted[0]; i++)
                if (!confyaml_needs_quotes(quoted[i]))
                        fail_msg("expected quotes for \"%s\"", quoted[i]);
        for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
                if (confyaml_needs_quotes(plain[i]))
                        fail_msg("expected plain for \"%s\"", plain[i]);
}

static void render_round_trips_every_value(void **state)
{
        static const char *const values[] = { "0123", "1e3", "true", "True", "null", "", " x ", "a: b", "a #b",
                                              "line\nbreak", "tab\there", "quote\"s", "back\\slash", "ünïcödé",
                                              "-Dx=\"a b\"", "[not a list]", "6123", "1600m", "*x" };
        struct conf in, out;
        char *text, err[256];
        size_t len;
        (void)state;
        conf_init(&in);
        for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
                char key[32];
                snprintf(key, sizeof key, "k%zu", i);
                conf_set(&in, key, values[i], CONF_SRC_ARG);
        }
        assert_int_equal(confyaml_render(&in, 0, &text, &len), 0);
        conf_init(&out);
        assert_int_equal(confyaml_parse_standard(&out, text, len, CONF_SRC_FILE, NULL, NULL, err, sizeof err), 0);
        for (size_t i = 0; i < in.n; i++) {
                const char *got = conf_get(&out, in.entries[i].key);
                if (!values[i][0]) {
                        assert_string_equal(got ? got : "", ""); /* "" stays a string */
                        continue;
                }
                assert_non_null(got);
                assert_string_equal(got, values[i]);
        }
        free(text);
        conf_free(&in);
        conf_free(&out);
}

static void render_masks_and_tells_the_source(void **state)
{
        struct conf c;
        char *text;
        size_t len;
        (void)state;
        conf_init(&c);
        conf_set(&c, "s3.secret-key", "hunter2", CONF_SRC_ENV);
        conf_set(&c, "rest.port", "8081", CONF_SRC_MESOS);
        assert_int_equal(confyaml_render(&c, CONFYAML_MASK | CONFYAML_PROVENANCE, &text, &len), 0);
        assert_string_equal(text, "s3.secret-key: \"******\"  # from: env\nrest.port: 8081  # from: mesos\n");
        assert_null(strstr(text, "hunter2"));
        free(text);
        assert_int_equal(confyaml_render(&c, CONFYAML_LEGACY, &text, &len), 0);
        assert_string_equal(text, "s3.secret-key: hunter2\nrest.port: 8081\n");
        free(text);
        conf_free(&c);
}

/* One key and value through the flink-conf.yaml writer: the render's
 * result, and with 0 the text read back by the legacy reader into *back. */
static int legacy_render_one(const char *key, const char *value, struct conf *back)
{
        struct conf in;
        char *text = NULL, err[256];
        size_t len;
        int r;

        conf_init(&in);
        assert_int_equal(conf_set(&in, key, value, CONF_SRC_ARG), 0);
        r = confyaml_render(&in, CONFYAML_LEGACY, &text, &len);
        if (r == 0)
                assert_int_equal(confyaml_parse_legacy(back, text, len, CONF_SRC_FILE, NULL, NULL, err, sizeof err), 0);
        free(text);
        conf_free(&in);
        return r;
}

/* Flink's legacy reader has no quoting: what it would read back as
 * another string is refused, not written. */
static void legacy_render_refuses_what_flink_reads_differently(void **state)
{
        static const char *const values[] = { "", " lead", "trail ", "\tx", "x\x01", "\x0bx", "a # b", "a#b",
                                              "line\nbreak", "cr\rhere", "\xff", "\xc0\xaf" };
        static const char *const keys[] = { "a: b", "a#b", " k", "k ", "k\n", "k\rx", "" };
        struct conf back;
        (void)state;
        conf_init(&back);
        for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
                if (legacy_render_one("k", values[i], &back) != -EINVAL)
                        fail_msg("value %zu was written to flink-conf.yaml", i);
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
                if (legacy_render_one(keys[i], "v", &back) != -EINVAL)
                        fail_msg("key %zu was written to flink-conf.yaml", i);
        assert_int_equal(back.n, 0);
        conf_free(&back);
}

static void legacy_render_round_trips_what_it_writes(void **state)
{
        static const char *const values[] = { "a: b", ": x", "x:", "tab\there", "x  y", "-Dx=\"a b\"", "ünïcödé",
                                              "[not a list]", "*x", "'q'", "1e3", "null", "a:b", "file:///tmp/x" };
        static const char *const keys[] = { "a:", "a:b", "k.with-dash_and.dots", "ü" };
        struct conf back;
        (void)state;
        conf_init(&back);
        for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
                assert_int_equal(legacy_render_one("k", values[i], &back), 0);
                assert_int_equal(back.n, 1);
                assert_string_equal(conf_get(&back, "k"), values[i]);
        }
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                assert_int_equal(legacy_render_one(keys[i], "v", &back), 0);
                assert_string_equal(conf_get(&back, keys[i]), "v");
        }
        assert_int_equal(back.n, 1 + sizeof keys / sizeof keys[0]);
        conf_free(&back);
}

/* Java's readLine ends a line at "\n", "\r" or "\r\n"; String.trim takes
 * every character up to ' ', controls included. */
static void legacy_lines_end_and_trim_as_java_does(void **state)
{
        struct conf c;
        char err[256];
        const char *text = "a: x\rb: y\r\nc: \x01z\x0b\nd:  \x7fw\x7f \n";
        (void)state;
        conf_init(&c);
        assert_int_equal(confyaml_parse_legacy(&c, text, strlen(text), CONF_SRC_FILE, NULL, NULL, err, sizeof err), 0);
        assert_int_equal(c.n, 4);
        assert_string_equal(conf_get(&c, "a"), "x");
        assert_string_equal(conf_get(&c, "b"), "y");
        assert_string_equal(conf_get(&c, "c"), "z");
        assert_string_equal(conf_get(&c, "d"), "\x7fw\x7f"); /* DEL is above ' ': kept */
        text = "a: 1\r\nb: 2\rbroken\n";
        assert_int_equal(confyaml_parse_legacy(&c, text, strlen(text), CONF_SRC_FILE, NULL, NULL, err, sizeof err), -EINVAL);
        assert_non_null(strstr(err, "flink-conf.yaml line 3: \"broken\" is not a setting"));
        conf_free(&c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(map_keeps_order_and_provenance),
                cmocka_unit_test(many_keys_stay_findable_through_growth_and_removal),
                cmocka_unit_test(copy_keeps_order_values_and_sources),
                cmocka_unit_test(set_default_respects_explicit_layers),
                cmocka_unit_test(secrets_follow_flinks_rule),
                cmocka_unit_test(standard_yaml_nested_and_flat),
                cmocka_unit_test(standard_yaml_errors_name_the_line),
                cmocka_unit_test(alias_bomb_depth_and_size_are_bounded),
                cmocka_unit_test(duplicates_in_one_document_warn_and_last_wins),
                cmocka_unit_test(legacy_lines_as_flink_reads_them),
                cmocka_unit_test(every_reader_has_the_same_key_limit),
                cmocka_unit_test(line_formats_reject_invalid_utf8),
                cmocka_unit_test(properties_keep_inner_spaces),
                cmocka_unit_test(quoting_rule),
                cmocka_unit_test(render_round_trips_every_value),
                cmocka_unit_test(render_masks_and_tells_the_source),
                cmocka_unit_test(legacy_render_refuses_what_flink_reads_differently),
                cmocka_unit_test(legacy_render_round_trips_what_it_writes),
                cmocka_unit_test(legacy_lines_end_and_trim_as_java_does),
        };
        return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
