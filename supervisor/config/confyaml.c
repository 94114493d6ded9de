/* confyaml: see confyaml.h. */
#include "config/confyaml.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "base/buf.h"
#include "base/fmt.h"

struct walk {
        struct conf *conf;      /* this document only: duplicates are within it */
        enum conf_source src;
        confyaml_warn_fn warn;
        void *warn_data;
        char *err;
        size_t errlen;
        yaml_document_t *doc;
        size_t visited;
};

/* Layers override each other silently; a key twice in one document is
 * worth a warning. So each document is read into a map of its own first. */
static int merge(struct conf *into, const struct conf *from)
{
        int r = 0;
        for (size_t i = 0; i < from->n && r == 0; i++)
                r = conf_set(into, from->entries[i].key, from->entries[i].value, from->entries[i].source);
        return r;
}

static int set_checked(struct walk *w, const char *key, const char *value, unsigned long line)
{
        if (conf_find(w->conf, key) && w->warn) {
                char msg[320];
                snprintf(msg, sizeof msg, "line %lu: duplicate key \"%.200s\": the last one wins", line, key);
                w->warn(msg, w->warn_data);
        }
        return conf_set(w->conf, key, value, w->src);
}

static int is_null_scalar(const yaml_node_t *n)
{
        const char *v = (const char *)n->data.scalar.value;
        if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
                return 0;
        return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
               strcmp(v, "NULL") == 0;
}

/* A list of scalars becomes "a;b;c", the form Flink accepts for list options. */
static int join_sequence(struct walk *w, yaml_node_t *seq, const char *key, char **ret)
{
        struct buf out = { .data = NULL };
        int r = buf_append(&out, "", 0);

        for (yaml_node_item_t *it = seq->data.sequence.items.start; r == 0 && it < seq->data.sequence.items.top; it++) {
                yaml_node_t *item = yaml_document_get_node(w->doc, *it);
                if (++w->visited > CONFYAML_MAX_NODES) {
                        buf_free(&out);
                        return fmt_invalid(w->err, w->errlen, "line %lu: more than %d nodes after alias expansion: expected a plain configuration",
                                    (unsigned long)seq->start_mark.line + 1, CONFYAML_MAX_NODES);
                }
                if (!item || item->type != YAML_SCALAR_NODE || strchr((char *)item->data.scalar.value, ';')) {
                        buf_free(&out);
                        return fmt_invalid(w->err, w->errlen, "line %lu: list at \"%.200s\" holds more than plain values: expected a list of scalars without ';'",
                                    (unsigned long)seq->start_mark.line + 1, key);
                }
                if (out.len)
                        r = buf_append(&out, ";", 1);
                if (r == 0)
                        r = buf_append(&out, item->data.scalar.value, item->data.scalar.length);
        }
        if (r < 0) {
                buf_free(&out);
                return r;
        }
        *ret = buf_take(&out, NULL);
        return 0;
}

