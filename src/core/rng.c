/* src/core/rng.c: PCG32 (XSH RR 64/32), as in O'Neill's reference pcg32_random_r. */
#include <math.h>

#include "plast/rng.h"

#define PCG_MULT 6364136223846793005ULL

uint32_t plast_rng_u32(plast_rng *r) {
    uint64_t old = r->state;
    r->state = old * PCG_MULT + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31u));
}

void plast_rng_init(plast_rng *r, uint64_t seed, uint64_t stream) {
    r->state = 0u;
    r->inc = (stream << 1u) | 1u;
    plast_rng_u32(r);
    r->state += seed;
    plast_rng_u32(r);
}

plast_rng plast_rng_fork(plast_rng *r, uint64_t stream) {
    plast_rng child;
    plast_rng_init(&child, plast_rng_u64(r), stream);
    return child;
}

uint64_t plast_rng_u64(plast_rng *r) {
    uint64_t hi = plast_rng_u32(r);
    return (hi << 32) | plast_rng_u32(r);
}

/* Lemire's nearly-divisionless method: unbiased, one multiply in the common case. */
uint32_t plast_rng_below(plast_rng *r, uint32_t n) {
    if (n == 0) return 0;
    uint64_t m = (uint64_t)plast_rng_u32(r) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)plast_rng_u32(r) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double plast_rng_uniform(plast_rng *r) { return (double)(plast_rng_u64(r) >> 11) * 0x1.0p-53; }

double plast_rng_uniform_in(plast_rng *r, double lo, double hi) { return lo + (hi - lo) * plast_rng_uniform(r); }

/* Box-Muller, one output per call: no cached second value, so the state is exactly (state, inc). */
double plast_rng_normal(plast_rng *r) {
    double u1 = 1.0 - plast_rng_uniform(r); /* (0, 1]: log is finite */
    double u2 = plast_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

void plast_rng_fill_uniform(plast_rng *r, plast_real *x, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++) x[i] = (plast_real)plast_rng_uniform_in(r, lo, hi);
}

void plast_rng_fill_normal(plast_rng *r, plast_real *x, size_t n, double mean, double std) {
    for (size_t i = 0; i < n; i++) x[i] = (plast_real)(mean + std * plast_rng_normal(r));
}

void plast_rng_permutation(plast_rng *r, int32_t *perm, int32_t n) {
    for (int32_t i = 0; i < n; i++) perm[i] = i;
    for (int32_t i = n - 1; i > 0; i--) {
        int32_t j = (int32_t)plast_rng_below(r, (uint32_t)i + 1u);
        int32_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
}

/* splitmix64: a bijective mix, so distinct (seed, index) pairs give well-separated PCG seeds */
static uint64_t mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

plast_rng plast_rng_derive(uint64_t seed, uint64_t stream, uint64_t index) {
    plast_rng r;
    plast_rng_init(&r, mix64(mix64(seed) ^ index), stream);
    return r;
}
