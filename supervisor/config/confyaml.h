/* confyaml: Flink's configuration files to and from struct conf. Pure:
 * buffers in, buffers out.
 *
 * Reading is bounded: documents over CONFYAML_MAX_BYTES, nested deeper
 * than CONFYAML_MAX_DEPTH, or expanding to more than CONFYAML_MAX_NODES
 * nodes (YAML alias bombs) are rejected. */
#pragma once

#include <stddef.h>

#include "config/conf.h"

#define CONFYAML_MAX_BYTES (1024 * 1024)
#define CONFYAML_MAX_DEPTH 32
#define CONFYAML_MAX_NODES 100000
/* The longest key any reader accepts (a flattened key, dots included). */
#define CONFYAML_MAX_KEY 1023

/* Called for what is accepted but worth a word (a duplicate key). */
typedef void (*confyaml_warn_fn)(const char *message, void *data);

/* config.yaml (Flink >= 1.19): standard YAML, nested or flattened keys.
 * Nested mappings join their keys with '.'; a list of scalars becomes
 * Flink's "a;b;c" form; null values are skipped. Returns 0, or -EINVAL
 * with a one-line reason in err ("line 3: ..."), or -ENOMEM. */
int confyaml_parse_standard(struct conf *c, const char *buf, size_t len, enum conf_source src,
                            confyaml_warn_fn warn, void *warn_data, char *err, size_t errlen);

/* flink-conf.yaml (Flink < 2.0), as Flink reads it: one "key: value" per
 * line (lines end at "\n", "\r" or "\r\n"), '#' starts a comment, key and
 * value are trimmed of spaces and control characters, nothing is unquoted. */
int confyaml_parse_legacy(struct conf *c, const char *buf, size_t len, enum conf_source src,
                          confyaml_warn_fn warn, void *warn_data, char *err, size_t errlen);

/* FLINK_PROPERTIES: "key: value" lines, split as the legacy file. Values keep
 * their inner spaces (and any '#'); blank lines and lines starting with
 * '#' are skipped. */
int confyaml_parse_properties(struct conf *c, const char *text, enum conf_source src,
                              confyaml_warn_fn warn, void *warn_data, char *err, size_t errlen);

#define CONFYAML_LEGACY 1u     /* flink-conf.yaml lines instead of config.yaml */
#define CONFYAML_MASK 2u       /* secrets as ****** */
#define CONFYAML_PROVENANCE 4u /* "# from: <source>" after each key */

/* Renders c; *ret is malloc'd and NUL-terminated. Returns 0 or -errno;
 * with CONFYAML_LEGACY, -EINVAL when a key or value would not read back
 * the same from flink-conf.yaml, which cannot quote: an empty one, one
 * with '#', a line break, leading or trailing spaces or control
 * characters, or invalid UTF-8, and a key with ": ". */
int confyaml_render(const struct conf *c, unsigned flags, char **ret, size_t *ret_len);

/* True when a value must be quoted in config.yaml to stay the same string
 * (YAML would read it as a number, boolean, null, or misparse it). */
int confyaml_needs_quotes(const char *value);
