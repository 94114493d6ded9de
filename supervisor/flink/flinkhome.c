/* flinkhome: see flinkhome.h. */
#include "flink/flinkhome.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
        snprintf(fh->home, sizeof fh->home, "%s", home);
        if ((r = find_version(fh, err, errlen)) < 0)
                return r;
        for (int i = 0; i < 2; i++) {
                /* Flink < 1.19 has no config.yaml; its flink-conf.yaml is legacy. */
                if (i == 0 && !flinkhome_uses_config_yaml(fh))
                        continue;
                snprintf(fh->conf_path, sizeof fh->conf_path, "%s/conf/%s", home, names[i]);
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
}

bool flinkhome_uses_config_yaml(const struct flinkhome *fh)
{
        return fh->major > 1 || (fh->major == 1 && fh->minor >= 19);
}

static int link_conf_files(const struct flinkhome *fh, const char *dir)
{
        char src_dir[1100], src[2200], dst[2200];
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
                snprintf(dst, sizeof dst, "%s/%s", dir, e->d_name);
                unlink(dst);
                if (symlink(src, dst) < 0) {
                        int r = -errno;
                        closedir(d);
                        return r;
                }
        }
        closedir(d);
        return 0;
}

int flinkhome_write_conf_dir(const struct flinkhome *fh, const char *dir, const struct conf *c,
                             uid_t uid, gid_t gid, char *err, size_t errlen)
{
        const char *name = flinkhome_uses_config_yaml(fh) ? "config.yaml" : "flink-conf.yaml";
        char tmp[1200], path[1200];
        char *text = NULL;
        size_t len;
        int fd = -1, r;

        if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
                r = -errno;
                snprintf(err, errlen, "cannot create the config directory %s: %s", dir, strerror(-r));
                return r;
        }
        if (uid != (uid_t)-1 && chown(dir, uid, gid) < 0) {
                r = -errno;
                snprintf(err, errlen, "cannot give %s to uid %d: %s", dir, (int)uid, strerror(-r));
                return r;
        }
        r = link_conf_files(fh, dir);
        if (r < 0) {
                snprintf(err, errlen, "cannot link %s/conf into %s: %s", fh->home, dir, strerror(-r));
                return r;
        }
        r = confyaml_render(c, flinkhome_uses_config_yaml(fh) ? 0 : CONFYAML_LEGACY, &text, &len);
        if (r < 0) {
                snprintf(err, errlen, "cannot render the configuration: %s", strerror(-r));
                return r;
        }
        snprintf(path, sizeof path, "%s/%s", dir, name);
        snprintf(tmp, sizeof tmp, "%s/.%s.new", dir, name);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0 ||
            (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0)) {
                r = -errno;
                snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(-r));
                goto out;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(-r));
        }
out:
        if (fd >= 0)
                close(fd);
        if (r < 0)
                unlink(tmp);
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

        snprintf(path, sizeof path, "%s", log_dir ? log_dir : "");
        if (!log_dir)
                snprintf(path, sizeof path, "%s/log", fh->home);
        if ((mkdir(path, 0755) < 0 && errno != EEXIST) || chown(path, uid, gid) < 0) {
                int r = -errno;
                snprintf(err, errlen, "cannot prepare the log directory %s for uid %d: %s", path, (int)uid, strerror(-r));
                return r;
        }
        return 0;
}

int flinkhome_script(const struct flinkhome *fh, const char *script, char *buf, size_t size)
{
        if ((size_t)snprintf(buf, size, "%s/bin/%s", fh->home, script) >= size)
                return -ENAMETOOLONG;
        return 0;
}
