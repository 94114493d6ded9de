/* backoff: the delay before a restart. Pure.
 *
 * Exponential: min * 2^attempt, capped at max, minus up to a quarter of
 * itself as jitter (never below min). With at most a quarter off, each
 * delay below the cap is still longer than the one before it, so growth
 * stays visible while instances that crashed together spread out. */
#pragma once

#include <stdint.h>

uint64_t backoff_delay_ms(unsigned attempt, uint64_t min_ms, uint64_t max_ms, uint32_t random);

/* A small PRNG (splitmix64) for jitter; the state lives with its user. */
/* Its seed: the kernel's randomness, else the clock and the pid. */
uint64_t backoff_seed(void);
uint32_t backoff_random(uint64_t *state);
