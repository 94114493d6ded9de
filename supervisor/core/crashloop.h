/* crashloop: detects "more than max restarts within window". Pure.
 *
 * Keeps the times of the last max+1 restarts in a ring it owns. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct crashloop {
        uint64_t *at_ms;
        unsigned size, next, count;
        uint64_t window_ms;
};

/* Returns 0 or -ENOMEM. */
int crashloop_init(struct crashloop *c, unsigned max_restarts, uint64_t window_ms);
/* Whether a restart at now_ms would be one too many; changes nothing. */
bool crashloop_peek(const struct crashloop *c, uint64_t now_ms);
/* Records a restart at now_ms; true when it is one too many. */
bool crashloop_record(struct crashloop *c, uint64_t now_ms);
void crashloop_free(struct crashloop *c);