static int walk_mapping(struct walk *w, yaml_node_t *map, const char *prefix, int depth)
{
        if (depth > CONFYAML_MAX_DEPTH)
                return fmt_invalid(w->err, w->errlen, "line %lu: nested deeper than %d levels: expected a flatter configuration",
                            (unsigned long)map->start_mark.line + 1, CONFYAML_MAX_DEPTH);
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
                yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
                yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
                char key[1024];
                int r = 0;

                if (++w->visited > CONFYAML_MAX_NODES)
                        return fmt_invalid(w->err, w->errlen, "line %lu: more than %d nodes after alias expansion: expected a plain configuration",
                                    (unsigned long)map->start_mark.line + 1, CONFYAML_MAX_NODES);
                if (!k || !v || k->type != YAML_SCALAR_NODE)
                        return fmt_invalid(w->err, w->errlen, "line %lu: a key is not a plain value: expected key: value",
                                    (unsigned long)map->start_mark.line + 1);
                if ((size_t)snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "",
                                     (char *)k->data.scalar.value) > CONFYAML_MAX_KEY)
                        return fmt_invalid(w->err, w->errlen, "line %lu: key longer than %d bytes: expected a Flink configuration key",
                                    (unsigned long)k->start_mark.line + 1, CONFYAML_MAX_KEY);
                switch (v->type) {
                case YAML_MAPPING_NODE:
                        r = walk_mapping(w, v, key, depth + 1);
                        break;
                case YAML_SEQUENCE_NODE: {
                        char *joined = NULL;
                        r = join_sequence(w, v, key, &joined);
                        if (r == 0) {
                                r = set_checked(w, key, joined, k->start_mark.line + 1);
                                free(joined);
                        }
                        break;
                }
                case YAML_SCALAR_NODE:
                        if (!is_null_scalar(v))
                                r = set_checked(w, key, (char *)v->data.scalar.value, k->start_mark.line + 1);
                        break;
                default:
                        break;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int confyaml_parse_standard(struct conf *c, const char *buf, size_t len, enum conf_source src,
                            confyaml_warn_fn warn, void *warn_data, char *err, size_t errlen)
{
        struct conf doc_conf;
        struct walk w = { .conf = &doc_conf, .src = src, .warn = warn, .warn_data = warn_data, .err = err, .errlen = errlen };
        yaml_parser_t parser;
        yaml_document_t doc;
        int r = 0;

        if (len > CONFYAML_MAX_BYTES)
                return fmt_invalid(err, errlen, "%lu bytes: expected at most 1 MiB", (unsigned long)len);
        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        conf_init(&doc_conf);
        yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
        if (!yaml_parser_load(&parser, &doc)) {
                r = fmt_invalid(err, errlen, "line %lu: %s: expected valid YAML", (unsigned long)parser.problem_mark.line + 1,
                         parser.problem ? parser.problem : "malformed YAML");
                yaml_parser_delete(&parser);
                return r;
        }
        w.doc = &doc;
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root && root->type == YAML_MAPPING_NODE)
                r = walk_mapping(&w, root, "", 0);
        else if (root && !(root->type == YAML_SCALAR_NODE && is_null_scalar(root)))
                r = fmt_invalid(err, errlen, "line %lu: the document is not a mapping: expected key: value pairs",
                         (unsigned long)root->start_mark.line + 1);
        yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
        if (r == 0)
                r = merge(c, &doc_conf);
        conf_free(&doc_conf);
        return r;
}

/* Java's String.trim, which Flink applies: every character up to ' '
 * (controls included) goes from both ends. */
static int is_trimmed(unsigned char c)
{
        return c != '\0' && c <= ' ';
}

static char *trim(char *s)
{
        char *end;

        while (is_trimmed((unsigned char)*s))
                s++;
        end = s + strlen(s);
        while (end > s && is_trimmed((unsigned char)end[-1]))
                *--end = '\0';
        return s;
}

/* Strict UTF-8 (no overlongs, surrogates or values past U+10FFFF): what
 * the YAML we render must be, so it is checked where the text comes in. */
