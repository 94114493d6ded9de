/* fmt: snprintf for paths, URLs, ids and names, where a cut-off result is
 * a different thing, not a shorter one. Messages may still be truncated
 * with plain snprintf; these may not. */
#pragma once

#include <stddef.h>

/* Formats into buf; returns 0, or -ENAMETOOLONG when it did not fit (buf
 * then holds a truncated string that must not be used). */
__attribute__((format(printf, 3, 4), warn_unused_result))
int fmt(char *buf, size_t size, const char *format, ...);

/* One error line into err (truncated to fit: it is a message); returns
 * -EINVAL, for "return fmt_invalid(err, errlen, ...)" in validators. */
__attribute__((format(printf, 3, 4)))
int fmt_invalid(char *err, size_t errlen, const char *format, ...);

/* path, made absolute against the current directory when it is relative
 * (for paths used again after the supervisor left its start directory).
 * Returns 0, -ENAMETOOLONG, or -errno when the current directory is
 * unknown. */
__attribute__((warn_unused_result))
int fmt_absolute(char *buf, size_t size, const char *path);
