/* zk: the ZooKeeper client that reads the config documents and watches
 * them, driven by the supervisor's loop.
 *
 * libzookeeper_mt calls back on its own threads; those callbacks only copy
 * what they got into a message for the mailbox. Everything else, including
 * every call into the library after zk_open, happens on the loop thread.
 * The zk owns its documents; callers copy what they keep. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/mailbox.h"

struct zk_doc {
        bool exists;
        char *text;         /* NUL-terminated; NULL when !exists */
        size_t len;
        int version;        /* the znode's data version; -1 when !exists */
};

struct zk;
struct zk_req;

/* libzookeeper's ZOK: its header stays with zk.c, the one file that needs
 * its threaded API. */
#define ZK_OK 0
/* The library's name for a result code. */
const char *zk_strerror(int rc);

/* A one-shot read: rc is ZOK (data, len: the node's content, borrowed for
 * the call), ZNONODE, or why not. */
typedef void (*zk_got_fn)(struct zk *zk, int rc, const char *data, size_t len, void *cbdata);

struct zk_ops {
        /* Both documents were read (and are watched). */
        void (*docs)(struct zk *zk, const struct zk_doc *base, const struct zk_doc *role, void *data);
        /* A read was refused: rc is ZNOAUTH, ZAUTHFAILED, ... */
        void (*failed)(struct zk *zk, const char *path, int rc, void *data);
        /* Connected, disconnected, or a new session after expiry. */
        void (*session)(struct zk *zk, const char *what, void *data);
};

struct zk {
        struct _zhandle *zh;  /* libzookeeper's zhandle_t */
        struct mailbox *mb;
        char connect[1600];
        char paths[2][512];   /* [0] the base document, [1] the role document */
        char auth[512];       /* "user:password" or "" */
        int session_ms;
        unsigned gen;         /* results of older fetches are dropped */
        int pending;
        bool failed;
        struct zk_doc docs[2];
        struct zk_req *reqs;  /* in flight; freed by the loop thread only */
        const struct zk_ops *ops;
        void *data;
};

/* connect is "hosts[/chroot]". Returns 0 or -errno. */
int zk_open(struct zk *zk, struct mailbox *mb, const char *connect, const char *base_path, const char *role_path,
            const char *auth, int session_ms, const struct zk_ops *ops, void *data);
/* Reads path once, without a watch; got runs on the loop thread unless
 * zk_close comes first. Returns 0 or -errno (-ENOTCONN: no session now). */
int zk_get(struct zk *zk, const char *path, zk_got_fn got, void *data);
void zk_close(struct zk *zk);
