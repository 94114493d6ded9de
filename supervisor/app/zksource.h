/* zksource: the configuration's ZooKeeper layer. It reads the base and
 * the role document, keeps the last good pair on disk, and tells its owner
 * about the first valid configuration (from ZooKeeper, else from that
 * cache) and, debounced, about every later one; an invalid document is
 * rejected and the owner keeps what runs. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config/conf.h"
#include "config/role.h"
#include "config/settings.h"
#include "config/zkquorum.h"
#include "core/mailbox.h"
#include "core/timer.h"
#include "integrations/zk.h"

struct zksource_ops {
        /* The effective configuration with docs ([0] base, [1] role).
         * Returns 0, or -EINVAL with one line in err. */
        int (*build)(const struct zk_doc *docs, struct conf *out, char *err, size_t errlen, void *data);
        /* The first valid configuration; c->zk_note says when it came from
         * the cache. Called at most once. */
        void (*first)(const struct conf *c, void *data);
        /* A later valid configuration, once the writes have settled. */
        void (*change)(const struct conf *c, void *data);
        /* No configuration can come: the supervisor ends with code. */
        void (*fail)(int code, void *data);
};

struct zksource {
        const struct settings *set;
        enum role role;
        bool report_only;         /* --print-config or --check: the cache never hides a refusal */
        struct zkquorum quorum;
        char base_path[512], role_path[600], auth[512], origin[2048], cache_file[1100];
        struct zk zk;
        struct timer deadline, debounce;
        struct zk_doc good[2];    /* last good documents */
        bool have_good;
        time_t good_saved_at;     /* when the cache that good came from was written */
        struct zk_doc next[2];    /* valid documents waiting for the debounce */
        bool delivered;           /* first() was called */
        bool zk_error;            /* the last read was refused */
        bool connected;
        bool missing_told[2];     /* a missing znode is logged once, until it exists */
        uint64_t rejections;
        const struct zksource_ops *ops;
        void *data;
};

/* Everything about ZooKeeper that can be wrong is found here, before
 * anything starts; the cache is loaded. Returns 0, or -errno with one line
 * in err. */
int zksource_prepare(struct zksource *z, const struct settings *set, enum role role, bool report_only, char *err,
                     size_t errlen);
/* The znodes, the HA quorum and chroot, for the configuration's inputs. */
int zksource_start(struct zksource *z, struct loop *l, struct mailbox *mb, const struct zksource_ops *ops, void *data);
/* Ends the library's threads first: nothing is posted after it. */
void zksource_close(struct zksource *z, struct loop *l);
