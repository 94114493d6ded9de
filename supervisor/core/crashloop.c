/* crashloop: see crashloop.h. */
#include "core/crashloop.h"

#include <errno.h>
#include <stdlib.h>

int crashloop_init(struct crashloop *c, unsigned max_restarts, uint64_t window_ms)
{
        c->size = max_restarts + 1;
        c->next = c->count = 0;
        c->window_ms = window_ms;
        c->at_ms = calloc(c->size, sizeof *c->at_ms);
        return c->at_ms ? 0 : -ENOMEM;
}

bool crashloop_record(struct crashloop *c, uint64_t now_ms)
{
        c->at_ms[c->next] = now_ms;
        c->next = (c->next + 1) % c->size;
        if (c->count < c->size)
                c->count++;
        if (c->count < c->size)
                return false;
        /* The ring is full: the oldest of the last max+1 restarts sits at
         * next. Too many restarts when even that one is within the window. */
        return now_ms - c->at_ms[c->next] < c->window_ms;
}

void crashloop_free(struct crashloop *c)
{
        free(c->at_ms);
        c->at_ms = NULL;
}
