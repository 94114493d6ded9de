/* conf: see conf.h. */
#include "config/conf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const source_names[] = {
        [CONF_SRC_DEFAULT] = "default", [CONF_SRC_FILE] = "file", [CONF_SRC_ZOOKEEPER] = "zookeeper",
        [CONF_SRC_ENV] = "env",         [CONF_SRC_MESOS] = "mesos", [CONF_SRC_ARG] = "arg",
};

void conf_init(struct conf *c)
{
        c->entries = NULL;
        c->n = c->cap = 0;
        c->slots = NULL;
        c->n_slots = 0;
        c->zk_note[0] = '\0';
}

void conf_free(struct conf *c)
{
        for (size_t i = 0; i < c->n; i++) {
                free(c->entries[i].key);
                free(c->entries[i].value);
        }
        free(c->entries);
        free(c->slots);
        conf_init(c);
}

int conf_copy(struct conf *dst, const struct conf *src)
{
        int r = 0;

        conf_init(dst);
        memcpy(dst->zk_note, src->zk_note, sizeof dst->zk_note);
        for (size_t i = 0; r == 0 && i < src->n; i++)
                r = conf_set(dst, src->entries[i].key, src->entries[i].value, src->entries[i].source);
        if (r < 0)
                conf_free(dst);
        return r;
}

/* FNV-1a */
static size_t hash(const char *key)
{
        uint64_t h = 0xcbf29ce484222325ull;
        for (; *key; key++)
                h = (h ^ (unsigned char)*key) * 0x100000001b3ull;
        return (size_t)h;
}

/* The slot that holds key, or the empty slot where it would go. */
static size_t *slot_of(const struct conf *c, const char *key)
{
        size_t mask = c->n_slots - 1;
        for (size_t i = hash(key) & mask;; i = (i + 1) & mask) {
                size_t *slot = &c->slots[i];
                if (*slot == 0 || strcmp(c->entries[*slot - 1].key, key) == 0)
                        return slot;
        }
}

static int reindex(struct conf *c, size_t n_slots)
{
        size_t *slots = calloc(n_slots, sizeof *slots);

        if (!slots)
                return -ENOMEM;
        free(c->slots);
        c->slots = slots;
        c->n_slots = n_slots;
        for (size_t i = 0; i < c->n; i++)
                *slot_of(c, c->entries[i].key) = i + 1;
        return 0;
}

static struct conf_entry *find(const struct conf *c, const char *key)
{
        if (c->n == 0)
                return NULL;
        size_t *slot = slot_of(c, key);
        return *slot ? &c->entries[*slot - 1] : NULL;
}

const struct conf_entry *conf_find(const struct conf *c, const char *key)
{
        return find(c, key);
}

const char *conf_get(const struct conf *c, const char *key)
{
        const struct conf_entry *e = find(c, key);
        return e ? e->value : NULL;
}

int conf_set(struct conf *c, const char *key, const char *value, enum conf_source source)
{
        struct conf_entry *e = find(c, key);
        char *v = strdup(value);

        if (!v)
                return -ENOMEM;
        if (e) {
                free(e->value);
                e->value = v;
                e->source = source;
                return 0;
        }
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 32;
                struct conf_entry *grown = realloc(c->entries, cap * sizeof *grown);
                if (!grown) {
                        free(v);
                        return -ENOMEM;
                }
                c->entries = grown;
                c->cap = cap;
        }
        e = &c->entries[c->n];
        e->key = strdup(key);
        if (!e->key) {
                free(v);
                return -ENOMEM;
        }
        e->value = v;
        e->source = source;
        c->n++;
        if (c->n * 2 >= c->n_slots)
                return reindex(c, c->n_slots ? c->n_slots * 2 : 64);
        *slot_of(c, e->key) = c->n;
        return 0;
}

int conf_set_default(struct conf *c, const char *key, const char *value, enum conf_source source,
                     enum conf_source explicit_from)
{
        const struct conf_entry *e = find(c, key);

        if (e && e->source >= explicit_from)
                return 0;
        return conf_set(c, key, value, source);
}

int conf_remove(struct conf *c, const char *key)
{
        struct conf_entry *e = find(c, key);

        if (!e)
                return -ENOENT;
        free(e->key);
        free(e->value);
        memmove(e, e + 1, (size_t)(&c->entries[c->n] - (e + 1)) * sizeof *e);
        c->n--;
        /* Removal shifts the entries after it: rare, so simply reindex. */
        return reindex(c, c->n_slots);
}

const char *conf_source_name(enum conf_source source)
{
        return source_names[source];
}

bool conf_key_is_secret(const char *key)
{
        static const char *const words[] = { "password", "secret", "fs.azure.account.key", "apikey",
                                             "api-key", "auth-params", "service-key", "token",
                                             "basic-auth", "jaas.config", "http-headers" };
        size_t len = strlen(key);

        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
                if (strcasestr(key, words[i]))
                        return true;
        /* Also access keys and private keys: "s3.access-key", "ssl.key". */
        return (len >= 4 && (strcasecmp(key + len - 4, "-key") == 0 || strcasecmp(key + len - 4, ".key") == 0));
}
