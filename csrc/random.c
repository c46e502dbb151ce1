/* torch's CPU generator and its samplers, bit for bit.
 *
 * The engine is torch's mt19937 (aten/src/ATen/core/MT19937RNGEngine.h): seeded from the low 32
 * bits of the seed with the 1812433253 recurrence, twisted lazily when `left` runs out.
 * random64() joins two draws, the first as the high word (CPUGeneratorImpl.cpp).
 *
 * The transforms follow aten/src/ATen/core/TransformationHelper.h and DistributionsHelper.h:
 * a float uniform takes the low 24 bits of one draw, a double uniform the low 53 bits of
 * random64(); normal_distribution<double> is Box-Muller on two double uniforms and caches its
 * sine sample in the generator. normal_ on a contiguous tensor of >= 16 elements takes torch's
 * normal_fill path (native/cpu/DistributionTemplates.h): all uniforms first, then Box-Muller
 * over 16-element chunks (the last chunk redrawn when n % 16 != 0). torch's float chunk is its
 * AVX2 kernel (normal_stub has no AVX-512 entry) over the cephes log/sincos of avx_mathfun.h;
 * ft_normal16_f32 does the same IEEE operations one lane at a time (this file is compiled with
 * -std=c11, so GCC contracts nothing into FMAs; the FMAs torch has are explicit here).
 */
#include "ft_internal.h"
#include "api/random.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define FT_MT_N 624
#define FT_MT_M 397

typedef struct {
    pthread_mutex_t lock;
    uint64_t seed;
    int32_t left;
    int32_t seeded;
    uint32_t next;
    uint32_t state[FT_MT_N];
    int has_double_normal;
    double double_normal;
    int has_float_normal;
    float float_normal;
} ft_generator;

static void ft_mt_seed(ft_generator *g, uint64_t seed) {
    g->seed = seed;
    g->seeded = 1;
    g->state[0] = (uint32_t)(seed & 0xffffffffu);
    for (uint32_t j = 1; j < FT_MT_N; j++)
        g->state[j] = 1812433253u * (g->state[j - 1] ^ (g->state[j - 1] >> 30)) + j;
    g->left = 1;
    g->next = 0;
}

static inline uint32_t ft_mt_twist(uint32_t u, uint32_t v) {
    return (((u & 0x80000000u) | (v & 0x7fffffffu)) >> 1) ^ ((v & 1u) ? 0x9908b0dfu : 0u);
}

static void ft_mt_next_state(ft_generator *g) {
    uint32_t *p = g->state;
    g->left = FT_MT_N;
    g->next = 0;
    for (int j = FT_MT_N - FT_MT_M + 1; --j; p++) *p = p[FT_MT_M] ^ ft_mt_twist(p[0], p[1]);
    for (int j = FT_MT_M; --j; p++) *p = p[FT_MT_M - FT_MT_N] ^ ft_mt_twist(p[0], p[1]);
    *p = p[FT_MT_M - FT_MT_N] ^ ft_mt_twist(p[0], g->state[0]);
}

