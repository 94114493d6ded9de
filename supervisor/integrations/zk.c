/* zk: see zk.h. */
#include "integrations/zk.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zookeeper/zookeeper.h>

#include "base/fmt.h"
#include "base/log.h"
#include "base/secret.h"

enum zk_msg_kind { ZK_MSG_SESSION, ZK_MSG_NODE, ZK_MSG_DATA, ZK_MSG_EXISTS, ZK_MSG_GOT };

struct zk_msg {
        struct mailbox_msg base;
        struct zk *zk;
        enum zk_msg_kind kind;
        int state;
        int rc;
        int which;
        unsigned gen;
        char *data;
        int len;
        int version;
        struct zk_req *req;
        zk_got_fn got;          /* ZK_MSG_GOT */
        void *got_data;
};

/* What a completion needs to know about its request. The loop thread
 * owns it: it is freed when its result is handled, or by zk_close for the
 * requests the library never completes once it is closed. */
struct zk_req {
        struct zk_req *next;
        struct zk *zk;
        int which;
        unsigned gen;
        zk_got_fn got;          /* a one-shot zk_get */
        void *got_data;
};

static void zk_handle(struct mailbox_msg *m, void *ctx);

static void msg_destroy(struct mailbox_msg *m)
{
        struct zk_msg *msg = (struct zk_msg *)m;
        free(msg->data);
        free(msg);
}

static struct zk_msg *msg_new(struct zk *zk, enum zk_msg_kind kind)
{
        struct zk_msg *msg = calloc(1, sizeof *msg);
        if (!msg)
                return NULL;
        msg->base.handle = zk_handle;
        msg->base.destroy = msg_destroy;
        msg->zk = zk;
        msg->kind = kind;
        return msg;
}

/* --- library threads: copy and post, nothing else --- */

static void on_watch(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
        struct zk *zk = ctx;
        struct zk_msg *msg = msg_new(zk, type == ZOO_SESSION_EVENT ? ZK_MSG_SESSION : ZK_MSG_NODE);

        (void)zh;
        (void)path;
        if (!msg)
                return;
        msg->state = state;
        mailbox_post(zk->mb, &msg->base);
}

static void on_data(int rc, const char *value, int len, const struct Stat *stat, const void *data)
{
        struct zk_req *req = (struct zk_req *)(uintptr_t)data;
        struct zk_msg *msg = msg_new(req->zk, req->got ? ZK_MSG_GOT : ZK_MSG_DATA);

        if (msg) {
                msg->got = req->got;
                msg->got_data = req->got_data;
                msg->rc = rc;
                msg->which = req->which;
                msg->gen = req->gen;
                msg->version = stat ? stat->version : -1;
                if (rc == ZOK) {
                        msg->len = value && len > 0 ? len : 0;
                        msg->data = malloc((size_t)msg->len + 1);
                        if (!msg->data) {
                                msg->rc = ZSYSTEMERROR;
                        } else {
                                if (msg->len)
                                        memcpy(msg->data, value, (size_t)msg->len);
                                msg->data[msg->len] = '\0';
                        }
                }
                msg->req = req;
                mailbox_post(req->zk->mb, &msg->base);
        }
}

static void on_exists(int rc, const struct Stat *stat, const void *data)
{
        struct zk_req *req = (struct zk_req *)(uintptr_t)data;
        struct zk_msg *msg = msg_new(req->zk, ZK_MSG_EXISTS);

        (void)stat;
        if (msg) {
                msg->rc = rc;
                msg->gen = req->gen;
                msg->req = req;
                mailbox_post(req->zk->mb, &msg->base);
        }
}

/* --- loop thread --- */

static struct zk_req *req_new(struct zk *zk, int which)
{
        struct zk_req *req = malloc(sizeof *req);
        if (req) {
                req->zk = zk;
                req->which = which;
                req->gen = zk->gen;
                req->got = NULL;
                req->got_data = NULL;
                req->next = zk->reqs;
                zk->reqs = req;
        }
        return req;
}

static void req_free(struct zk *zk, struct zk_req *req)
{
        for (struct zk_req **p = &zk->reqs; *p; p = &(*p)->next) {
                if (*p == req) {
                        *p = req->next;
                        free(req);
                        return;
                }
        }
}

/* Reads both documents again, setting watches; older results are dropped. */
static void fetch(struct zk *zk)
{
        zk->gen++;
        zk->pending = 2;
        zk->failed = false;
        for (int i = 0; i < 2; i++) {
                struct zk_req *req = req_new(zk, i);
                if (!req || zoo_awget(zk->zh, zk->paths[i], on_watch, zk, on_data, req) != ZOK) {
                        /* Not connected: the next session event fetches again. */
                        if (req)
                                req_free(zk, req);
                        zk->pending = -1;
                        return;
                }
        }
}

static void doc_set(struct zk_doc *d, struct zk_msg *msg)
{
        free(d->text);
        d->exists = msg->rc == ZOK;
        d->text = d->exists ? msg->data : NULL;
        d->len = d->exists ? (size_t)msg->len : 0;
        d->version = d->exists ? msg->version : -1;
        msg->data = NULL;
}

static int connect_now(struct zk *zk)
{
        zk->zh = zookeeper_init(zk->connect, on_watch, zk->session_ms, NULL, zk, 0);
        return zk->zh ? 0 : -errno;
}