static int is_utf8(const unsigned char *s)
{
        while (*s) {
                unsigned c = *s, n, min, cp;
                if (c < 0x80) {
                        s++;
                        continue;
                }
                if ((c & 0xe0) == 0xc0) {
                        n = 1, min = 0x80, cp = c & 0x1f;
                } else if ((c & 0xf0) == 0xe0) {
                        n = 2, min = 0x800, cp = c & 0x0f;
                } else if ((c & 0xf8) == 0xf0) {
                        n = 3, min = 0x10000, cp = c & 0x07;
                } else {
                        return 0;
                }
                for (unsigned i = 1; i <= n; i++) {
                        if ((s[i] & 0xc0) != 0x80)
                                return 0;
                        cp = (cp << 6) | (s[i] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return 0;
                s += n + 1;
        }
        return 1;
}

/* Line by line: shared by the legacy file and FLINK_PROPERTIES. */
static int parse_lines(struct conf *c, const char *buf, size_t len, enum conf_source src, int strip_comments,
                       const char *what, confyaml_warn_fn warn, void *warn_data, char *err, size_t errlen)
{
        struct conf doc_conf;
        struct walk w = { .conf = &doc_conf, .src = src, .warn = warn, .warn_data = warn_data };
        char *copy;
        unsigned long line = 0;
        int r = 0;

        if (len > CONFYAML_MAX_BYTES)
                return fmt_invalid(err, errlen, "%lu bytes: expected at most 1 MiB", (unsigned long)len);
        copy = malloc(len + 1);
        if (!copy)
                return -ENOMEM;
        conf_init(&doc_conf);
        memcpy(copy, buf, len);
        copy[len] = '\0';
        for (char *next = copy, *cur; next && r == 0;) {
                cur = next;
                /* Lines end as Java's readLine ends them: "\n", "\r" or "\r\n". */
                next = strpbrk(cur, "\r\n");
                if (next) {
                        int crlf = next[0] == '\r' && next[1] == '\n';
                        *next = '\0';
                        next += crlf ? 2 : 1;
                }
                line++;
                if (!is_utf8((const unsigned char *)cur)) {
                        snprintf(err, errlen, "%s line %lu: not valid UTF-8: expected UTF-8 text", what, line);
                        r = -EINVAL;
                        break;
                }
                if (strip_comments) {
                        char *hash = strchr(cur, '#');
                        if (hash)
                                *hash = '\0';
                }
                char *l = trim(cur);
                if (!*l || (!strip_comments && *l == '#'))
                        continue;
                char *sep = strstr(l, ": ");
                if (!sep && l[strlen(l) - 1] == ':')
                        sep = l + strlen(l) - 1;
                if (!sep) {
                        /* A broken line may still carry a secret: then it is not echoed. */
                        snprintf(err, errlen, "%s line %lu: \"%.64s\" is not a setting: expected key: value", what, line,
                                 conf_key_is_secret(l) ? "******" : l);
                        r = -EINVAL;
                        break;
                }
                *sep = '\0';
                char *key = trim(l), *value = trim(sep + 1);
                if (strlen(key) > CONFYAML_MAX_KEY) {
                        snprintf(err, errlen, "%s line %lu: key longer than %d bytes: expected a Flink configuration key", what,
                                 line, CONFYAML_MAX_KEY);
                        r = -EINVAL;
                        break;
                }
                if (!*key || !*value) {
                        snprintf(err, errlen, "%s line %lu: empty %s: expected key: value", what, line, *key ? "value" : "key");
                        r = -EINVAL;
                        break;
                }
                r = set_checked(&w, key, value, line);
        }
        free(copy);
        if (r == 0)
                r = merge(c, &doc_conf);
        conf_free(&doc_conf);
        return r;
}

int confyaml_parse_legacy(struct conf *c, const char *buf, size_t len, enum conf_source src,
                          confyaml_warn_fn warn, void *warn_data, char *err, size_t errlen)
{
        return parse_lines(c, buf, len, src, 1, "flink-conf.yaml", warn, warn_data, err, errlen);
}

int confyaml_parse_properties(struct conf *c, const char *text, enum conf_source src,
                              confyaml_warn_fn warn, void *warn_data, char *err, size_t errlen)
{
        return parse_lines(c, text, strlen(text), src, 0, "FLINK_PROPERTIES", warn, warn_data, err, errlen);
}

static int is_canonical_int(const char *v)
{
        if (*v == '-')
                v++;
        if (v[0] == '0')
                return v[1] == '\0';
        if (*v < '1' || *v > '9')
                return 0;
        while (isdigit((unsigned char)*v))
                v++;
        return *v == '\0';
}

static const char *digits(const char *p)
{
        while (isdigit((unsigned char)*p))
                p++;
        return p;
}

/* YAML 1.2 core schema numbers: ints (decimal, 0x, 0o) and floats
 * ([-+]? (.N | N[.N]) ([eE][-+]?N)?). Such a plain value is read as a number. */
static int is_yaml_number(const char *v)
{
        const char *p = v + (*v == '-' || *v == '+');
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o') && p[2])
                return p[2 + strspn(p + 2, p[1] == 'x' ? "0123456789abcdefABCDEF" : "01234567")] == '\0';
        const char *q = digits(p);
        int whole = q > p;
        if (*q == '.') {
                const char *f = digits(q + 1);
                if (!whole && f == q + 1)
                        return 0;
                q = f;
        } else if (!whole) {
                return 0;
        }
        if (*q == 'e' || *q == 'E') {
                const char *e = q + 1 + (q[1] == '-' || q[1] == '+');
                const char *d = digits(e);
                if (d == e)
                        return 0;
                q = d;
        }
        return *q == '\0';
}

int confyaml_needs_quotes(const char *v)
{
        static const char *const specials[] = { "~", "null", "yes", "no", "on", "off", "y", "n", ".inf", "-.inf",
                                                "+.inf", ".nan" };
        size_t len = strlen(v);

        if (len == 0 || v[0] == ' ' || v[len - 1] == ' ')
                return 1;
        /* '-', '?' and ':' start a plain scalar unless a space follows. */
        if (strchr(",[]{}#&*!|>'\"%@`", v[0]) || (strchr("-?:", v[0]) && (v[1] == ' ' || v[1] == '\0')))
                return 1;
        if (strstr(v, ": ") || strstr(v, " #") || v[len - 1] == ':')
                return 1;
        for (const char *p = v; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return 1;
        for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++)
                if (strcasecmp(v, specials[i]) == 0)
                        return 1;
        if (strcasecmp(v, "true") == 0 || strcasecmp(v, "false") == 0)
                return strcmp(v, "true") != 0 && strcmp(v, "false") != 0;
        /* A number that is not a canonical integer reads back as another
         * string: "0123" as 123, "1e3" as 1000.0, "1.50" as 1.5. */
        return is_yaml_number(v) && !is_canonical_int(v);
}

static int write_handler(void *data, unsigned char *s, size_t n)
{
        return buf_append(data, (const char *)s, n) == 0;
}

/* One "key: value" line through libyaml's emitter, so every escape is
 * YAML's own; the value is double-quoted when the rule above says so. */
static int emit_pair(struct buf *out, const char *key, const char *value)
{
        yaml_emitter_t em;
        yaml_event_t ev;
        struct buf line = { 0 };
        int ok;

        if (!yaml_emitter_initialize(&em))
                return -ENOMEM;
        yaml_emitter_set_output(&em, write_handler, &line);
        yaml_emitter_set_width(&em, -1);
        yaml_emitter_set_unicode(&em, 1);
        ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&em, &ev) &&
             yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) && yaml_emitter_emit(&em, &ev) &&
             yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) &&
             yaml_emitter_emit(&em, &ev) &&
             yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t)key, -1, 1, 1,
                                          confyaml_needs_quotes(key) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE) &&
             yaml_emitter_emit(&em, &ev) &&
             yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t)value, -1, 1, 1,
                                          confyaml_needs_quotes(value) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE) &&
             yaml_emitter_emit(&em, &ev) && yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev) &&
             yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev) &&
             yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev);
        yaml_emitter_delete(&em);
        if (!ok || !line.data) {
                free(line.data);
                return -EINVAL;
        }
        /* The emitter wrote "key: value\n" (one line: width is unlimited and
         * double-quoted scalars escape line breaks); drop the newline. */
        while (line.len && line.data[line.len - 1] == '\n')
                line.len--;
        int r = buf_append(out, line.data, line.len);
        free(line.data);
        return r;
}

