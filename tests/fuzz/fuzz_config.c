/* libFuzzer target for every parser of configuration input: config.yaml
 * (standard YAML), flink-conf.yaml (legacy lines) and FLINK_PROPERTIES.
 * The first byte picks the parser. Besides memory safety it checks two
 * properties: whatever is accepted renders to config.yaml that reads back
 * to exactly the same keys and values; and renders to flink-conf.yaml
 * that does too, unless the writer refuses it as a file that cannot carry
 * it, which it never does for what came from flink-conf.yaml itself. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf.h"
#include "config/confyaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void expect_same(const struct conf *c, const struct conf *back, const char *format)
{
        for (size_t i = 0; i < c->n; i++) {
                const char *v = conf_get(back, c->entries[i].key);
                /* "" renders as "" and reads back as "", never as null */
                if (!v || strcmp(v, c->entries[i].value) != 0) {
                        fprintf(stderr, "%s round trip changed \"%s\": \"%s\" -> \"%s\"\n", format, c->entries[i].key,
                                c->entries[i].value, v ? v : "(missing)");
                        abort();
                }
        }
        if (back->n != c->n) {
                fprintf(stderr, "%s round trip changed the number of keys: %zu -> %zu\n", format, c->n, back->n);
                abort();
        }
}

static void check_round_trip(const struct conf *c, unsigned flags, int may_refuse)
{
        const char *format = flags & CONFYAML_LEGACY ? "flink-conf.yaml" : "config.yaml";
        struct conf back;
        char *text, err[256];
        size_t len;
        int r = confyaml_render(c, flags, &text, &len);

        if (r == -EINVAL && may_refuse)
                return;
        if (r < 0) {
                fprintf(stderr, "%s render failed for an accepted document: %d\n", format, r);
                abort();
        }
        conf_init(&back);
        r = flags & CONFYAML_LEGACY ? confyaml_parse_legacy(&back, text, len, CONF_SRC_FILE, NULL, NULL, err, sizeof err)
                                    : confyaml_parse_standard(&back, text, len, CONF_SRC_FILE, NULL, NULL, err, sizeof err);
        if (r < 0) {
                fprintf(stderr, "rendered %s does not parse: %s\n%s\n", format, err, text);
                abort();
        }
        expect_same(c, &back, format);
        conf_free(&back);
        free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct conf c;
        char err[512], *text;
        int r;

        if (size < 1)
                return 0;
        text = malloc(size);
        if (!text)
                return 0;
        memcpy(text, data + 1, size - 1);
        text[size - 1] = '\0';
        conf_init(&c);
        switch (data[0] % 3) {
        case 0:
                r = confyaml_parse_standard(&c, text, size - 1, CONF_SRC_FILE, NULL, NULL, err, sizeof err);
                break;
        case 1:
                r = confyaml_parse_legacy(&c, text, size - 1, CONF_SRC_FILE, NULL, NULL, err, sizeof err);
                break;
        default:
                r = confyaml_parse_properties(&c, text, CONF_SRC_ENV, NULL, NULL, err, sizeof err);
                break;
        }
        if (r == 0) {
                check_round_trip(&c, 0, 0);
                check_round_trip(&c, CONFYAML_LEGACY, data[0] % 3 != 1);
        }
        else if (!memchr(err, '\0', sizeof err) || !err[0])
                abort(); /* every rejection explains itself */
        conf_free(&c);
        free(text);
        return 0;
}
