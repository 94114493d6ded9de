/* flinkhome: see flinkhome.h. */
#include "flink/flinkhome.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fmt.h"
#include "config/confyaml.h"

static int find_version(struct flinkhome *fh, char *err, size_t errlen)
{
        char lib[1100];
        struct dirent *e;
        DIR *d;

        snprintf(lib, sizeof lib, "%s/lib", fh->home);
        d = opendir(lib);
        if (!d) {
                int r = -errno;
                snprintf(err, errlen, "FLINK_HOME=%s has no lib/ directory (%s): expected a Flink distribution (make flink-dist)",
                         fh->home, strerror(-r));
                return r;
        }
        while ((e = readdir(d)))
                if (sscanf(e->d_name, "flink-dist-%d.%d", &fh->major, &fh->minor) == 2 ||
                    sscanf(e->d_name, "flink-dist_2.12-%d.%d", &fh->major, &fh->minor) == 2)
                        break;
        closedir(d);
        if (!e) {
                snprintf(err, errlen, "FLINK_HOME=%s: no lib/flink-dist-*.jar: expected a Flink distribution", fh->home);
                return -ENOENT;
        }
        return 0;
}

static int read_file(const char *path, char **ret, size_t *ret_len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        char *buf = NULL;
        size_t len = 0;
        int r = 0;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                goto out;
        }
        if (st.st_size > CONFYAML_MAX_BYTES) {
                r = -EFBIG;
                goto out;
        }
        buf = malloc((size_t)st.st_size + 1);
        if (!buf) {
                r = -ENOMEM;
                goto out;
        }
        while (len <= (size_t)CONFYAML_MAX_BYTES) {
                ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        goto out;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len == (size_t)st.st_size)
                        break;
        }
        buf[len] = '\0';
        *ret = buf;
        *ret_len = len;
        buf = NULL;
out:
        free(buf);
        close(fd);
        return r;
}

int flinkhome_open(struct flinkhome *fh, const char *home, char *err, size_t errlen)
{
        static const char *const names[] = { "config.yaml", "flink-conf.yaml" };
        int r;

        memset(fh, 0, sizeof *fh);
        fh->conf_dir_fd = -1;
        fh->conf_gid = (gid_t)-1;
        /* Absolute: the supervisor leaves its start directory once the
         * children run, and renders the configuration again later. */
        r = fmt_absolute(fh->home, sizeof fh->home, home);
        if (r == -ENAMETOOLONG) {
                /* Cut, it would name another directory, maybe another distribution. */
                snprintf(err, errlen, "invalid FLINK_HOME=\"%.64s...\": expected a path of at most %zu bytes", home,
                         sizeof fh->home - 1);
                return r;
        }
        if (r < 0) {
                snprintf(err, errlen, "FLINK_HOME=%.200s is relative and the current directory is unknown (%s): expected an absolute path",
                         home, strerror(-r));
                return r;
        }
        if ((r = find_version(fh, err, errlen)) < 0)
                return r;
        for (int i = 0; i < 2; i++) {
                /* Flink < 1.19 has no config.yaml; its flink-conf.yaml is legacy. */
                if (i == 0 && !flinkhome_uses_config_yaml(fh))
                        continue;
                snprintf(fh->conf_path, sizeof fh->conf_path, "%s/conf/%s", fh->home, names[i]);
                r = read_file(fh->conf_path, &fh->conf_text, &fh->conf_len);
                if (r == 0) {
                        fh->conf_legacy = i == 1;
                        return 0;
                }
                if (r == -EFBIG) {
                        snprintf(err, errlen, "%s is larger than 1 MiB: expected a Flink configuration file", fh->conf_path);
                        return r;
                }
                if (r != -ENOENT) {
                        snprintf(err, errlen, "%s: %s", fh->conf_path, strerror(-r));
                        return r;
                }
        }
        fh->conf_path[0] = '\0';
        return 0;
}

void flinkhome_close(struct flinkhome *fh)
{
        free(fh->conf_text);
        fh->conf_text = NULL;
        if (fh->conf_dir_fd >= 0)
                close(fh->conf_dir_fd);
        fh->conf_dir_fd = -1;
}

