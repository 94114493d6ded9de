/* flinkhome: the Flink distribution on disk: which release it is, where
 * its conf file is, and the config directory the supervisor renders for it
 * (FLINK_CONF_DIR). I/O at the edge of the pure pipeline. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/conf.h"

struct flinkhome {
        char home[1024];
        int major, minor;         /* from lib/flink-dist-X.Y.Z.jar */
        char conf_path[1100];     /* the conf file read, "" when none */
        bool conf_legacy;
        char *conf_text;          /* owned; NULL when none */
        size_t conf_len;
};

/* Inspects FLINK_HOME. Returns 0, or -errno with one line in err. */
int flinkhome_open(struct flinkhome *fh, const char *home, char *err, size_t errlen);
void flinkhome_close(struct flinkhome *fh);

/* Flink >= 1.19 reads config.yaml; older releases flink-conf.yaml. */
bool flinkhome_uses_config_yaml(const struct flinkhome *fh);

/* Writes the rendered configuration into dir (created 0750 when missing)
 * with a temp file and a rename, and links every other file of the
 * distribution's conf/ (log4j configs, ...) next to it. When uid is not
 * -1 the directory and file are given to uid:gid. Returns 0 or -errno. */
int flinkhome_write_conf_dir(const struct flinkhome *fh, const char *dir, const struct conf *c,
                             uid_t uid, gid_t gid, char *err, size_t errlen);

/* Removes what flinkhome_write_conf_dir put into dir, and dir itself. */
void flinkhome_remove_conf_dir(const char *dir);

/* Creates the log directory (FLINK_LOG_DIR, else FLINK_HOME/log) and gives
 * it to uid:gid, so an unprivileged JVM can write there. 0 or -errno. */
int flinkhome_prepare_log_dir(const struct flinkhome *fh, const char *log_dir, uid_t uid, gid_t gid,
                              char *err, size_t errlen);

/* The path of bin/<script> in the distribution. */
int flinkhome_script(const struct flinkhome *fh, const char *script, char *buf, size_t size);
