/* probetarget: see probetarget.h. */
#include "flink/probetarget.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "config/flinkconf.h"

static const char *get_or(const struct conf *c, const char *key, const char *def)
{
        const char *v = conf_get(c, key);
        return v && *v ? v : def;
}

/* The first port of a value that may be a range ("8081-8090"). */
static long first_port(const char *value)
{
        char *end;
        long port = strtol(value, &end, 10);
        return port > 0 && port <= 65535 && (*end == '\0' || *end == '-' || *end == ',') ? port : -1;
}

static int bad_port(const struct conf *c, const char *key, char *err, size_t errlen)
{
        snprintf(err, errlen, "invalid %s=\"%.64s\" in the Flink configuration: expected a port 1-65535 or a range of them",
                 key, get_or(c, key, ""));
        return -EINVAL;
}

static int too_long(const char *what, const char *value, char *err, size_t errlen)
{
        snprintf(err, errlen, "%s \"%.64s...\" is too long for a probe URL: expected a shorter one", what, value);
        return -ENAMETOOLONG;
}

static int base_url(const char *url_setting, const char *host, long port, char *out, size_t size, char *err, size_t errlen)
{
        if (!url_setting) {
                if (fmt(out, size, "http://%s:%ld", host, port) < 0)
                        return too_long("the REST host", host, err, errlen);
                return 0;
        }
        size_t len = strlen(url_setting);
        if ((strncmp(url_setting, "http://", 7) != 0 && strncmp(url_setting, "https://", 8) != 0) || len >= size - 64 ||
            strpbrk(url_setting, " \t\r\n")) {
                snprintf(err, errlen, "invalid SUPERVISOR_PROBE_URL=\"%.64s\": expected http(s)://host:port of Flink's REST", url_setting);
                return -EINVAL;
        }
        while (len > 0 && url_setting[len - 1] == '/')
                len--;
        return fmt(out, size, "%.*s", (int)len, url_setting) < 0 ? too_long("SUPERVISOR_PROBE_URL", url_setting, err, errlen) : 0;
}

/* Where Flink's ZooKeeper HA publishes the leading REST endpoint, as seen
 * through our session (which may be chrooted). */
static void leadership(const struct conf *c, const char *zk_hosts, const char *zk_chroot, long port, struct probe_targets *t)
{
        const char *root = get_or(c, "high-availability.zookeeper.path.root", "/flink");
        const char *cluster = get_or(c, "high-availability.cluster-id", "/default");
        const char *quorum = conf_get(c, "high-availability.zookeeper.quorum");
        size_t chroot_len = zk_chroot ? strlen(zk_chroot) : 0;

        if (!flinkconf_ha_zookeeper(c))
                return;
        if (!zk_hosts || !quorum || strcmp(quorum, zk_hosts) != 0 ||
            (chroot_len && (strncmp(root, zk_chroot, chroot_len) != 0 || (root[chroot_len] && root[chroot_len] != '/')))) {
                t->leadership_unknown = true;
                return;
        }
        root += chroot_len;
        size_t root_len = strlen(root);
        while (root_len && root[root_len - 1] == '/')
                root_len--;
        while (*cluster == '/')
                cluster++;
        if (fmt(t->leader_path, sizeof t->leader_path, "%s%.*s%s%s/leader/rest_server/connection_info",
                root_len && root[0] != '/' ? "/" : "", (int)root_len, root, *cluster ? "/" : "", cluster) < 0 ||
            fmt(t->rest_address, sizeof t->rest_address, "//%s:%ld",
                get_or(c, "rest.address", get_or(c, "jobmanager.rpc.address", "localhost")), port) < 0) {
                /* A leader we could not name is one we cannot recognise. */
                t->leader_path[0] = t->rest_address[0] = '\0';
                t->leadership_unknown = true;
        }
}

int probe_targets(const struct conf *c, enum role role, const char *url_setting, const char *zk_hosts,
                  const char *zk_chroot, struct probe_targets *ret, char *err, size_t errlen)
{
        char base[512];
        long port;
        int r;

        *ret = (struct probe_targets){ .kind = role == ROLE_TASKMANAGER ? PROBE_TASKMANAGER : PROBE_REST };
        if (role == ROLE_TASKMANAGER) {
                port = first_port(get_or(c, "rest.port", "8081"));
                if (port < 0 && !url_setting)
                        return bad_port(c, "rest.port", err, errlen);
                if (fmt(ret->resource_id, sizeof ret->resource_id, "%s", get_or(c, "taskmanager.resource-id", "")) < 0)
                        return too_long("taskmanager.resource-id", get_or(c, "taskmanager.resource-id", ""), err, errlen);
                r = base_url(url_setting, get_or(c, "jobmanager.rpc.address", "localhost"), port, base, sizeof base, err, errlen);
                if (r == 0 && fmt(ret->url, sizeof ret->url, "%s/taskmanagers", base) < 0)
                        r = too_long("the REST URL", base, err, errlen);
                if (r == 0 && !url_setting) {
                        leadership(c, zk_hosts, zk_chroot, port, ret);
                        ret->follow_leader = ret->leader_path[0] != '\0';
                }
                return r;
        }
        if (role == ROLE_HISTORY_SERVER)
                port = first_port(get_or(c, "historyserver.web.port", "8082"));
        else
                port = first_port(get_or(c, "rest.bind-port", get_or(c, "rest.port", "8081")));
        if (port < 0)
                return bad_port(c, role == ROLE_HISTORY_SERVER ? "historyserver.web.port" :
                                   conf_get(c, "rest.bind-port") ? "rest.bind-port" : "rest.port", err, errlen);
        /* The port Flink advertises in ZooKeeper, which leadership compares. */
        if (role != ROLE_HISTORY_SERVER && first_port(get_or(c, "rest.port", "8081")) < 0)
                return bad_port(c, "rest.port", err, errlen);
        if ((r = base_url(url_setting, "127.0.0.1", port, base, sizeof base, err, errlen)) < 0)
                return r;
        if (fmt(ret->url, sizeof ret->url, "%s/config", base) < 0 || fmt(ret->rest_base, sizeof ret->rest_base, "%s", base) < 0)
                return too_long("the REST URL", base, err, errlen);
        if (role != ROLE_HISTORY_SERVER)
                leadership(c, zk_hosts, zk_chroot, first_port(get_or(c, "rest.port", "8081")), ret);
        return 0;
}


/* What a URL's authority and path may hold: no NUL, space or control byte,
 * none of the bytes Java's serialisation puts around the string. */
static bool url_byte(unsigned char c)
{
        return c > ' ' && c < 0x7f && c != '"' && c != '<' && c != '>' && c != '\\' && c != '^' && c != '`' &&
               c != '{' && c != '|' && c != '}';
}

int probe_leader_url(const char *data, size_t len, char *out, size_t size)
{
        static const char *const schemes[] = { "http://", "https://" };

        for (size_t i = 0; i < 2; i++) {
                const char *at = memmem(data, len, schemes[i], strlen(schemes[i]));
                size_t n = 0;

                if (!at)
                        continue;
                /* writeUTF puts the length in the two bytes before the
                 * string; what follows it (the session id, serialised) may
                 * start with bytes a URL could hold. */
                if (at - data >= 2)
                        n = (size_t)(unsigned char)at[-2] << 8 | (unsigned char)at[-1];
                if (n <= strlen(schemes[i]) || n > (size_t)(data + len - at))
                        continue;
                for (size_t k = 0; k < n; k++)
                        if (!url_byte((unsigned char)at[k]))
                                return -ENOENT;
                return fmt(out, size, "%.*s", (int)n, at);
        }
        return -ENOENT;
}
