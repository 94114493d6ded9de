/* secret: see secret.h. */
#include "base/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void secret_wipe(void *p, size_t n)
{
        explicit_bzero(p, n);
}

/* The length of the line at the start of buf[0..n), or n when no line end
 * (or NUL, which would cut the string anyway) is in it. */
static size_t line_length(const char *buf, size_t n)
{
        size_t i = 0;

        while (i < n && buf[i] != '\n' && buf[i] != '\r' && buf[i] != '\0')
                i++;
        return i;
}

const char *secret_strerror(int r)
{
        return r == -E2BIG ? "its first line is too long" : strerror(-r);
}

int secret_read_file(const char *path, char *buf, size_t size)
{
        size_t n = 0, len = 0;
        int fd, r = 0;

        if (size == 0)
                return -E2BIG;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        /* Up to size bytes: a line of size - 1 bytes must show its end to fit. */
        for (;;) {
                len = line_length(buf, n);
                if (len < n || n == size)
                        break;
                ssize_t got = read(fd, buf + n, size - n);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0) {
                        r = -errno;
                        goto out;
                }
                if (got == 0)
                        break;
                n += (size_t)got;
        }
        if (len == size) {
                r = -E2BIG;
                goto out;
        }
        /* The rest of the file may hold more secrets. */
        secret_wipe(buf + len, n - len);
        buf[len] = '\0';
        r = (int)len;
out:
        if (r < 0)
                secret_wipe(buf, size);
        close(fd);
        return r;
}
