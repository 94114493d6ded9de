/* buf: see buf.h. */
#include "base/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int buf_append(struct buf *b, const void *p, size_t n)
{
        if (n > SIZE_MAX / 2 - b->len - 1)
                return -ENOMEM;
        if (b->len + n + 1 > b->cap) {
                /* Doubling keeps appends amortised constant-time. */
                size_t cap = b->cap ? b->cap : 256;
                while (cap < b->len + n + 1)
                        cap *= 2;
                char *grown = realloc(b->data, cap);
                if (!grown)
                        return -ENOMEM;
                b->data = grown;
                b->cap = cap;
        }
        if (n)
                memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
}

char *buf_take(struct buf *b, size_t *len)
{
        char *data = b->data;

        if (len)
                *len = b->len;
        *b = (struct buf){ .data = NULL };
        return data;
}

void buf_free(struct buf *b)
{
        free(b->data);
        *b = (struct buf){ .data = NULL };
}
