/* softmax and log_softmax over the middle dim of a contiguous (outer, size, inner) box.
 *
 * A row (inner == 1, the last dim) is done in one fused visit, the way torch's
 * vectorised kernel does it: the maximum, then exp(x - max) written to the output
 * while it is summed, then the output scaled by 1 / sum (softmax) or rewritten as
 * (x - max) - log(sum) (log_softmax). The row stays in cache between the sweeps.
 * Other dims run the same three steps on vectors of neighbouring columns.
 *
 * float32 uses a vectorised exp (Cody-Waite reduction and a degree-6 polynomial, the
 * cephes expf scheme, about 1 ulp) for AVX-512, AVX2+FMA (intrinsics) and the SSE2
 * baseline (GCC vector extensions), chosen once at run time.
 * softmax only ever exponentiates x - max <= 0, so the exp handles (-inf, 0] and NaN:
 * below ln(FLT_MIN) it gives 0 (torch gives a denormal there, below any tolerance).
 * float64 uses libm's exp. Rows are split across the thread pool. */
#include "ft_internal.h"

#include <stdatomic.h>

#define FT_SOFTMAX_GRAIN 16384 /* elements of work below which rows are not split across threads */

typedef struct {
    /* rows: y[0, n) = softmax(x[0, n)) */
    void (*rows_f32)(int op, const float *x, float *y, int64_t n);
    /* columns: y[d * inner + j] for d < size, j < width (width a multiple of the vector width) */
    void (*columns_f32)(int op, const float *x, float *y, int64_t size, int64_t inner, int64_t width);
    int lanes; /* float32 lanes of one vector */
} ft_softmax_kernels;

/* The exp: x = q ln2 + r with q = round(x / ln2) and ln2 in two parts (Cody-Waite),
 * exp(r) by the cephes polynomial, then 2^q. Inputs below ln(FLT_MIN) give 0; NaN stays NaN
 * (max(c, x) returns x when x is NaN, and the final mask keeps unordered lanes). */
#define FT_EXP_LOW -87.33654f
#define FT_EXP_LOG2E 1.44269504088896341f
#define FT_EXP_LN2_HI 0.693359375f
#define FT_EXP_LN2_LO -2.12194440e-4f
#define FT_EXP_P0 1.9875691500e-4f
#define FT_EXP_P1 1.3981999507e-3f
#define FT_EXP_P2 8.3334519073e-3f
#define FT_EXP_P3 4.1665795894e-2f
#define FT_EXP_P4 1.6666665459e-1f
#define FT_EXP_P5 5.0000001201e-1f

/* The row and column kernels over an ISA layer: V a float vector of L lanes and the operations
 * LOAD STORE SET ADD SUB MUL MAX (any NaN rule) EXP (the exp above) DIV. */
