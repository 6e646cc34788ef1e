/* explore_rng: the deterministic random numbers of explore - xoshiro256** seeded through
 * splitmix64, so one (seed, case number) pair always yields the same case on every machine, and
 * case n does not depend on how many cases ran before it or on which job ran them. */
#ifndef EXPLORE_RNG_H
#define EXPLORE_RNG_H

#include <stddef.h>
#include <stdint.h>

struct explore_rng {
    uint64_t s[4];
};

/* Seeds r for one stream (a case number) of a run seed. */
void explore_rng_init(struct explore_rng *r, uint64_t seed, uint64_t stream);
/* The next 64 random bits. */
uint64_t explore_rng_next(struct explore_rng *r);
/* Uniform in [0, n); 0 when n is 0. */
uint64_t explore_rng_below(struct explore_rng *r, uint64_t n);
/* Uniform in [lo, hi] (lo <= hi). */
int64_t explore_rng_range(struct explore_rng *r, int64_t lo, int64_t hi);
/* 1 with probability percent/100. */
int explore_rng_chance(struct explore_rng *r, unsigned percent);
/* An index drawn by weights[0..n) (not all 0). */
size_t explore_rng_weighted(struct explore_rng *r, const unsigned *weights, size_t n);

/* splitmix64 of x: a well-mixed 64-bit value (the step explore_rng_init uses). */
uint64_t explore_rng_mix(uint64_t x);

#endif