/* flink-conf.yaml has no quoting or escapes: Flink reads a line up to
 * "\n" or "\r", cuts it at the first '#', trims it, splits it at the first
 * ": " and trims both sides (GlobalConfiguration.loadLegacyYAMLResource).
 * A key or value survives that only when it is not empty, has no '#' and
 * no line break, does not start or end with what trim removes, and is
 * UTF-8 (anything else is decoded as U+FFFD); a key also has no ": ". */
static int legacy_survives(const char *s, int is_key)
{
        size_t len = strlen(s);

        return len > 0 && !is_trimmed((unsigned char)s[0]) && !is_trimmed((unsigned char)s[len - 1]) &&
               !strpbrk(s, "#\r\n") && !(is_key && strstr(s, ": ")) && is_utf8((const unsigned char *)s);
}

int confyaml_render(const struct conf *c, unsigned flags, char **ret, size_t *ret_len)
{
        struct buf out = { 0 };
        int r = buf_append(&out, "", 0);

        for (size_t i = 0; i < c->n && r == 0; i++) {
                const struct conf_entry *e = &c->entries[i];
                const char *value = (flags & CONFYAML_MASK) && conf_key_is_secret(e->key) ? "******" : e->value;

                if (flags & CONFYAML_LEGACY) {
                        if (!legacy_survives(e->key, 1) || !legacy_survives(value, 0)) {
                                r = -EINVAL;
                                break;
                        }
                        r = buf_append(&out, e->key, strlen(e->key));
                        if (r == 0)
                                r = buf_append(&out, ": ", 2);
                        if (r == 0)
                                r = buf_append(&out, value, strlen(value));
                } else {
                        r = emit_pair(&out, e->key, value);
                }
                if (r == 0 && (flags & CONFYAML_PROVENANCE)) {
                        const char *src = conf_source_name(e->source);
                        r = buf_append(&out, "  # from: ", 10);
                        if (r == 0)
                                r = buf_append(&out, src, strlen(src));
                        if (r == 0 && e->source == CONF_SRC_ZOOKEEPER && c->zk_note[0]) {
                                r = buf_append(&out, " (", 2);
                                if (r == 0)
                                        r = buf_append(&out, c->zk_note, strlen(c->zk_note));
                                if (r == 0)
                                        r = buf_append(&out, ")", 1);
                        }
                }
                if (r == 0)
                        r = buf_append(&out, "\n", 1);
        }
        if (r < 0) {
                free(out.data);
                return r;
        }
        *ret = out.data;
        *ret_len = out.len;
        return 0;
}
