/* zkpush: see zkpush.h. */
#include "app/zkpush.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

#include "base/exitcode.h"
#include "base/fmt.h"
#include "base/secret.h"
#include "config/conf.h"
#include "config/confyaml.h"
#include "config/zkquorum.h"

struct connected {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        int state;
};

static void on_watch(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
        struct connected *c = ctx;

        (void)zh;
        (void)path;
        if (type != ZOO_SESSION_EVENT)
                return;
        pthread_mutex_lock(&c->lock);
        c->state = state;
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
}

static int wait_connected(struct connected *c, long timeout_s)
{
        struct timespec until;
        int ok;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += timeout_s;
        pthread_mutex_lock(&c->lock);
        while (c->state != ZOO_CONNECTED_STATE && c->state != ZOO_AUTH_FAILED_STATE &&
               pthread_cond_timedwait(&c->cond, &c->lock, &until) == 0)
                ;
        ok = c->state == ZOO_CONNECTED_STATE;
        pthread_mutex_unlock(&c->lock);
        return ok;
}

static int read_doc(const char *file, char **ret, size_t *ret_len)
{
        FILE *f = fopen(file, "re");
        char *buf;
        size_t n;

        if (!f)
                return -errno;
        buf = malloc(CONFYAML_MAX_BYTES + 2);
        if (!buf) {
                fclose(f);
                return -ENOMEM;
        }
        n = fread(buf, 1, CONFYAML_MAX_BYTES + 1, f);
        fclose(f);
        buf[n] = '\0';
        *ret = buf;
        *ret_len = n;
        return 0;
}

/* Creates every missing znode on the way to path (path itself too, empty). */
static int create_parents(zhandle_t *zh, const char *path, struct ACL_vector *acl)
{
        char prefix[1024];

        for (const char *p = strchr(path + 1, '/');; p = strchr(p + 1, '/')) {
                size_t n = p ? (size_t)(p - path) : strlen(path);
                if (fmt(prefix, sizeof prefix, "%.*s", (int)n, path) < 0)
                        return ZBADARGUMENTS;
                int rc = zoo_create(zh, prefix, NULL, -1, acl, 0, NULL, 0);
                if (rc != ZOK && rc != ZNODEEXISTS)
                        return rc;
                if (!p)
                        return ZOK;
        }
}

int zkpush_run(const struct settings *set, const char *file)
{
        const char *path = set->zk_path ? set->zk_path : ZKQUORUM_DEFAULT_PATH;
        struct connected conn = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
        char err[768], cred[512] = "", full[1024];
        struct zkquorum q;
        struct conf check;
        zhandle_t *zh = NULL;
        char *doc = NULL;
        size_t len = 0;
        int r, code = 2;

        if (!set->zk_quorum) {
                fprintf(stderr, "flink-supervisor: --zk-push needs FLINK_ZK_QUORUM: expected host:port[,host:port...][/chroot]\n");
                return 2;
        }
        if (zkquorum_parse(set->zk_quorum, &q, err, sizeof err) < 0 ||
            zkquorum_check_path("FLINK_ZK_CONFIG_PATH", path, err, sizeof err) < 0 ||
            (set->zk_auth && zkquorum_load_auth(set->zk_auth, cred, sizeof cred, err, sizeof err) < 0)) {
                fprintf(stderr, "flink-supervisor: %s\n", err);
                return 2;
        }
        if ((r = read_doc(file, &doc, &len)) < 0) {
                fprintf(stderr, "flink-supervisor: cannot read %.200s: %s\n", file, strerror(-r));
                return 2;
        }
        conf_init(&check);
        r = confyaml_parse_standard(&check, doc, len, CONF_SRC_ZOOKEEPER, NULL, NULL, err, sizeof err);
        conf_free(&check);
        if (r < 0) {
                fprintf(stderr, "flink-supervisor: %.200s: %s\n", file, r == -ENOMEM ? "out of memory" : err);
                goto out;
        }
        zoo_set_debug_level((ZooLogLevel)0);
        /* Without the chroot: the chroot itself may have to be created. */
        zh = zookeeper_init(q.hosts, on_watch, zkquorum_session_ms(set->zk_timeout_s), NULL, &conn, 0);
        if (!zh || !wait_connected(&conn, set->zk_timeout_s)) {
                fprintf(stderr, "flink-supervisor: ZooKeeper %s did not answer within %lds (FLINK_ZK_TIMEOUT)\n", q.hosts,
                        set->zk_timeout_s);
                code = EXIT_NO_CONFIG;
                goto out;
        }
        if (cred[0])
                zoo_add_auth(zh, "digest", cred, (int)strlen(cred), NULL, NULL);
        if (fmt(full, sizeof full, "%s%s", q.chroot, path) < 0) {
                fprintf(stderr, "flink-supervisor: the chroot and FLINK_ZK_CONFIG_PATH are too long together: expected under %zu bytes\n",
                        sizeof full);
                goto out;
        }
        struct ACL_vector *acl = cred[0] ? &ZOO_CREATOR_ALL_ACL : &ZOO_OPEN_ACL_UNSAFE;
        r = create_parents(zh, full, acl);
        if (r == ZOK)
                r = zoo_set(zh, full, doc, (int)len, -1);
        if (r != ZOK) {
                fprintf(stderr, "flink-supervisor: cannot write znode %s: %s\n", full, zerror(r));
                goto out;
        }
        printf("flink-supervisor: wrote %zu bytes to %s%s\n", len, q.hosts, full);
        code = 0;
out:
        if (zh)
                zookeeper_close(zh);
        secret_wipe(cred, sizeof cred);
        free(doc);
        return code;
}
