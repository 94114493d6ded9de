/* libFuzzer target for every parser of configuration input: config.yaml
 * (standard YAML), flink-conf.yaml (legacy lines) and FLINK_PROPERTIES.
 * The first byte picks the parser. Besides memory safety it checks a
 * property: whatever is accepted renders to config.yaml that reads back
 * to exactly the same keys and values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf.h"
#include "config/confyaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct conf *c)
{
        struct conf back;
        char *text, err[256];
        size_t len;

        if (confyaml_render(c, 0, &text, &len) < 0) {
                fprintf(stderr, "render failed for an accepted document\n");
                abort();
        }
        conf_init(&back);
        if (confyaml_parse_standard(&back, text, len, CONF_SRC_FILE, NULL, NULL, err, sizeof err) < 0) {
                fprintf(stderr, "rendered document does not parse: %s\n%s\n", err, text);
                abort();
        }
        for (size_t i = 0; i < c->n; i++) {
                const char *v = conf_get(&back, c->entries[i].key);
                /* "" renders as "" and reads back as "", never as null */
                if (!v || strcmp(v, c->entries[i].value) != 0) {
                        fprintf(stderr, "round trip changed \"%s\": \"%s\" -> \"%s\"\n", c->entries[i].key,
                                c->entries[i].value, v ? v : "(missing)");
                        abort();
                }
        }
        if (back.n != c->n) {
                fprintf(stderr, "round trip changed the number of keys: %zu -> %zu\n", c->n, back.n);
                abort();
        }
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
        if (r == 0)
                check_round_trip(&c);
        else if (!memchr(err, '\0', sizeof err) || !err[0])
                abort(); /* every rejection explains itself */
        conf_free(&c);
        free(text);
        return 0;
}
