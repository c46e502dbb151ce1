/* Random numbers bit-identical to torch's CPU generator (random.c).
 *
 * A generator is torch's CPUGeneratorImpl: an mt19937 engine (32-bit state words, torch's
 * seeding) plus the cached second Box-Muller sample of normal_distribution<double> (and the
 * float one, kept for the state layout). Generators are opaque handles (intptr_t) made by
 * ft_gen_new and released by ft_gen_free; each has its own lock, so a generator may be shared
 * by threads the way torch's is.
 *
 * The samplers write n values, in order, into a contiguous out buffer of dtype; the caller
 * visits the elements in the order torch's TensorIterator does (memory order) and places them.
 */
#ifndef FT_API_RANDOM_H
#define FT_API_RANDOM_H

#include "../ft.h"

/* torch's default seed for a fresh generator (c10::detail::default_rng_seed_val). */
#define FT_GEN_DEFAULT_SEED 67280421310721

/* 0 on allocation failure. */
intptr_t ft_gen_new(uint64_t seed);
void ft_gen_free(intptr_t gen);
/* torch's manual_seed: a fresh engine from seed, both cached normal samples dropped. */
void ft_gen_manual_seed(intptr_t gen, uint64_t seed);
uint64_t ft_gen_initial_seed(intptr_t gen);
/* The state as torch.get_rng_state lays it out (CPUGeneratorImplState, 5056 bytes). */
int64_t ft_gen_state_size(void);
int ft_gen_get_state(intptr_t gen, intptr_t out, int64_t nbytes);
/* Checks the size and the engine's validity like torch ("Invalid mt19937 state"). */
int ft_gen_set_state(intptr_t gen, intptr_t in, int64_t nbytes);
/* Copies engine and caches from src into dst (Generator.clone_state / graphsafe). */
void ft_gen_copy(intptr_t dst, intptr_t src);
/* The raw draws: random() 32 bits, random64() two draws, the first the high word. */
uint32_t ft_gen_random(intptr_t gen);
uint64_t ft_gen_random64(intptr_t gen);

typedef enum {
    FT_RNG_UNIFORM = 0,      /* uniform_(a, b): floating dtypes */
    FT_RNG_NORMAL,           /* normal_(a = mean, b = std); fill16 = 1 for torch's contiguous >= 16 path */
    FT_RNG_RANDOM_FROM_TO,   /* random_(from, to): range, base */
    FT_RNG_RANDOM,           /* random_() with no bounds */
    FT_RNG_RANDOM_FULL64,    /* random_(from = int64 min, to = None) */
    FT_RNG_BERNOULLI,        /* bernoulli_(p = a), torch's default (non-MKL) scalar kernel */
    FT_RNG_EXPONENTIAL,      /* exponential_(lambda = a) */
    FT_RNG_GEOMETRIC,        /* geometric_(p = a) */
    FT_RNG_LOG_NORMAL,       /* log_normal_(mean = a, std = b) */
    FT_RNG_CAUCHY,           /* cauchy_(median = a, sigma = b) */
    FT_RNG_COUNT
} ft_rng_op;

/* out[0, n) of dtype gets n samples of op, drawn in order. */
int ft_rng_fill(intptr_t gen, int op, int dtype, int64_t n, intptr_t out, int fill16,
                double a, double b, uint64_t range, int64_t base);
/* out[i] = bernoulli(p[i]); p is float32 (torch's bernoulli_distribution<float>) or float64. */
int ft_rng_bernoulli_tensor(intptr_t gen, int dtype, int64_t n, intptr_t out, int p_dtype, intptr_t p);
/* torch's randperm_cpu for n < 2^32 / 20: identity, then swaps with random() % (n - i). */
int ft_rng_randperm(intptr_t gen, int dtype, int64_t n, intptr_t out);

#endif /* FT_API_RANDOM_H */