#define FT_DEFINE_SOFTMAX_KERNELS(ISA, TARGET, V, L, LOAD, STORE, SET, ADD, SUB, MUL, MAX, EXP, DIV)        \
    TARGET static void ft_softmax_rows_f32_##ISA(int op, const float *x, float *y, int64_t n) {             \
        /* the maximum (NaN needs no care: it reaches every output through the sum) */                       \
        float max = x[0];                                                                                    \
        int64_t i = 0;                                                                                       \
        if (n >= 4 * L) {                                                                                    \
            V m0 = LOAD(x), m1 = LOAD(x + L), m2 = LOAD(x + 2 * L), m3 = LOAD(x + 3 * L);                    \
            for (i = 4 * L; i + 4 * L <= n; i += 4 * L) {                                                    \
                m0 = MAX(m0, LOAD(x + i));                                                                   \
                m1 = MAX(m1, LOAD(x + i + L));                                                               \
                m2 = MAX(m2, LOAD(x + i + 2 * L));                                                           \
                m3 = MAX(m3, LOAD(x + i + 3 * L));                                                           \
            }                                                                                                \
            float lanes[L];                                                                                  \
            STORE(lanes, MAX(MAX(m0, m1), MAX(m2, m3)));                                                     \
            for (int j = 0; j < L; j++) max = lanes[j] > max ? lanes[j] : max;                               \
        }                                                                                                    \
        for (; i < n; i++) max = x[i] > max ? x[i] : max;                                                    \
        /* exp(x - max), summed (and stored, for softmax); four vectors a step for independent chains */     \
        const V vmax = SET(max);                                                                             \
        V s0 = SET(0.0f), s1 = SET(0.0f), s2 = SET(0.0f), s3 = SET(0.0f);                                    \
        for (i = 0; i + 4 * L <= n; i += 4 * L) {                                                            \
            const V e0 = EXP(SUB(LOAD(x + i), vmax)), e1 = EXP(SUB(LOAD(x + i + L), vmax));                  \
            const V e2 = EXP(SUB(LOAD(x + i + 2 * L), vmax)), e3 = EXP(SUB(LOAD(x + i + 3 * L), vmax));      \
            if (op == FT_SOFTMAX) {                                                                          \
                STORE(y + i, e0);                                                                            \
                STORE(y + i + L, e1);                                                                        \
                STORE(y + i + 2 * L, e2);                                                                    \
                STORE(y + i + 3 * L, e3);                                                                    \
            }                                                                                                \
            s0 = ADD(s0, e0);                                                                                \
            s1 = ADD(s1, e1);                                                                                \
            s2 = ADD(s2, e2);                                                                                \
            s3 = ADD(s3, e3);                                                                                \
        }                                                                                                    \
        for (; i < n; i += L) { /* the tail, a vector at a time through a padded buffer (-inf: exp 0) */    \
            float pad[L];                                                                                    \
            for (int j = 0; j < L; j++) pad[j] = i + j < n ? x[i + j] : -INFINITY;                           \
            const V e = EXP(SUB(LOAD(pad), vmax));                                                           \
            STORE(pad, e);                                                                                   \
            if (op == FT_SOFTMAX)                                                                            \
                for (int j = 0; j < L && i + j < n; j++) y[i + j] = pad[j];                                  \
            s0 = ADD(s0, e);                                                                                 \
        }                                                                                                    \
        float sums[L];                                                                                       \
        STORE(sums, ADD(ADD(s0, s1), ADD(s2, s3)));                                                          \
        double total = 0;                                                                                    \
        for (int j = 0; j < L; j++) total += sums[j];                                                        \
        const float sum = (float)total;                                                                      \
        if (op == FT_SOFTMAX) {                                                                              \
            const float inverse = 1.0f / sum;                                                                \
            const V scale = SET(inverse);                                                                    \
            for (i = 0; i + L <= n; i += L) STORE(y + i, MUL(LOAD(y + i), scale));                           \
            for (; i < n; i++) y[i] = y[i] * inverse;                                                        \
        } else {                                                                                             \
            const float log_sum = logf(sum);                                                                 \
            const V vlog = SET(log_sum);                                                                     \
            for (i = 0; i + L <= n; i += L) STORE(y + i, SUB(SUB(LOAD(x + i), vmax), vlog));                 \
            for (; i < n; i++) y[i] = (x[i] - max) - log_sum;                                                \
        }                                                                                                    \
    }                                                                                                        \
    TARGET static void ft_softmax_columns_f32_##ISA(int op, const float *x, float *y, int64_t size,          \
                                                     int64_t inner, int64_t width) {                         \
        for (int64_t j = 0; j < width; j += L) {                                                             \
            const float *xc = x + j;                                                                         \
            float *yc = y + j;                                                                               \
            V max = LOAD(xc);                                                                                \
            for (int64_t d = 1; d < size; d++) max = MAX(max, LOAD(xc + d * inner));                         \
            /* a NaN the maximum dropped reaches the outputs through the sum */                             \
            V sum = SET(0.0f);                                                                               \
            for (int64_t d = 0; d < size; d++) {                                                             \
                const V e = EXP(SUB(LOAD(xc + d * inner), max));                                             \
                if (op == FT_SOFTMAX) STORE(yc + d * inner, e);                                              \
                sum = ADD(sum, e);                                                                           \
            }                                                                                                \
            if (op == FT_SOFTMAX) {                                                                          \
                const V scale = DIV(SET(1.0f), sum);                                                         \
                for (int64_t d = 0; d < size; d++) STORE(yc + d * inner, MUL(LOAD(yc + d * inner), scale));  \
            } else {                                                                                         \
                float sums[L];                                                                               \
                STORE(sums, sum);                                                                            \
                for (int k = 0; k < L; k++) sums[k] = logf(sums[k]);                                         \
                const V log_sum = LOAD(sums);                                                                \
                for (int64_t d = 0; d < size; d++)                                                           \
                    STORE(yc + d * inner, SUB(SUB(LOAD(xc + d * inner), max), log_sum));                     \
            }                                                                                                \
        }                                                                                                    \
    }                                                                                                        \
    static const ft_softmax_kernels ft_softmax_##ISA = {ft_softmax_rows_f32_##ISA, ft_softmax_columns_f32_##ISA, L};