bool flinkhome_uses_config_yaml(const struct flinkhome *fh)
{
        return fh->major > 1 || (fh->major == 1 && fh->minor >= 19);
}

static int link_conf_files(const struct flinkhome *fh)
{
        char src_dir[1100], src[2200];
        struct dirent *e;
        DIR *d;

        snprintf(src_dir, sizeof src_dir, "%s/conf", fh->home);
        d = opendir(src_dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.' || strcmp(e->d_name, "config.yaml") == 0 ||
                    strcmp(e->d_name, "flink-conf.yaml") == 0)
                        continue;
                snprintf(src, sizeof src, "%s/%s", src_dir, e->d_name);
                unlinkat(fh->conf_dir_fd, e->d_name, 0);
                if (symlinkat(src, fh->conf_dir_fd, e->d_name) < 0) {
                        int r = -errno;
                        closedir(d);
                        return r;
                }
        }
        closedir(d);
        return 0;
}

/* fd, the directory dir, must be ours and writable by us only: the JVM's
 * user could otherwise plant links there for us to write through. */
static int check_dir(int fd, const char *dir, char *err, size_t errlen)
{
        struct stat st;
        char wrong[64];

        if (fstat(fd, &st) < 0) {
                int r = -errno;
                snprintf(err, errlen, "cannot inspect the config directory %s: %s", dir, strerror(-r));
                return r;
        }
        if (st.st_uid != geteuid())
                snprintf(wrong, sizeof wrong, "owned by uid %d", (int)st.st_uid);
        else if (st.st_mode & (S_IWGRP | S_IWOTH))
                snprintf(wrong, sizeof wrong, "writable by group or others (mode %04o)", (unsigned)(st.st_mode & 07777));
        else
                return 0;
        snprintf(err, errlen, "SUPERVISOR_CONF_DIR=%.400s is %s: expected a directory owned by uid %d and writable by it only",
                 dir, wrong, (int)geteuid());
        return -EPERM;
}

int flinkhome_check_conf_dir(const char *dir, char *err, size_t errlen)
{
        int fd, r;

        if (!dir)
                return 0;
        if (strlen(dir) >= sizeof ((struct flinkhome *)0)->conf_dir) {
                snprintf(err, errlen, "invalid SUPERVISOR_CONF_DIR=\"%.64s...\": expected a path of at most %zu bytes", dir,
                         sizeof ((struct flinkhome *)0)->conf_dir - 1);
                return -ENAMETOOLONG;
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0) {
                r = -errno;
                snprintf(err, errlen, "SUPERVISOR_CONF_DIR=%.400s: %s: expected a directory owned by uid %d and writable by it only",
                         dir, strerror(-r), (int)geteuid());
                return r;
        }
        r = check_dir(fd, dir, err, errlen);
        close(fd);
        return r;
}

int flinkhome_open_conf_dir(struct flinkhome *fh, const char *dir, gid_t gid, char *err, size_t errlen)
{
        bool made = false;
        int fd = -1, r;

        if ((r = flinkhome_check_conf_dir(dir, err, errlen)) < 0)
                return r;
        /* The default's name is not predictable: nobody can have made it first. */
        snprintf(fh->conf_dir, sizeof fh->conf_dir, "%s", dir ? dir : "/tmp/flink-conf.XXXXXX");
        if (!dir)
                made = mkdtemp(fh->conf_dir) != NULL;
        else
                made = mkdir(dir, 0750) == 0;
        if (!made && (!dir || errno != EEXIST)) {
                r = -errno;
                snprintf(err, errlen, "cannot create the config directory %s: %s", fh->conf_dir, strerror(-r));
                goto out;
        }
        fd = open(fh->conf_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                snprintf(err, errlen, "cannot open the config directory %s: %s", fh->conf_dir, strerror(-r));
                goto out;
        }
        /* Checked again on what was opened: the path may have changed since. */
        if ((r = check_dir(fd, fh->conf_dir, err, errlen)) < 0)
                goto out;
        if (fchmod(fd, 0750) < 0 || (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) < 0)) {
                r = -errno;
                snprintf(err, errlen, "cannot give the config directory %s to gid %d: %s", fh->conf_dir, (int)gid,
                         strerror(-r));
                goto out;
        }
        fh->conf_dir_fd = fd;
        fh->conf_gid = gid;
        fd = -1;
