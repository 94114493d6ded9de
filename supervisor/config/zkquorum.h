/* zkquorum: FLINK_ZK_QUORUM, FLINK_ZK_CONFIG_PATH and FLINK_ZK_AUTH values.
 * Pure: validation and splitting only, but for zkquorum_load_auth, which
 * reads the file an "@/path" value names. */
#pragma once

#include <stddef.h>

struct zkquorum {
        char hosts[1024];   /* "host:port,host:port" */
        char chroot[512];   /* "" or "/a/b" */
};

/* "host:port[,host:port...][/chroot]": every host non-empty, every port
 * 1-65535, a chroot of non-empty segments with no trailing '/'. Returns 0
 * or -EINVAL with one line in err. */
int zkquorum_parse(const char *value, struct zkquorum *ret, char *err, size_t errlen);

/* A znode path: starts with '/', no empty segment, no trailing '/', at
 * most 400 bytes. Returns 0 or -EINVAL with one line in err naming var. */
int zkquorum_check_path(const char *var, const char *path, char *err, size_t errlen);

/* "digest:user:password" into "user:password" (the credential ZooKeeper's
 * digest scheme takes). Returns 0 or -EINVAL; err never holds the password. */
int zkquorum_parse_auth(const char *value, char *cred, size_t credlen, char *err, size_t errlen);

/* Where the documents live unless FLINK_ZK_CONFIG_PATH says otherwise. */
#define ZKQUORUM_DEFAULT_PATH "/flink/config"
/* Where the last good documents are kept unless FLINK_ZK_CACHE_DIR says otherwise. */
#define ZKQUORUM_DEFAULT_CACHE_DIR "/var/cache/flink-supervisor"

/* The session timeout for FLINK_ZK_TIMEOUT seconds: it bounds how long a
 * partition goes unnoticed, so never more than 10 s. */
static inline int zkquorum_session_ms(long timeout_s)
{
        return timeout_s > 10 ? 10000 : (int)(timeout_s * 1000);
}
/* FLINK_ZK_AUTH's value, or with "@/path" the first line of that file, as
 * zkquorum_parse_auth takes it. Returns 0, or -EINVAL with one line in err
 * naming the file when it cannot be read; what was read is wiped. */
int zkquorum_load_auth(const char *value, char *cred, size_t credlen, char *err, size_t errlen);