static void on_session(struct zk *zk, int state)
{
        if (state == ZOO_CONNECTED_STATE) {
                /* Sent before the reads on the same connection, so it applies to them. */
                if (zk->auth[0])
                        zoo_add_auth(zk->zh, "digest", zk->auth, (int)strlen(zk->auth), NULL, NULL);
                zk->ops->session(zk, "connected", zk->data);
                fetch(zk);
        } else if (state == ZOO_EXPIRED_SESSION_STATE) {
                /* The watches died with the session: a new one re-reads
                 * everything, so a change made during the gap is not lost. */
                zk->ops->session(zk, "expired", zk->data);
                zookeeper_close(zk->zh);
                zk->zh = NULL;
                if (connect_now(zk) < 0)
                        log_error("zk.reconnect_failed", LOG_STR("error", strerror(errno)));
        } else if (state == ZOO_AUTH_FAILED_STATE) {
                zk->ops->failed(zk, zk->paths[0], ZAUTHFAILED, zk->data);
        } else if (state == ZOO_CONNECTING_STATE) {
                zk->ops->session(zk, "disconnected", zk->data);
        }
}

static void on_result(struct zk *zk, struct zk_msg *msg)
{
        if (msg->gen != zk->gen || zk->pending <= 0)
                return;
        if (msg->rc == ZOK || msg->rc == ZNONODE) {
                doc_set(&zk->docs[msg->which], msg);
                if (msg->rc == ZNONODE) {
                        /* A missing node has no data watch: watch for its creation. */
                        struct zk_req *req = req_new(zk, msg->which);
                        if (req && zoo_awexists(zk->zh, zk->paths[msg->which], on_watch, zk, on_exists, req) != ZOK)
                                req_free(zk, req);
                }
        } else if (msg->rc == ZNOAUTH || msg->rc == ZAUTHFAILED || msg->rc == ZINVALIDACL) {
                zk->failed = true;
                zk->ops->failed(zk, zk->paths[msg->which], msg->rc, zk->data);
        } else {
                /* Connection loss and the like: the next session event fetches again. */
                zk->pending = -1;
                return;
        }
        if (--zk->pending == 0 && !zk->failed)
                zk->ops->docs(zk, &zk->docs[0], &zk->docs[1], zk->data);
}

static void zk_handle(struct mailbox_msg *m, void *ctx)
{
        struct zk_msg *msg = (struct zk_msg *)m;
        struct zk *zk = msg->zk;

        (void)ctx;
        /* After zk_close the request is gone already (and zh is NULL). */
        if (zk->zh && msg->req)
                req_free(zk, msg->req);
        if (zk->zh) {
                switch (msg->kind) {
                case ZK_MSG_SESSION:
                        on_session(zk, msg->state);
                        break;
                case ZK_MSG_NODE:
                        fetch(zk);
                        break;
                case ZK_MSG_DATA:
                        on_result(zk, msg);
                        break;
                case ZK_MSG_EXISTS:
                        /* Created between the read and the watch: read it now. */
                        if (msg->rc == ZOK)
                                fetch(zk);
                        break;
                case ZK_MSG_GOT:
                        msg->got(zk, msg->rc, msg->data, msg->data ? (size_t)msg->len : 0, msg->got_data);
                        break;
                }
        }
        msg_destroy(m);
}

int zk_open(struct zk *zk, struct mailbox *mb, const char *connect, const char *base_path, const char *role_path,
            const char *auth, int session_ms, const struct zk_ops *ops, void *data)
{
        memset(zk, 0, sizeof *zk);
        zk->mb = mb;
        zk->ops = ops;
        zk->data = data;
        zk->session_ms = session_ms;
        if (fmt(zk->connect, sizeof zk->connect, "%s", connect) < 0 ||
            fmt(zk->paths[0], sizeof zk->paths[0], "%s", base_path) < 0 ||
            fmt(zk->paths[1], sizeof zk->paths[1], "%s", role_path) < 0 ||
            fmt(zk->auth, sizeof zk->auth, "%s", auth ? auth : "") < 0)
                return -ENAMETOOLONG;
        for (int i = 0; i < 2; i++)
                zk->docs[i].version = -1;
        /* The library's own log would go to stderr unformatted, and may
         * name credentials: our events say what matters. */
        zoo_set_debug_level((ZooLogLevel)0);
        return connect_now(zk);
}

const char *zk_strerror(int rc)
{
        return zerror(rc);
}

int zk_get(struct zk *zk, const char *path, zk_got_fn got, void *data)
{
        struct zk_req *req;

        if (!zk->zh)
                return -ENOTCONN;
        if (!(req = req_new(zk, -1)))
                return -ENOMEM;
        req->got = got;
        req->got_data = data;
        if (zoo_aget(zk->zh, path, 0, on_data, req) != ZOK) {
                req_free(zk, req);
                return -ENOTCONN;
        }
        return 0;
}

void zk_close(struct zk *zk)
{
        if (zk->zh)
                zookeeper_close(zk->zh);
        zk->zh = NULL;
        /* No completion runs after zookeeper_close: what is left, it dropped. */
        while (zk->reqs) {
                struct zk_req *next = zk->reqs->next;
                free(zk->reqs);
                zk->reqs = next;
        }
        for (int i = 0; i < 2; i++) {
                free(zk->docs[i].text);
                zk->docs[i].text = NULL;
        }
        /* Scrub the credential from memory we give back. */
        secret_wipe(zk->auth, sizeof zk->auth);
}
