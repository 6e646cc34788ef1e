/* explore_rng: xoshiro256** (Blackman and Vigna) with splitmix64 seeding. */
#include "explore_rng.h"

uint64_t explore_rng_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void explore_rng_init(struct explore_rng *r, uint64_t seed, uint64_t stream)
{
    /* Seed and stream go through separate mixes, so (s, n) and (n, s) differ. */
    uint64_t x = explore_rng_mix(seed) ^ explore_rng_mix(stream ^ 0x5851f42d4c957f2dull);
    for (int i = 0; i < 4; i++) {
        x = explore_rng_mix(x);
        r->s[i] = x;
    }
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
        r->s[0] = 1; /* the one state xoshiro never leaves */
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t explore_rng_next(struct explore_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t explore_rng_below(struct explore_rng *r, uint64_t n)
{
    if (n == 0)
        return 0;
    /* Rejection keeps the draw uniform: values past the last whole multiple of n are redrawn. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
        uint64_t v = explore_rng_next(r);
        if (v < limit)
            return v % n;
    }
}

int64_t explore_rng_range(struct explore_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)explore_rng_below(r, (uint64_t)(hi - lo) + 1);
}

int explore_rng_chance(struct explore_rng *r, unsigned percent)
{
    return explore_rng_below(r, 100) < percent;
}

size_t explore_rng_weighted(struct explore_rng *r, const unsigned *weights, size_t n)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += weights[i];
    uint64_t v = explore_rng_below(r, total);
    for (size_t i = 0; i < n; i++) {
        if (v < weights[i])
            return i;
        v -= weights[i];
    }
    return n - 1;
}
