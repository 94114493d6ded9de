/* zkquorum: see zkquorum.h. */
#include "config/zkquorum.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/fmt.h"
#include "base/secret.h"
#include "config/settings.h"

int zkquorum_check_path(const char *var, const char *path, char *err, size_t errlen)
{
        size_t len = strlen(path);

        if (path[0] != '/' || len > 400 || (len > 1 && path[len - 1] == '/') || strstr(path, "//")) {
                snprintf(err, errlen, "invalid %s=\"%.64s\": expected a znode path such as /flink/config", var, path);
                return -EINVAL;
        }
        return 0;
}

int zkquorum_parse(const char *value, struct zkquorum *ret, char *err, size_t errlen)
{
        const char *slash = strchr(value, '/');
        size_t hlen = slash ? (size_t)(slash - value) : strlen(value);
        char hosts[1024];

        if (hlen == 0 || hlen >= sizeof hosts)
                goto bad;
        memcpy(hosts, value, hlen);
        hosts[hlen] = '\0';
        for (char *save = NULL, *h = strtok_r(hosts, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
                char *colon = strrchr(h, ':');
                long port;
                if (!colon || colon == h || settings_parse_long(colon + 1, 1, 65535, &port) < 0)
                        goto bad;
        }
        /* strtok skips empty fields: ",," or a leading/trailing ',' are bad. */
        if (value[0] == ',' || value[hlen - 1] == ',' || memmem(value, hlen, ",,", 2))
                goto bad;
        if (slash && (zkquorum_check_path("FLINK_ZK_QUORUM", slash, err, errlen) < 0 || strcmp(slash, "/") == 0))
                goto bad;
        memcpy(ret->hosts, value, hlen);
        ret->hosts[hlen] = '\0';
        if (fmt(ret->chroot, sizeof ret->chroot, "%s", slash ? slash : "") < 0)
                goto bad;
        return 0;
bad:
        snprintf(err, errlen, "invalid FLINK_ZK_QUORUM=\"%.64s\": expected host:port[,host:port...][/chroot]", value);
        return -EINVAL;
}

int zkquorum_parse_auth(const char *value, char *cred, size_t credlen, char *err, size_t errlen)
{
        const char *rest = strncmp(value, "digest:", 7) == 0 ? value + 7 : NULL;
        const char *colon = rest ? strchr(rest, ':') : NULL;

        if (!rest || !colon || colon == rest || !colon[1] || strlen(rest) >= credlen) {
                snprintf(err, errlen, "invalid FLINK_ZK_AUTH: expected digest:user:password or @/path/to/file holding that");
                return -EINVAL;
        }
        memcpy(cred, rest, strlen(rest) + 1);
        return 0;
}

int zkquorum_load_auth(const char *value, char *cred, size_t credlen, char *err, size_t errlen)
{
        char buf[512];
        int r;

        if (value[0] != '@')
                return zkquorum_parse_auth(value, cred, credlen, err, errlen);
        r = secret_read_file(value + 1, buf, sizeof buf);
        if (r < 0) {
                snprintf(err, errlen, "FLINK_ZK_AUTH file %.200s: %s: expected a readable file holding digest:user:password",
                         value + 1, secret_strerror(r));
                return -EINVAL;
        }
        r = zkquorum_parse_auth(buf, cred, credlen, err, errlen);
        secret_wipe(buf, sizeof buf);
        return r;
}