static inline uint32_t ft_random32(ft_generator *g) {
    if (--g->left == 0) ft_mt_next_state(g);
    uint32_t y = g->state[g->next++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= (y >> 18);
    return y;
}

static inline uint64_t ft_random64(ft_generator *g) {
    uint32_t hi = ft_random32(g);
    uint32_t lo = ft_random32(g);
    return ((uint64_t)hi << 32) | lo;
}

/* uniform_real_distribution<float>(0, 1) and <double>(0, 1) */
static inline float ft_uniform_f32(ft_generator *g) {
    return (float)(ft_random32(g) & 0xffffffu) * (1.0f / 16777216.0f);
}
static inline double ft_uniform_f64(ft_generator *g) {
    return (double)(ft_random64(g) & 0x1fffffffffffffull) * (1.0 / 9007199254740992.0);
}

/* normal_distribution<double>(0, 1): Box-Muller, the sine sample cached */
static double ft_normal_f64(ft_generator *g) {
    if (g->has_double_normal) {
        g->has_double_normal = 0;
        return g->double_normal;
    }
    const double u1 = ft_uniform_f64(g);
    const double u2 = ft_uniform_f64(g);
    const double r = sqrt(-2.0 * log1p(-u2));
    const double theta = 6.283185307179586 * u1; /* 2.0 * pi<double>, folded exactly */
    g->double_normal = r * sin(theta);
    g->has_double_normal = 1;
    return r * cos(theta);
}

/* ---- handles and state ---- */

intptr_t ft_gen_new(uint64_t seed) {
    ft_generator *g = calloc(1, sizeof *g);
    if (!g) return 0;
    pthread_mutex_init(&g->lock, NULL);
    ft_mt_seed(g, seed);
    return (intptr_t)g;
}

void ft_gen_free(intptr_t gen) {
    ft_generator *g = (ft_generator *)gen;
    if (!g) return;
    pthread_mutex_destroy(&g->lock);
    free(g);
}

void ft_gen_manual_seed(intptr_t gen, uint64_t seed) {
    ft_generator *g = (ft_generator *)gen;
    pthread_mutex_lock(&g->lock);
    ft_mt_seed(g, seed);
    g->has_double_normal = 0;
    g->has_float_normal = 0;
    pthread_mutex_unlock(&g->lock);
}

uint64_t ft_gen_initial_seed(intptr_t gen) {
    ft_generator *g = (ft_generator *)gen;
    pthread_mutex_lock(&g->lock);
    uint64_t seed = g->seed;
    pthread_mutex_unlock(&g->lock);
    return seed;
}

/* torch's CPUGeneratorImplState: the legacy THGeneratorState then the float cache. */
typedef struct {
    uint64_t the_initial_seed;
    int32_t left;
    int32_t seeded;
    uint64_t next;
    uint64_t state[FT_MT_N];
    double normal_x;
    double normal_y;
    double normal_rho;
    int32_t normal_is_valid;
} ft_legacy_state;

typedef struct {
    ft_legacy_state legacy;
    float next_float_normal_sample;
    uint8_t is_next_float_normal_sample_valid;
} ft_state_layout;

_Static_assert(sizeof(ft_state_layout) == 5056, "torch's CPU generator state is 5056 bytes");

int64_t ft_gen_state_size(void) { return (int64_t)sizeof(ft_state_layout); }

int ft_gen_get_state(intptr_t gen, intptr_t out, int64_t nbytes) {
    ft_generator *g = (ft_generator *)gen;
    if (nbytes != (int64_t)sizeof(ft_state_layout))
        return ft_set_error(FT_ERR_RUNTIME, "the RNG state buffer must be %zu bytes", sizeof(ft_state_layout));
    ft_state_layout s;
    memset(&s, 0, sizeof s);
    pthread_mutex_lock(&g->lock);
    s.legacy.the_initial_seed = g->seed;
    s.legacy.left = g->left;
    s.legacy.seeded = g->seeded;
    s.legacy.next = g->next;
    for (int i = 0; i < FT_MT_N; i++) s.legacy.state[i] = g->state[i];
    if (g->has_double_normal) {
        s.legacy.normal_is_valid = 1;
        s.legacy.normal_y = g->double_normal;
    }
    if (g->has_float_normal) {
        s.is_next_float_normal_sample_valid = 1;
        s.next_float_normal_sample = g->float_normal;
    }
    pthread_mutex_unlock(&g->lock);
    memcpy((void *)out, &s, sizeof s);
    return FT_OK;
}

int ft_gen_set_state(intptr_t gen, intptr_t in, int64_t nbytes) {
    ft_generator *g = (ft_generator *)gen;
    if (nbytes != (int64_t)sizeof(ft_state_layout))
        return ft_set_error(FT_ERR_RUNTIME,
                            "Expected a CPUGeneratorImplState of size %zu but found the input RNG state size to be %lld",
                            sizeof(ft_state_layout), (long long)nbytes);
    ft_state_layout s;
    memcpy(&s, (const void *)in, sizeof s);
    const uint32_t next = (uint32_t)s.legacy.next;
    const int seeded = (uint8_t)s.legacy.seeded != 0; /* torch stores it in a bool */
    if (!(seeded && s.legacy.left > 0 && s.legacy.left <= FT_MT_N && next <= FT_MT_N))
        return ft_set_error(FT_ERR_RUNTIME, "Invalid mt19937 state");
    pthread_mutex_lock(&g->lock);
    g->seed = s.legacy.the_initial_seed;
    g->left = s.legacy.left;
    g->seeded = 1;
    g->next = next;
    for (int i = 0; i < FT_MT_N; i++) g->state[i] = (uint32_t)s.legacy.state[i];
    g->has_double_normal = s.legacy.normal_is_valid != 0;
    g->double_normal = g->has_double_normal ? s.legacy.normal_y : 0.0;
    g->has_float_normal = s.is_next_float_normal_sample_valid != 0;
    g->float_normal = g->has_float_normal ? s.next_float_normal_sample : 0.0f;
    pthread_mutex_unlock(&g->lock);
    return FT_OK;
}

void ft_gen_copy(intptr_t dst, intptr_t src) {
    ft_generator *d = (ft_generator *)dst, *s = (ft_generator *)src;
    if (d == s) return;
    pthread_mutex_lock(&s->lock);
    ft_generator copy = *s;
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_lock(&d->lock);
    d->seed = copy.seed;
    d->left = copy.left;
    d->seeded = copy.seeded;
    d->next = copy.next;
    memcpy(d->state, copy.state, sizeof d->state);
    d->has_double_normal = copy.has_double_normal;
    d->double_normal = copy.double_normal;
    d->has_float_normal = copy.has_float_normal;
    d->float_normal = copy.float_normal;
    pthread_mutex_unlock(&d->lock);
}

uint32_t ft_gen_random(intptr_t gen) {
    ft_generator *g = (ft_generator *)gen;
    pthread_mutex_lock(&g->lock);
    uint32_t r = ft_random32(g);
    pthread_mutex_unlock(&g->lock);
    return r;
}

uint64_t ft_gen_random64(intptr_t gen) {
    ft_generator *g = (ft_generator *)gen;
    pthread_mutex_lock(&g->lock);
    uint64_t r = ft_random64(g);
    pthread_mutex_unlock(&g->lock);
    return r;
}

/* ---- torch's float Box-Muller chunk: avx_mathfun.h's log256_ps and sincos256_ps, one lane ---- */

static inline uint32_t ft_f2u(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static inline float ft_u2f(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }

static float ft_cephes_logf(float x) {
    const int invalid = x <= 0.0f;
    const float min_norm = ft_u2f(0x00800000u);
    x = x > min_norm ? x : min_norm; /* _mm256_max_ps(x, min_norm): the second operand unless x > it */
    int32_t imm0 = (int32_t)(ft_f2u(x) >> 23);
    x = ft_u2f((ft_f2u(x) & ~0x7f800000u) | ft_f2u(0.5f));
    imm0 -= 0x7f;
    float e = (float)imm0;
    e = e + 1.0f;
    const int lt = x < 0.707106781186547524f;
    const float tmp = lt ? x : 0.0f;
    x = x - 1.0f;
    e = e - (lt ? 1.0f : 0.0f);
    x = x + tmp;
    const float z = x * x;
    /* GCC contracts each single-use product into the add after it (-ffp-contract=fast) */
    float y = 7.0376836292E-2f;
    y = fmaf(y, x, -1.1514610310E-1f);
    y = fmaf(y, x, 1.1676998740E-1f);
    y = fmaf(y, x, -1.2420140846E-1f);
    y = fmaf(y, x, 1.4249322787E-1f);
    y = fmaf(y, x, -1.6668057665E-1f);
    y = fmaf(y, x, 2.0000714765E-1f);
    y = fmaf(y, x, -2.4999993993E-1f);
    y = fmaf(y, x, 3.3333331174E-1f);
    y = y * x;
    y = fmaf(y, z, e * -2.12194440e-4f);
    y = fmaf(-z, 0.5f, y);
    x = x + y;
    x = fmaf(e, 0.693359375f, x);
    if (invalid) x = ft_u2f(ft_f2u(x) | 0xffffffffu);
    return x;
}

static void ft_cephes_sincosf(float x, float *s, float *c) {
    uint32_t sign_bit_sin = ft_f2u(x) & 0x80000000u;
    x = ft_u2f(ft_f2u(x) & 0x7fffffffu);
    float y = x * 1.27323954473516f;
    /* _mm256_cvttps_epi32: truncation; out of range gives INT32_MIN (theta < 2 pi here) */
    int32_t imm2 = (y >= 2147483648.0f || y != y) ? INT32_MIN : (int32_t)y;
    imm2 = (int32_t)(((uint32_t)imm2 + 1u) & ~1u);
    y = (float)imm2;
    int32_t imm4 = imm2;
    const uint32_t swap_sign_bit_sin = ((uint32_t)imm2 & 4u) << 29;
    const int poly_mask = ((uint32_t)imm2 & 2u) == 0;
    x = fmaf(y, -0.78515625f, x);
    x = fmaf(y, -2.4187564849853515625e-4f, x);
    x = fmaf(y, -3.77489497744594108e-8f, x);
    imm4 = (int32_t)((uint32_t)imm4 - 2u);
    const uint32_t sign_bit_cos = (~(uint32_t)imm4 & 4u) << 29;
    sign_bit_sin ^= swap_sign_bit_sin;
    const float z = x * x;
    float p = 2.443315711809948E-005f;
    p = fmaf(p, z, -1.388731625493765E-003f);
    p = fmaf(p, z, 4.166664568298827E-002f);
    p = p * z;
    p = fmaf(p, z, -(z * 0.5f));
    p = p + 1.0f;
    float p2 = -1.9515295891E-4f;
    p2 = fmaf(p2, z, 8.3321608736E-3f);
    p2 = fmaf(p2, z, -1.6666654611E-1f);
    p2 = p2 * z;
    p2 = fmaf(p2, x, x);
    const float ysin2 = poly_mask ? p2 : 0.0f;
    const float ysin1 = poly_mask ? 0.0f : p;
    p2 = p2 - ysin2;
    p = p - ysin1;
    const float vs = ysin1 + ysin2;
    const float vc = p + p2;
    *s = ft_u2f(ft_f2u(vs) ^ sign_bit_sin);
    *c = ft_u2f(ft_f2u(vc) ^ sign_bit_cos);
}

static void ft_normal16_f32(float *data, float mean, float std) {
    const float two_pi = (float)(2.0 * 3.14159265358979323846);
    for (int j = 0; j < 8; j++) {
        const float u1 = 1.0f - data[j];
        const float u2 = data[j + 8];
        const float radius = sqrtf(-2.0f * ft_cephes_logf(u1));
        const float theta = two_pi * u2;
        float s, c;
        ft_cephes_sincosf(theta, &s, &c);
        const float n1 = radius * c;
        const float n2 = radius * s;
        data[j] = fmaf(n1, std, mean);
        data[j + 8] = fmaf(n2, std, mean);
    }
}

static void ft_normal16_f64(double *data, double mean, double std) {
    for (int j = 0; j < 8; j++) {
        const double u1 = 1 - data[j];
        const double u2 = data[j + 8];
        const double radius = sqrt(-2 * log(u1));
        const double theta = 6.283185307179586 * u2;
        data[j] = fma(radius * cos(theta), std, mean);
        data[j + 8] = fma(radius * sin(theta), std, mean);
    }
}

/* ---- samplers ---- */

static void ft_store_f(int dtype, void *out, int64_t i, double v) {
    switch (dtype) {
    case FT_FLOAT32: ((float *)out)[i] = (float)v; break;
    case FT_FLOAT64: ((double *)out)[i] = v; break;
    case FT_BOOL: ((uint8_t *)out)[i] = v != 0; break;
    case FT_UINT8: ((uint8_t *)out)[i] = FT_CONVERT(uint8, v); break;
    case FT_INT8: ((int8_t *)out)[i] = FT_CONVERT(int8, v); break;
    case FT_INT16: ((int16_t *)out)[i] = FT_CONVERT(int16, v); break;
    case FT_INT32: ((int32_t *)out)[i] = FT_CONVERT(int32, v); break;
    default: ((int64_t *)out)[i] = FT_CONVERT(int64, v); break;
    }
}

/* static_cast<T>(int64) */
static void ft_store_i(int dtype, void *out, int64_t i, int64_t v) {
    switch (dtype) {
    case FT_FLOAT32: ((float *)out)[i] = (float)v; break;
    case FT_FLOAT64: ((double *)out)[i] = (double)v; break;
    case FT_BOOL: ((uint8_t *)out)[i] = v != 0; break;
    case FT_UINT8: ((uint8_t *)out)[i] = (uint8_t)(uint64_t)v; break;
    case FT_INT8: ((int8_t *)out)[i] = ft_wrap_i8((uint64_t)v); break;
    case FT_INT16: ((int16_t *)out)[i] = ft_wrap_i16((uint64_t)v); break;
    case FT_INT32: ((int32_t *)out)[i] = ft_wrap_i32((uint64_t)v); break;
    default: ((int64_t *)out)[i] = v; break;
    }
}

static void ft_fill_normal(ft_generator *g, int dtype, int64_t n, void *out, int fill16, double mean, double std) {
    if (fill16 && n >= 16 && dtype == FT_FLOAT32) {
        float *data = out;
        for (int64_t i = 0; i < n; i++) data[i] = ft_uniform_f32(g);
        for (int64_t i = 0; i + 16 <= n; i += 16) ft_normal16_f32(data + i, (float)mean, (float)std);
        if (n % 16 != 0) {
            data += n - 16;
            for (int i = 0; i < 16; i++) data[i] = ft_uniform_f32(g);
            ft_normal16_f32(data, (float)mean, (float)std);
        }
        return;
    }
    if (fill16 && n >= 16 && dtype == FT_FLOAT64) {
        double *data = out;
        for (int64_t i = 0; i < n; i++) data[i] = ft_uniform_f64(g);
        for (int64_t i = 0; i + 16 <= n; i += 16) ft_normal16_f64(data + i, mean, std);
        if (n % 16 != 0) {
            data += n - 16;
            for (int i = 0; i < 16; i++) data[i] = ft_uniform_f64(g);
            ft_normal16_f64(data, mean, std);
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) ft_store_f(dtype, out, i, fma(ft_normal_f64(g), std, mean));
}

/* uniform_int<T>(random()/random64()) of random_() without bounds */
static void ft_fill_random(ft_generator *g, int dtype, int64_t n, void *out) {
    for (int64_t i = 0; i < n; i++) {
        switch (dtype) {
        case FT_BOOL: ((uint8_t *)out)[i] = (uint8_t)(ft_random32(g) & 1u); break;
        case FT_UINT8: ((uint8_t *)out)[i] = (uint8_t)(ft_random32(g) % 256u); break;
        case FT_INT8: ((int8_t *)out)[i] = (int8_t)(ft_random32(g) % 128u); break;
        case FT_INT16: ((int16_t *)out)[i] = (int16_t)(ft_random32(g) % 32768u); break;
        case FT_INT32: ((int32_t *)out)[i] = (int32_t)(ft_random32(g) % 2147483648u); break;
        case FT_INT64: ((int64_t *)out)[i] = (int64_t)(ft_random64(g) % 9223372036854775808ull); break;
        case FT_FLOAT32: ((float *)out)[i] = (float)(ft_random32(g) % ((1ull << 24) + 1)); break;
        default: ((double *)out)[i] = (double)(ft_random64(g) % ((1ull << 53) + 1)); break;
        }
    }
}

int ft_rng_fill(intptr_t gen, int op, int dtype, int64_t n, intptr_t out, int fill16,
                double a, double b, uint64_t range, int64_t base) {
    ft_generator *g = (ft_generator *)gen;
    if (!g) return ft_set_error(FT_ERR_RUNTIME, "no generator");
    if (!ft_is_valid_dtype(dtype)) return ft_set_error(FT_ERR_TYPE, "invalid dtype %d", dtype);
    if (n < 0) return ft_set_error(FT_ERR_VALUE, "negative element count %lld", (long long)n);
    const int floating = ft_is_floating(dtype);
    switch (op) {
    case FT_RNG_UNIFORM: case FT_RNG_NORMAL: case FT_RNG_EXPONENTIAL: case FT_RNG_LOG_NORMAL: case FT_RNG_CAUCHY:
        if (!floating) return ft_set_error(FT_ERR_UNSUPPORTED, "sampler %d needs a floating dtype, got %s", op, ft_dtype_name(dtype));
        break;
    case FT_RNG_RANDOM_FROM_TO:
        if (range == 0) return ft_set_error(FT_ERR_RUNTIME, "random_ expects 'from' to be less than 'to'");
        break;
    case FT_RNG_RANDOM_FULL64:
        if (dtype != FT_INT64 && dtype != FT_FLOAT32 && dtype != FT_FLOAT64)
            return ft_set_error(FT_ERR_RUNTIME, "random_full_64_bits_range_kernel_cpu handles only int64, double, float and bfloat16");
        break;
    case FT_RNG_RANDOM: case FT_RNG_BERNOULLI: case FT_RNG_GEOMETRIC: break;
    default: return ft_set_error(FT_ERR_VALUE, "unknown sampler %d", op);
    }
    void *o = (void *)out;
    pthread_mutex_lock(&g->lock);
    switch (op) {
    case FT_RNG_UNIFORM:
        if (dtype == FT_FLOAT32) {
            const float from = (float)a, to = (float)b;
            for (int64_t i = 0; i < n; i++) {
                const float x = (float)(ft_random32(g) & 0xffffffu) * (1.0f / 16777216.0f);
                const float v = fmaf(x, to - from, from);
                ((float *)o)[i] = v == to ? from : v;
            }
        } else {
            for (int64_t i = 0; i < n; i++) {
                const double x = (double)(ft_random64(g) & 0x1fffffffffffffull) * (1.0 / 9007199254740992.0);
                const double v = fma(x, b - a, a);
                ((double *)o)[i] = v == b ? a : v;
            }
        }
        break;
    case FT_RNG_NORMAL: ft_fill_normal(g, dtype, n, o, fill16, a, b); break;
    case FT_RNG_RANDOM_FROM_TO:
        for (int64_t i = 0; i < n; i++) {
            const uint64_t v = range >= (1ull << 28) ? ft_random64(g) : (uint64_t)ft_random32(g);
            ft_store_i(dtype, o, i, (int64_t)((v % range) + (uint64_t)base));
        }
        break;
    case FT_RNG_RANDOM_FULL64:
        for (int64_t i = 0; i < n; i++) ft_store_i(dtype, o, i, (int64_t)ft_random64(g));
        break;
    case FT_RNG_RANDOM: ft_fill_random(g, dtype, n, o); break;
    case FT_RNG_BERNOULLI:
        for (int64_t i = 0; i < n; i++) ft_store_i(dtype, o, i, ft_uniform_f64(g) < a);
        break;
    case FT_RNG_EXPONENTIAL:
        for (int64_t i = 0; i < n; i++) ft_store_f(dtype, o, i, -1.0 / a * log1p(-ft_uniform_f64(g)));
        break;
    case FT_RNG_GEOMETRIC:
        for (int64_t i = 0; i < n; i++) ft_store_f(dtype, o, i, ceil(log(ft_uniform_f64(g)) / log1p(-a)));
        break;
    case FT_RNG_LOG_NORMAL:
        for (int64_t i = 0; i < n; i++) ft_store_f(dtype, o, i, exp(fma(ft_normal_f64(g), b, a)));
        break;
    case FT_RNG_CAUCHY:
        for (int64_t i = 0; i < n; i++)
            ft_store_f(dtype, o, i, fma(b, tan(3.141592653589793 * (ft_uniform_f64(g) - 0.5)), a));
        break;
    }
    pthread_mutex_unlock(&g->lock);
    return FT_OK;
}

int ft_rng_bernoulli_tensor(intptr_t gen, int dtype, int64_t n, intptr_t out, int p_dtype, intptr_t p) {
    ft_generator *g = (ft_generator *)gen;
    if (!ft_is_valid_dtype(dtype)) return ft_set_error(FT_ERR_TYPE, "invalid dtype %d", dtype);
    if (p_dtype != FT_FLOAT32 && p_dtype != FT_FLOAT64)
        return ft_set_error(FT_ERR_UNSUPPORTED, "\"bernoulli_tensor_cpu_p_\" not implemented for '%s'", ft_dtype_name(p_dtype));
    void *o = (void *)out;
    pthread_mutex_lock(&g->lock);
    if (p_dtype == FT_FLOAT64) {
        const double *pp = (const double *)p;
        for (int64_t i = 0; i < n; i++) ft_store_i(dtype, o, i, ft_uniform_f64(g) < pp[i]);
    } else {
        const float *pp = (const float *)p;
        for (int64_t i = 0; i < n; i++) ft_store_i(dtype, o, i, ft_uniform_f32(g) < pp[i]);
    }
    pthread_mutex_unlock(&g->lock);
    return FT_OK;
}

int ft_rng_randperm(intptr_t gen, int dtype, int64_t n, intptr_t out) {
    ft_generator *g = (ft_generator *)gen;
    if (n < 0) return ft_set_error(FT_ERR_RUNTIME, "n must be non-negative, got%lld", (long long)n);
    if (n >= (int64_t)(UINT32_MAX / 20))
        return ft_set_error(FT_ERR_UNSUPPORTED, "randperm of n >= 2^32 / 20 is not supported");
    if (dtype == FT_BOOL || !ft_is_valid_dtype(dtype))
        return ft_set_error(FT_ERR_UNSUPPORTED, "\"randperm\" not implemented for '%s'", ft_dtype_name(dtype));
    /* the permutation in int64, then stored: every dtype holds indices < n (the caller checks) */
    int64_t *perm = malloc((size_t)(n > 0 ? n : 1) * sizeof *perm);
    if (!perm) return ft_set_error(FT_ERR_NOMEM, "randperm: out of memory");
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    pthread_mutex_lock(&g->lock);
    for (int64_t i = 0; i < n - 1; i++) {
        const int64_t z = (int64_t)(ft_random32(g) % (uint64_t)(n - i));
        const int64_t sav = perm[i];
        perm[i] = perm[z + i];
        perm[z + i] = sav;
    }
    pthread_mutex_unlock(&g->lock);
    for (int64_t i = 0; i < n; i++) ft_store_i(dtype, (void *)out, i, perm[i]);
    free(perm);
    return FT_OK;
}
