/* plast/rng.h: an explicit, caller-owned random number generator.
 *
 * PCG32 (O'Neill 2014, "PCG XSH RR 64/32"): 64 bits of state plus a stream selector, so a (seed, stream) pair
 * names an independent, reproducible sequence. plast has no global RNG: every function that draws random numbers
 * takes a plast_rng *. Give each independent consumer (weight init, each data loader, each worker) its own stream
 * so results do not depend on the order in which they run or on the number of threads.
 */
#ifndef PLAST_RNG_H
#define PLAST_RNG_H

#include "plast/base.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct plast_rng {
    uint64_t state; /* advanced by every draw */
    uint64_t inc;   /* stream selector, always odd */
} plast_rng;

/* Seeds r so that each (seed, stream) pair gives its own sequence. */
PLAST_API void plast_rng_init(plast_rng *r, uint64_t seed, uint64_t stream);
/* The generator of item `index` (a batch, an environment, an episode) of stream `stream` under `seed`: a pure
 * function of its three arguments (splitmix64-mixed), so any item's draws can be made by any thread or process in
 * any order. Training runs use one stream per purpose (PLAST_STREAM_* in plast/train.h). */
PLAST_API plast_rng plast_rng_derive(uint64_t seed, uint64_t stream, uint64_t index);
/* A child generator on stream `stream`, seeded from r's next output: independent of r and of other streams. */
PLAST_API plast_rng plast_rng_fork(plast_rng *r, uint64_t stream);

PLAST_API uint32_t plast_rng_u32(plast_rng *r);                            /* uniform over [0, 2^32) */
PLAST_API uint64_t plast_rng_u64(plast_rng *r);                            /* uniform over [0, 2^64) */
PLAST_API uint32_t plast_rng_below(plast_rng *r, uint32_t n);              /* uniform over [0, n), unbiased; n > 0 */
PLAST_API double plast_rng_uniform(plast_rng *r);                          /* uniform over [0, 1), 53 bits */
PLAST_API double plast_rng_uniform_in(plast_rng *r, double lo, double hi); /* uniform over [lo, hi) */
PLAST_API double plast_rng_normal(plast_rng *r);                           /* standard normal (Box-Muller) */

/* x[i] ~ U[lo, hi) and x[i] ~ N(mean, std^2) for i < n. */
PLAST_API void plast_rng_fill_uniform(plast_rng *r, plast_real *x, size_t n, double lo, double hi);
PLAST_API void plast_rng_fill_normal(plast_rng *r, plast_real *x, size_t n, double mean, double std);
/* A uniformly random permutation of 0..n-1 written to perm (Fisher-Yates). */
PLAST_API void plast_rng_permutation(plast_rng *r, int32_t *perm, int32_t n);

#ifdef __cplusplus
}
#endif
#endif
