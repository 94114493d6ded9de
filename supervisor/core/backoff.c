/* backoff: see backoff.h. */
#include "core/backoff.h"

#include <sys/random.h>
#include <unistd.h>

#include "core/timer.h"

uint64_t backoff_delay_ms(unsigned attempt, uint64_t min_ms, uint64_t max_ms, uint32_t random)
{
        uint64_t nominal = min_ms;

        for (unsigned i = 0; i < attempt && nominal < max_ms; i++)
                nominal *= 2;
        if (nominal > max_ms)
                nominal = max_ms;
        uint64_t jitter = (nominal / 4) * random / UINT32_MAX;
        uint64_t delay = nominal - jitter;
        return delay < min_ms ? min_ms : delay;
}

uint32_t backoff_random(uint64_t *state)
{
        uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return (uint32_t)((z ^ (z >> 31)) >> 32);
}

uint64_t backoff_seed(void)
{
        uint64_t seed;

        if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed)
                seed = timer_now_ms() ^ ((uint64_t)getpid() << 32);
        return seed;
}
