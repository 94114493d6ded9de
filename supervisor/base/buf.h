/* buf: a growable byte buffer, always NUL-terminated once anything was
 * appended. The one used wherever text is built or received. */
#pragma once

#include <stddef.h>

struct buf {
        char *data;             /* NULL until the first append */
        size_t len, cap;
};

/* Appends n bytes of p. Returns 0 or -ENOMEM (then b is unchanged). */
int buf_append(struct buf *b, const void *p, size_t n);
/* Hands the data over (NULL when empty) and empties b. */
char *buf_take(struct buf *b, size_t *len);
void buf_free(struct buf *b);
