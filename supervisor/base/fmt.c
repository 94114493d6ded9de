/* fmt: see fmt.h. */
#include "base/fmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

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
