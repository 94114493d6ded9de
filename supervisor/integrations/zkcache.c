/* zkcache: see zkcache.h.
 *
 * Format: "flink-supervisor-zk-cache 1 <origin-len>\n<origin>\n" then per
 * document "<exists> <version> <len>\n<len bytes>\n". */
#include "integrations/zkcache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fmt.h"
#include "config/confyaml.h"

static int write_doc(FILE *f, const struct zk_doc *d)
{
        fprintf(f, "%d %d %zu\n", d->exists ? 1 : 0, d->version, d->exists ? d->len : 0);
        if (d->exists && d->len && fwrite(d->text, 1, d->len, f) != d->len)
                return -EIO;
        fputc('\n', f);
        return 0;
}

int zkcache_save(const char *file, const char *origin, const struct zk_doc *base, const struct zk_doc *role)
{
        char tmp[1200];
        FILE *f;
        int r;

        if (fmt(tmp, sizeof tmp, "%s.new", file) < 0)
                return -ENAMETOOLONG;
        f = fopen(tmp, "we");
        if (!f)
                return -errno;
        fprintf(f, "flink-supervisor-zk-cache 1 %zu\n%s\n", strlen(origin), origin);
        r = write_doc(f, base);
        if (r == 0)
                r = write_doc(f, role);
        if (fflush(f) != 0 || fsync(fileno(f)) < 0)
                r = r ? r : -errno;
        if (fclose(f) != 0)
                r = r ? r : -errno;
        if (r == 0 && rename(tmp, file) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}

static int read_doc(FILE *f, struct zk_doc *d)
{
        int exists, version;
        size_t len;

        if (fscanf(f, "%d %d %zu", &exists, &version, &len) != 3 || fgetc(f) != '\n' ||
            len > CONFYAML_MAX_BYTES || (exists != 0 && exists != 1))
                return -EINVAL;
        d->exists = exists;
        d->version = version;
        d->len = len;
        d->text = NULL;
        if (exists) {
                d->text = malloc(len + 1);
                if (!d->text)
                        return -ENOMEM;
                if (fread(d->text, 1, len, f) != len) {
                        zkcache_doc_free(d);
                        return -EINVAL;
                }
                d->text[len] = '\0';
        }
        if (fgetc(f) != '\n') {
                zkcache_doc_free(d);
                return -EINVAL;
        }
        return 0;
}

int zkcache_load(const char *file, const char *origin, struct zk_doc *base, struct zk_doc *role, time_t *saved_at)
{
        FILE *f = fopen(file, "re");
        char stored[2048];
        struct stat st;
        size_t olen;
        int r = -ENOENT;

        if (!f)
                return errno == ENOENT ? -ENOENT : -errno;
        if (fstat(fileno(f), &st) < 0) {
                r = -errno;
                goto out;
        }
        *saved_at = st.st_mtime;
        if (fscanf(f, "flink-supervisor-zk-cache 1 %zu", &olen) != 1 || fgetc(f) != '\n' || olen >= sizeof stored ||
            fread(stored, 1, olen, f) != olen || fgetc(f) != '\n')
                goto out;
        stored[olen] = '\0';
        if (strcmp(stored, origin) != 0)
                goto out;
        r = read_doc(f, base);
        if (r == 0) {
                r = read_doc(f, role);
                if (r < 0)
                        zkcache_doc_free(base);
        }
out:
        fclose(f);
        return r;
}

void zkcache_doc_free(struct zk_doc *d)
{
        free(d->text);
        d->text = NULL;
        d->exists = false;
        d->len = 0;
        d->version = -1;
}

int zkcache_doc_copy(struct zk_doc *dst, const struct zk_doc *src)
{
        struct zk_doc copy = *src;

        copy.text = NULL;
        if (src->exists) {
                copy.text = malloc(src->len + 1);
                if (!copy.text)
                        return -ENOMEM;
                memcpy(copy.text, src->text, src->len);
                copy.text[src->len] = '\0';
        }
        zkcache_doc_free(dst);
        *dst = copy;
        return 0;
}
