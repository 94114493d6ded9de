/* conf: Flink's configuration as an ordered key/value map in which every
 * key remembers the layer it came from (provenance). Pure: no I/O.
 *
 * The map owns copies of every key and value. Setting a key that exists
 * replaces its value and source in place, so keys keep the order in which
 * they first appeared. A hash index keeps lookups constant-time: documents
 * from outside may hold 100,000 keys. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Layers, lowest precedence first. */
enum conf_source {
        CONF_SRC_DEFAULT,
        CONF_SRC_FILE,
        CONF_SRC_ZOOKEEPER,
        CONF_SRC_ENV,
        CONF_SRC_MESOS,
        CONF_SRC_ARG,
};

struct conf_entry {
        char *key;
        char *value;
        enum conf_source source;
};

struct conf {
        struct conf_entry *entries;
        size_t n, cap;
        size_t *slots;          /* open addressing: entry index + 1, 0 = empty */
        size_t n_slots;         /* a power of two, more than twice n */
        /* Where the ZooKeeper layer's values came from when that was not a
         * live read ("cache of <time>, version N"); "" otherwise. */
        char zk_note[96];
};

void conf_init(struct conf *c);
void conf_free(struct conf *c);
/* dst becomes a copy of src, order and sources included. Returns 0 or -ENOMEM. */
int conf_copy(struct conf *dst, const struct conf *src);
/* Returns 0, or -ENOMEM. */
int conf_set(struct conf *c, const char *key, const char *value, enum conf_source source);
/* Sets key only when it is absent or came from a layer below source. */
int conf_set_default(struct conf *c, const char *key, const char *value, enum conf_source source,
                     enum conf_source explicit_from);
const struct conf_entry *conf_find(const struct conf *c, const char *key);
const char *conf_get(const struct conf *c, const char *key);
int conf_remove(struct conf *c, const char *key);
const char *conf_source_name(enum conf_source source);

/* Flink's own rule (GlobalConfiguration.isSensitive) for values that must
 * never be shown: the key contains password, secret, token, ... */
bool conf_key_is_secret(const char *key);