out:
        if (fd >= 0)
                close(fd);
        if (r < 0 && made)
                rmdir(fh->conf_dir);
        if (r < 0)
                fh->conf_dir[0] = '\0';
        return r;
}

/* All of buf, or -errno; -EIO when write makes no progress. */
static int write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

int flinkhome_write_conf_dir(const struct flinkhome *fh, const struct conf *c, char *err, size_t errlen)
{
        const char *name = flinkhome_uses_config_yaml(fh) ? "config.yaml" : "flink-conf.yaml";
        int dfd = fh->conf_dir_fd, fd = -1, r;
        char tmp[64];
        char *text = NULL;
        size_t len;

        r = link_conf_files(fh);
        if (r < 0) {
                snprintf(err, errlen, "cannot link %s/conf into %s: %s", fh->home, fh->conf_dir, strerror(-r));
                return r;
        }
        r = confyaml_render(c, flinkhome_uses_config_yaml(fh) ? 0 : CONFYAML_LEGACY, &text, &len);
        if (r < 0) {
                snprintf(err, errlen, "cannot render the configuration: %s", strerror(-r));
                return r;
        }
        snprintf(tmp, sizeof tmp, ".%s.new", name);
        /* Nobody else writes here: a leftover is ours, from a write that failed. */
        if (unlinkat(dfd, tmp, 0) < 0 && errno != ENOENT) {
                r = -errno;
                snprintf(err, errlen, "cannot remove %s/%s: %s", fh->conf_dir, tmp, strerror(-r));
                goto out;
        }
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
        r = fd < 0 ? -errno : write_all(fd, text, len);
        /* The JVM reads it through its group; a umask must not take that away. */
        if (r == 0 && (fchmod(fd, 0640) < 0 || (fh->conf_gid != (gid_t)-1 && fchown(fd, (uid_t)-1, fh->conf_gid) < 0) ||
                       fsync(fd) < 0))
                r = -errno;
        if (r < 0) {
                snprintf(err, errlen, "cannot write %s/%s: %s", fh->conf_dir, tmp, strerror(-r));
                goto out;
        }
        if (renameat(dfd, tmp, dfd, name) < 0) {
                r = -errno;
                snprintf(err, errlen, "cannot rename %s/%s to %s: %s", fh->conf_dir, tmp, name, strerror(-r));
        }
out:
        if (fd >= 0)
                close(fd);
        if (r < 0 && fd >= 0)
                unlinkat(dfd, tmp, 0);
        free(text);
        return r;
}

void flinkhome_remove_conf_dir(const char *dir)
{
        char path[1200];
        struct dirent *e;
        DIR *d = opendir(dir);

        if (!d)
                return;
        while ((e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
        }
        closedir(d);
        rmdir(dir);
}

int flinkhome_prepare_log_dir(const struct flinkhome *fh, const char *log_dir, uid_t uid, gid_t gid,
                              char *err, size_t errlen)
{
        char path[1100];
        int fd = -1, r = 0;

        if (log_dir ? fmt(path, sizeof path, "%s", log_dir) : fmt(path, sizeof path, "%s/log", fh->home)) {
                snprintf(err, errlen, "invalid FLINK_LOG_DIR=\"%.64s...\": expected a path of at most %zu bytes",
                         log_dir ? log_dir : fh->home, sizeof path - 1);
                return -ENAMETOOLONG;
        }
        /* Through a descriptor, not chown(): that follows a symbolic link
         * there to whatever it names, and gives that away. */
        if ((mkdir(path, 0755) < 0 && errno != EEXIST) ||
            (fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 || fchown(fd, uid, gid) < 0) {
                r = -errno;
                snprintf(err, errlen, "cannot prepare the log directory %s for uid %d: %s", path, (int)uid,
                         r == -ENOTDIR || r == -ELOOP ? "not a directory (a symbolic link is not followed)" : strerror(-r));
        }
        if (fd >= 0)
                close(fd);
        return r;
}

int flinkhome_script(const struct flinkhome *fh, const char *script, char *buf, size_t size)
{
        if ((size_t)snprintf(buf, size, "%s/bin/%s", fh->home, script) >= size)
                return -ENAMETOOLONG;
        return 0;
}
