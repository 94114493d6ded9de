/* secret: credentials read from files, and wiping them from memory.
 *
 * The one reader of secret files: it reads straight into the caller's
 * buffer (no stdio buffer keeps a copy), and what it read beyond the first
 * line is wiped. Wipes are explicit_bzero, which the compiler may not drop
 * as a dead store the way it may drop a memset before free or return. */
#pragma once

#include <stddef.h>

/* The first line of the file at path into buf, without its line end (\r
 * or \n) and NUL-terminated. Returns its length, -E2BIG when it does not
 * fit in size bytes (buf is wiped then), or -errno. */
int secret_read_file(const char *path, char *buf, size_t size);
/* What a negative return of secret_read_file means, for an error line. */
const char *secret_strerror(int r);

void secret_wipe(void *p, size_t n);
