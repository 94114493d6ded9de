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

bool crashloop_peek(const struct crashloop *c, uint64_t now_ms)
{
        uint64_t oldest;

        if (c->count + 1 < c->size)
                return false;
        /* With this one the ring is full, and the oldest of the last max+1
         * restarts is the one after it (this one itself in a ring of one).
         * Too many restarts when even that one is within the window. */
        oldest = c->size == 1 ? now_ms : c->at_ms[(c->next + 1) % c->size];
        return now_ms - oldest < c->window_ms;
}

bool crashloop_record(struct crashloop *c, uint64_t now_ms)
{
        bool over = crashloop_peek(c, now_ms);

        c->at_ms[c->next] = now_ms;
        c->next = (c->next + 1) % c->size;
        if (c->count < c->size)
                c->count++;
        return over;
}

void crashloop_free(struct crashloop *c)
{
        free(c->at_ms);
        c->at_ms = NULL;
}