/* ---- the baseline: GCC vector extensions over 16-byte vectors (SSE2 on x86) ---- */
typedef float ft_sm_f32x4 __attribute__((vector_size(16)));
typedef int32_t ft_sm_i32x4 __attribute__((vector_size(16)));
typedef uint32_t ft_sm_u32x4 __attribute__((vector_size(16)));
typedef float ft_sm_f32x4u __attribute__((vector_size(16), aligned(4), may_alias));

static inline ft_sm_f32x4 ft_sm_base_load(const float *p) { return *(const ft_sm_f32x4u *)p; }
static inline void ft_sm_base_store(float *p, ft_sm_f32x4 v) { *(ft_sm_f32x4u *)p = v; }
static inline ft_sm_f32x4 ft_sm_base_set(float v) { return (ft_sm_f32x4){v, v, v, v}; }
static inline ft_sm_f32x4 ft_sm_base_max(ft_sm_f32x4 a, ft_sm_f32x4 b) {
    const ft_sm_i32x4 take = b > a;
    return (ft_sm_f32x4)((take & (ft_sm_i32x4)b) | (~take & (ft_sm_i32x4)a));
}
static inline ft_sm_f32x4 ft_sm_base_exp(ft_sm_f32x4 x) {
    const ft_sm_i32x4 keep = ~(x < FT_EXP_LOW); /* x >= low, or NaN */
    const ft_sm_i32x4 small = x < FT_EXP_LOW;
    const ft_sm_f32x4 xc = (ft_sm_f32x4)((small & (ft_sm_i32x4)ft_sm_base_set(FT_EXP_LOW)) | (~small & (ft_sm_i32x4)x));
    const ft_sm_f32x4 t = (xc * FT_EXP_LOG2E + 12582912.0f) - 12582912.0f; /* round to nearest: 1.5 * 2^23 */
    const ft_sm_f32x4 r = (xc - t * FT_EXP_LN2_HI) - t * FT_EXP_LN2_LO;
    ft_sm_f32x4 p = r * FT_EXP_P0 + FT_EXP_P1;
    p = p * r + FT_EXP_P2;
    p = p * r + FT_EXP_P3;
    p = p * r + FT_EXP_P4;
    p = p * r + FT_EXP_P5;
    p = p * (r * r) + r + 1.0f;
    /* a NaN lane converts to INT_MIN; its product stays NaN whatever the scale */
    const ft_sm_i32x4 q = __builtin_convertvector(t, ft_sm_i32x4);
    const ft_sm_f32x4 e = p * (ft_sm_f32x4)((ft_sm_u32x4)(q + 127) << 23); /* unsigned: no signed-shift UB */
    return (ft_sm_f32x4)(keep & (ft_sm_i32x4)e);
}
#define FT_SM_BASE_ADD(a, b) ((a) + (b))
#define FT_SM_BASE_SUB(a, b) ((a) - (b))
#define FT_SM_BASE_MUL(a, b) ((a) * (b))
#define FT_SM_BASE_DIV(a, b) ((a) / (b))
FT_DEFINE_SOFTMAX_KERNELS(base, , ft_sm_f32x4, 4, ft_sm_base_load, ft_sm_base_store, ft_sm_base_set, FT_SM_BASE_ADD,
                          FT_SM_BASE_SUB, FT_SM_BASE_MUL, ft_sm_base_max, ft_sm_base_exp, FT_SM_BASE_DIV)

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* ---- AVX2 + FMA ---- */
#define FT_SM_AVX2 __attribute__((target("avx2,fma")))
FT_SM_AVX2 static inline __m256 ft_sm_avx2_exp(__m256 x) {
    const __m256 xc = _mm256_max_ps(_mm256_set1_ps(FT_EXP_LOW), x);
    const __m256 t = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(FT_EXP_LOG2E)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(t, _mm256_set1_ps(FT_EXP_LN2_HI), xc);
    r = _mm256_fnmadd_ps(t, _mm256_set1_ps(FT_EXP_LN2_LO), r);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(FT_EXP_P0), r, _mm256_set1_ps(FT_EXP_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(FT_EXP_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(FT_EXP_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(FT_EXP_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(FT_EXP_P5));
    p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
    const __m256i q = _mm256_cvttps_epi32(t);
    const __m256 e = _mm256_mul_ps(p, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(q, _mm256_set1_epi32(127)), 23)));
    return _mm256_and_ps(_mm256_cmp_ps(x, _mm256_set1_ps(FT_EXP_LOW), _CMP_NLT_UQ), e);
}
#define FT_SM_AVX2_STORE(p, v) _mm256_storeu_ps(p, v)
FT_DEFINE_SOFTMAX_KERNELS(avx2, FT_SM_AVX2, __m256, 8, _mm256_loadu_ps, FT_SM_AVX2_STORE, _mm256_set1_ps, _mm256_add_ps,
                          _mm256_sub_ps, _mm256_mul_ps, _mm256_max_ps, ft_sm_avx2_exp, _mm256_div_ps)

/* ---- AVX-512 ---- */
#define FT_SM_AVX512 __attribute__((target("avx512f")))
FT_SM_AVX512 static inline __m512 ft_sm_avx512_exp(__m512 x) {
    const __m512 xc = _mm512_max_ps(_mm512_set1_ps(FT_EXP_LOW), x);
    const __m512 t = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(FT_EXP_LOG2E)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(t, _mm512_set1_ps(FT_EXP_LN2_HI), xc);
    r = _mm512_fnmadd_ps(t, _mm512_set1_ps(FT_EXP_LN2_LO), r);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(FT_EXP_P0), r, _mm512_set1_ps(FT_EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(FT_EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(FT_EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(FT_EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(FT_EXP_P5));
    p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    const __m512 e = _mm512_scalef_ps(p, t);
    return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(FT_EXP_LOW), _CMP_NLT_UQ), e);
}
#define FT_SM_AVX512_STORE(p, v) _mm512_storeu_ps(p, v)
FT_DEFINE_SOFTMAX_KERNELS(avx512, FT_SM_AVX512, __m512, 16, _mm512_loadu_ps, FT_SM_AVX512_STORE, _mm512_set1_ps,
                          _mm512_add_ps, _mm512_sub_ps, _mm512_mul_ps, _mm512_max_ps, ft_sm_avx512_exp, _mm512_div_ps)
#endif

static const ft_softmax_kernels *ft_softmax_pick(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    switch (ft_simd_level()) { /* the SIMD level shared with the elementwise kernels */
    case 2: return &ft_softmax_avx512;
    case 1: return &ft_softmax_avx2;
    default: return &ft_softmax_base;
    }
#else
    return &ft_softmax_base;
#endif
}

/* The strided loops: float64 (libm exp) and float32 columns left over from the vector width.
 * One column: elements x[d * inner], d < size. */
#define FT_DEFINE_SOFTMAX_COLUMN(SUFFIX, T, EXP, LOG)                                                        \
    static void ft_softmax_column_##SUFFIX(int op, const T *x, T *y, int64_t size, int64_t inner) {          \
        T max = x[0];                                                                                        \
        for (int64_t d = 1; d < size; d++) max = x[d * inner] > max ? x[d * inner] : max;                    \
        T sum = 0;                                                                                           \
        for (int64_t d = 0; d < size; d++) {                                                                 \
            const T e = EXP(x[d * inner] - max);                                                             \
            if (op == FT_SOFTMAX) y[d * inner] = e;                                                          \
            sum += e;                                                                                        \
        }                                                                                                    \
        if (op == FT_SOFTMAX) {                                                                              \
            const T scale = (T)1 / sum;                                                                      \
            for (int64_t d = 0; d < size; d++) y[d * inner] *= scale;                                        \
        } else {                                                                                             \
            const T log_sum = LOG(sum);                                                                      \
            for (int64_t d = 0; d < size; d++) y[d * inner] = (x[d * inner] - max) - log_sum;                \
        }                                                                                                    \
    }
FT_DEFINE_SOFTMAX_COLUMN(f32, float, expf, logf)
FT_DEFINE_SOFTMAX_COLUMN(f64, double, exp, log)

typedef struct {
    int op, dtype;
    int64_t size, inner, blocks; /* blocks: column blocks per outer index */
    int64_t block;               /* columns per block (a multiple of the vector width, or all) */
    const char *x;
    char *y;
    const ft_softmax_kernels *kernels;
} ft_softmax_job;

/* Tasks are (outer index, column block) pairs, blocks fastest. */
static void ft_softmax_range(void *ctx, int64_t begin, int64_t end) {
    const ft_softmax_job *job = (const ft_softmax_job *)ctx;
    const int64_t size = job->size, inner = job->inner;
    const size_t itemsize = ft_itemsize(job->dtype);
    for (int64_t t = begin; t < end; t++) {
        const int64_t o = t / job->blocks, j0 = (t % job->blocks) * job->block;
        const int64_t width = inner - j0 < job->block ? inner - j0 : job->block;
        const int64_t offset = (o * size * inner + j0) * (int64_t)itemsize;
        const char *x = job->x + offset;
        char *y = job->y + offset;
        if (job->dtype == FT_FLOAT64) {
            for (int64_t j = 0; j < width; j++)
                ft_softmax_column_f64(job->op, (const double *)x + j, (double *)y + j, size, inner);
            continue;
        }
        if (inner == 1) {
            job->kernels->rows_f32(job->op, (const float *)x, (float *)y, size);
            continue;
        }
        const int64_t vector_width = width / job->kernels->lanes * job->kernels->lanes;
        if (vector_width)
            job->kernels->columns_f32(job->op, (const float *)x, (float *)y, size, inner, vector_width);
        for (int64_t j = vector_width; j < width; j++)
            ft_softmax_column_f32(job->op, (const float *)x + j, (float *)y + j, size, inner);
    }
}

int ft_softmax(int op, int dtype, int64_t outer, int64_t size, int64_t inner, intptr_t in, intptr_t out) {
    static const char *const names[] = {"softmax", "log_softmax"};
    _Static_assert(sizeof names / sizeof names[0] == FT_SOFTMAX_COUNT, "softmax name table out of date");
    if (op < 0 || op >= FT_SOFTMAX_COUNT) return ft_set_error(FT_ERR_UNSUPPORTED, "softmax: unknown op %d", op);
    if (outer < 0 || size < 0 || inner < 0) return ft_set_error(FT_ERR_RUNTIME, "%s: negative size", names[op]);
    if (dtype != FT_FLOAT32 && dtype != FT_FLOAT64)
        return ft_set_error(FT_ERR_UNSUPPORTED, "\"%s_%skernel_impl\" not implemented for '%s'", names[op],
                            inner == 1 ? "lastdim_" : "", ft_is_valid_dtype(dtype) ? ft_dtype_name(dtype) : "?");
    if (outer == 0 || size == 0 || inner == 0) return FT_OK;
    ft_softmax_job job = {op, dtype, size, inner, 1, inner, (const char *)in, (char *)out, ft_softmax_pick()};
    /* columns in blocks of 64 (a multiple of every vector width) so a thread's writes stay on its cache lines */
    if (inner > 64) {
        job.block = 64;
        job.blocks = (inner + 63) / 64;
    }
    const int64_t work = size * job.block;
    const int64_t grain = work >= FT_SOFTMAX_GRAIN ? 1 : (FT_SOFTMAX_GRAIN + work - 1) / work;
    return ft_parallel_for(outer * job.blocks, grain, ft_softmax_range, &job);
}
