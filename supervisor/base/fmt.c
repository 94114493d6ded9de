/* fmt: see fmt.h. */
#include "base/fmt.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

int fmt(char *buf, size_t size, const char *format, ...)
{
        va_list ap;
        int n;

        va_start(ap, format);
        n = vsnprintf(buf, size, format, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        return (size_t)n < size ? 0 : -ENAMETOOLONG;
}

int fmt_invalid(char *err, size_t errlen, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        vsnprintf(err, errlen, format, ap);
        va_end(ap);
        return -EINVAL;
}

int fmt_absolute(char *buf, size_t size, const char *path)
{
        char cwd[PATH_MAX];

        if (path[0] == '/' || !path[0])
                return fmt(buf, size, "%s", path);
        if (!getcwd(cwd, sizeof cwd))
                return -errno;
        return fmt(buf, size, "%s/%s", cwd, path);
}
