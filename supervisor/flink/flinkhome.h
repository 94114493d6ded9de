/* flinkhome: the Flink distribution on disk: which release it is, where
 * its conf file is, and the config directory the supervisor renders for it
 * (FLINK_CONF_DIR). I/O at the edge of the pure pipeline.
 *
 * The config directory is the supervisor's (root's when it runs as root)
 * and writable by it only; the JVM's user reads it through its group. So
 * nothing in it can have been planted by the JVM, and every write goes
 * through the descriptor opened and checked once, never a path again. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/conf.h"

struct flinkhome {
        char home[1024];          /* FLINK_HOME: a longer one is refused */
        int major, minor;         /* from lib/flink-dist-X.Y.Z.jar */
        char conf_path[1100];     /* the conf file read, "" when none */
        bool conf_legacy;
        char *conf_text;          /* owned; NULL when none */
        size_t conf_len;
        char conf_dir[512];       /* the rendered config directory, "" until opened */
        int conf_dir_fd;          /* owned; -1 until opened */
        gid_t conf_gid;           /* the JVM's group, (gid_t)-1: ours */
};

/* Inspects FLINK_HOME. Returns 0, or -errno with one line in err. */
int flinkhome_open(struct flinkhome *fh, const char *home, char *err, size_t errlen);
void flinkhome_close(struct flinkhome *fh);

/* Flink >= 1.19 reads config.yaml; older releases flink-conf.yaml. */
bool flinkhome_uses_config_yaml(const struct flinkhome *fh);

/* Whether SUPERVISOR_CONF_DIR=dir (NULL: the default) can be used: missing,
 * or a directory owned by our uid and not writable by group or others.
 * Returns 0, or -errno (-EPERM: the wrong owner or mode) with one line in
 * err. Changes nothing: for the checks before anything starts. */
int flinkhome_check_conf_dir(const char *dir, char *err, size_t errlen);

/* Opens the config directory: dir, created when missing, or (dir NULL) a
 * new /tmp/flink-conf.XXXXXX; checked as flinkhome_check_conf_dir does, it
 * is made mode 0750 and given to group gid ((gid_t)-1: kept). Sets
 * conf_dir, conf_dir_fd and conf_gid. Returns 0, or -errno with one line
 * in err (and a directory it created removed again). */
int flinkhome_open_conf_dir(struct flinkhome *fh, const char *dir, gid_t gid, char *err, size_t errlen);

/* Writes the rendered configuration into the open config directory with
 * a new temp file (0640, group conf_gid) and a rename, and links every
 * other file of the distribution's conf/ (log4j configs, ...) next to it.
 * Returns 0 or -errno (-EIO: a write made no progress) with one line in err. */
int flinkhome_write_conf_dir(const struct flinkhome *fh, const struct conf *c, char *err, size_t errlen);

/* Removes what flinkhome_write_conf_dir put into dir, and dir itself. */
void flinkhome_remove_conf_dir(const char *dir);

/* Creates the log directory (FLINK_LOG_DIR, else FLINK_HOME/log) and gives
 * it to uid:gid, so an unprivileged JVM can write there; a symbolic link
 * there is refused, not followed. 0 or -errno. */
int flinkhome_prepare_log_dir(const struct flinkhome *fh, const char *log_dir, uid_t uid, gid_t gid,
                              char *err, size_t errlen);

/* The path of bin/<script> in the distribution. */
int flinkhome_script(const struct flinkhome *fh, const char *script, char *buf, size_t size);
