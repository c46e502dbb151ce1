/* Matrix products: out[b] = beta*out[b] + alpha*(a[b] @ b[b]) with any strides.
 *
 * Floating dtypes use a cache-blocked GEMM in the style of BLIS/GotoBLAS: the
 * K x N operand is packed in KC x NC panels of NR-wide column strips, the M x K
 * operand in MC x KC blocks of MR-high row strips, and a register-blocked
 * MR x NR micro-kernel (AVX-512, AVX2+FMA, or portable C, picked at run time)
 * accumulates in the input's precision, as BLAS does. Matrix-vector shapes
 * (m == 1 or n == 1) skip packing and run dot/axpy loops. Integer dtypes
 * use a plain loop with wrapping (unsigned 64-bit) arithmetic.
 *
 * beta == 0 never reads out (NaN there is ignored), like BLAS. A later BLAS
 * backend replaces ft_gemm_floating only; strides, batching and edge cases stay here.
 */
#include "ft_internal.h"

#include <stdlib.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define FT_X86 1
#else
#define FT_X86 0
#endif

#define FT_GEMM_MC 144   /* rows of a packed A block (a multiple of every MR) */
#define FT_GEMM_KC 256   /* depth of a packed block */
#define FT_GEMM_NC 2048  /* columns of a packed B panel (a multiple of every NR) */
#define FT_GEMM_MAX_MR 12
#define FT_GEMM_MAX_NR 32
#define FT_GEMM_SMALL 4096 /* m*n*k below this: no packing */

/* A micro-kernel: c[0..mr) x [0..nr) (row stride ldc, contiguous rows) = (accumulate ? c : 0) + alpha * A·B
 * over kc steps of packed a (mr per step) and packed b (nr per step). */
typedef void (*ft_kernel_f32)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, float alpha,
                              int accumulate);
typedef void (*ft_kernel_f64)(int64_t kc, const double *a, const double *b, double *c, int64_t ldc, double alpha,
                              int accumulate);

typedef struct {
    int mr_f32, nr_f32, mr_f64, nr_f64;
    ft_kernel_f32 f32;
    ft_kernel_f64 f64;
} ft_gemm_isa;

/* ---- portable micro-kernels (the compiler vectorises the NR loop) ---- */
#define FT_GENERIC_MR 4
#define FT_GENERIC_NR 8
#define FT_DEFINE_GENERIC_KERNEL(NAME, T)                                                                    \
    static void NAME(int64_t kc, const T *restrict a, const T *restrict b, T *restrict c, int64_t ldc,       \
                     T alpha, int accumulate) {                                                              \
        T acc[FT_GENERIC_MR][FT_GENERIC_NR] = {{0}};                                                         \
        for (int64_t p = 0; p < kc; p++)                                                                     \
            for (int i = 0; i < FT_GENERIC_MR; i++)                                                          \
                for (int j = 0; j < FT_GENERIC_NR; j++)                                                  \
                    acc[i][j] += a[p * FT_GENERIC_MR + i] * b[p * FT_GENERIC_NR + j];                    \
        for (int i = 0; i < FT_GENERIC_MR; i++)                                                              \
            for (int j = 0; j < FT_GENERIC_NR; j++)                                                          \
                c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + alpha * acc[i][j];                      \
    }
FT_DEFINE_GENERIC_KERNEL(ft_kernel_generic_f32, float)
FT_DEFINE_GENERIC_KERNEL(ft_kernel_generic_f64, double)

#if FT_X86
/* An MR x (2 vectors) register-blocked micro-kernel: 2*MR vector accumulators, one broadcast of
 * A and two loads of B per step, fused multiply-adds. */
#define FT_PRAGMA(x) _Pragma(#x)
#define FT_UNROLL(n) FT_PRAGMA(GCC unroll n)
#define FT_DEFINE_SIMD_KERNEL(NAME, TARGET, MR, T, V, LANES, LOAD, STORE, SET1, FMADD, MUL)                  \
    __attribute__((target(TARGET))) static void NAME(int64_t kc, const T *restrict a, const T *restrict b,   \
                                                      T *restrict c, int64_t ldc, T alpha, int accumulate) { \
        V acc[MR][2];                                                                                        \
        for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = SET1((T)0);                                     \
        for (int64_t p = 0; p < kc; p++) {                                                                   \
            const V b0 = LOAD(b + p * 2 * LANES), b1 = LOAD(b + p * 2 * LANES + LANES);                      \
            const T *ap = a + p * MR;                                                                        \
            FT_UNROLL(MR) for (int i = 0; i < MR; i++) {                                                     \
                const V ai = SET1(ap[i]);                                                                    \
                acc[i][0] = FMADD(ai, b0, acc[i][0]);                                                        \
                acc[i][1] = FMADD(ai, b1, acc[i][1]);                                                        \
            }                                                                                                \
        }                                                                                                    \
        const V va = SET1(alpha);                                                                            \
        for (int i = 0; i < MR; i++) {                                                                       \
            T *ci = c + i * ldc;                                                                             \
            if (accumulate) {                                                                                \
                STORE(ci, FMADD(va, acc[i][0], LOAD(ci)));                                                   \
                STORE(ci + LANES, FMADD(va, acc[i][1], LOAD(ci + LANES)));                                   \
            } else {                                                                                         \
                STORE(ci, MUL(va, acc[i][0]));                                                               \
                STORE(ci + LANES, MUL(va, acc[i][1]));                                                       \
            }                                                                                                \
        }                                                                                                    \
    }
/* AVX-512: 12 x 32 floats / 12 x 16 doubles in 24 zmm accumulators */
FT_DEFINE_SIMD_KERNEL(ft_kernel_avx512_f32, "avx512f", 12, float, __m512, 16, _mm512_loadu_ps, _mm512_storeu_ps,
                      _mm512_set1_ps, _mm512_fmadd_ps, _mm512_mul_ps)
FT_DEFINE_SIMD_KERNEL(ft_kernel_avx512_f64, "avx512f", 12, double, __m512d, 8, _mm512_loadu_pd, _mm512_storeu_pd,
                      _mm512_set1_pd, _mm512_fmadd_pd, _mm512_mul_pd)
/* AVX2 + FMA: 6 x 16 floats / 6 x 8 doubles in 12 ymm accumulators */
FT_DEFINE_SIMD_KERNEL(ft_kernel_avx2_f32, "avx2,fma", 6, float, __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps,
                      _mm256_set1_ps, _mm256_fmadd_ps, _mm256_mul_ps)
FT_DEFINE_SIMD_KERNEL(ft_kernel_avx2_f64, "avx2,fma", 6, double, __m256d, 4, _mm256_loadu_pd, _mm256_storeu_pd,
                      _mm256_set1_pd, _mm256_fmadd_pd, _mm256_mul_pd)
#endif

static const ft_gemm_isa *ft_gemm_pick(void) {
    static const ft_gemm_isa generic = {FT_GENERIC_MR, FT_GENERIC_NR, FT_GENERIC_MR, FT_GENERIC_NR,
                                        ft_kernel_generic_f32, ft_kernel_generic_f64};
#if FT_X86
    static const ft_gemm_isa avx512 = {12, 32, 12, 16, ft_kernel_avx512_f32, ft_kernel_avx512_f64};
    static const ft_gemm_isa avx2 = {6, 16, 6, 8, ft_kernel_avx2_f32, ft_kernel_avx2_f64};
    static const ft_gemm_isa *chosen = NULL;
    if (!chosen) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f")) chosen = &avx512;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) chosen = &avx2;
        else chosen = &generic;
    }
    return chosen;
#else
    return &generic;
#endif
}

/* The packing workspace: one per thread, grown on demand through the allocator and kept. */
static _Thread_local char *ft_gemm_workspace;
static _Thread_local int64_t ft_gemm_workspace_bytes;

static void *ft_gemm_scratch(int64_t nbytes) {
    if (nbytes > ft_gemm_workspace_bytes) {
        if (ft_gemm_workspace) ft_free((intptr_t)ft_gemm_workspace, ft_gemm_workspace_bytes);
        ft_gemm_workspace = (char *)ft_alloc(nbytes, 0);
        ft_gemm_workspace_bytes = ft_gemm_workspace ? nbytes : 0;
    }
    return ft_gemm_workspace;
}

/* An unpacked product, row by row: row i of out gets sum_p a[i,p] * b[p,:] accumulated in ACC
 * (each element widened by WIDEN), then out = FINISH(old out, sum) with alpha and beta. Small
 * floating products and every integer product use it. */
#define FT_DEFINE_ROW_GEMM(NAME, T, ACC, WIDEN, FINISH)                                                      \
    static void NAME(int64_t m, int64_t n, int64_t k, const T *a, int64_t ars, int64_t acs,                  \
                     const T *b, int64_t brs, int64_t bcs, T *c, int64_t crs, int64_t ccs, ACC alpha, ACC beta) { \
        ACC acc[64];                                                                                         \
        for (int64_t i = 0; i < m; i++)                                                                      \
            for (int64_t j0 = 0; j0 < n; j0 += 64) {                                                         \
                const int64_t w = n - j0 < 64 ? n - j0 : 64;                                                 \
                for (int64_t j = 0; j < w; j++) acc[j] = 0;                                                  \
                for (int64_t p = 0; p < k; p++) {                                                            \
                    const ACC av = WIDEN(a[i * ars + p * acs]);                                              \
                    const T *bp = b + p * brs + j0 * bcs;                                                    \
                    for (int64_t j = 0; j < w; j++) acc[j] += av * WIDEN(bp[j * bcs]);                       \
                }                                                                                            \
                for (int64_t j = 0; j < w; j++) {                                                            \
                    T *o = c + i * crs + (j0 + j) * ccs;                                                     \
                    *o = FINISH(*o, acc[j]);                                                                 \
                }                                                                                            \
            }                                                                                                \
    }

#define FT_SAME(x) (x)
#define FT_FLOATING_FINISH(old, sum) ((beta == 0 ? 0 : beta * (old)) + alpha * (sum))

/* ---- typed GEMM for floating dtypes ---- */
#define FT_DEFINE_GEMM(SUFFIX, T, KERNEL_T)                                                                  \
    FT_DEFINE_ROW_GEMM(ft_gemm_small_##SUFFIX, T, T, FT_SAME, FT_FLOATING_FINISH)                            \
    /* out = beta * out (beta == 0 writes zeros without reading out) */                                      \
    static void ft_scale_##SUFFIX(int64_t m, int64_t n, T *c, int64_t rs, int64_t cs, T beta) {              \
        if (beta == 1) return;                                                                               \
        for (int64_t i = 0; i < m; i++)                                                                      \
            for (int64_t j = 0; j < n; j++) c[i * rs + j * cs] = beta == 0 ? (T)0 : beta * c[i * rs + j * cs]; \
    }                                                                                                        \
    /* Pack rows [0, mc) x depth [0, kc) of A into MR-high strips, zero-padded. */                           \
    static void ft_pack_a_##SUFFIX(int64_t mc, int64_t kc, const T *a, int64_t rs, int64_t cs, int mr, T *dst) { \
        for (int64_t i0 = 0; i0 < mc; i0 += mr) {                                                            \
            const int64_t rows = mc - i0 < mr ? mc - i0 : mr;                                                \
            for (int64_t p = 0; p < kc; p++) {                                                               \
                int64_t i = 0;                                                                               \
                for (; i < rows; i++) dst[p * mr + i] = a[(i0 + i) * rs + p * cs];                           \
                for (; i < mr; i++) dst[p * mr + i] = 0;                                                     \
            }                                                                                                \
            dst += kc * mr;                                                                                  \
        }                                                                                                    \
    }                                                                                                        \
    /* Pack depth [0, kc) x columns [0, nc) of B into NR-wide strips, zero-padded. */                        \
    static void ft_pack_b_##SUFFIX(int64_t kc, int64_t nc, const T *b, int64_t rs, int64_t cs, int nr, T *dst) { \
        for (int64_t j0 = 0; j0 < nc; j0 += nr) {                                                            \
            const int64_t cols = nc - j0 < nr ? nc - j0 : nr;                                                \
            for (int64_t p = 0; p < kc; p++) {                                                               \
                const T *row = b + p * rs + j0 * cs;                                                         \
                int64_t j = 0;                                                                               \
                if (cs == 1) for (; j < cols; j++) dst[p * nr + j] = row[j];                                 \
                else for (; j < cols; j++) dst[p * nr + j] = row[j * cs];                                    \
                for (; j < nr; j++) dst[p * nr + j] = 0;                                                     \
            }                                                                                                \
            dst += kc * nr;                                                                                  \
        }                                                                                                    \
    }                                                                                                        \
    /* sum_p x[p*incx] * y[p*incy] in lanes */                                                               \
    static T ft_dot_##SUFFIX(int64_t k, const T *x, int64_t incx, const T *y, int64_t incy) {                \
        T lanes[16] = {0};                                                                                   \
        int64_t p = 0;                                                                                       \
        if (incx == 1 && incy == 1)                                                                          \
            for (; p + 16 <= k; p += 16)                                                                     \
                for (int j = 0; j < 16; j++) lanes[j] += x[p + j] * y[p + j];                                \
        for (; p < k; p++) lanes[p & 15] += x[p * incx] * y[p * incy];                                       \
        for (int h = 8; h > 0; h /= 2)                                                                       \
            for (int j = 0; j < h; j++) lanes[j] += lanes[j + h];                                            \
        return lanes[0];                                                                                     \
    }                                                                                                        \
    /* m == 1 or n == 1: dot products, or axpy over the operand's contiguous direction */                    \
    static void ft_gemv_##SUFFIX(int64_t m, int64_t n, int64_t k, const T *a, int64_t ars, int64_t acs,      \
                                 const T *b, int64_t brs, int64_t bcs, T *c, int64_t crs, int64_t ccs,       \
                                 T alpha, T beta) {                                                          \
        if (n == 1 && acs != 1 && ars == 1 && k > 1) {                                                       \
            /* c[:] += A[:, p] * b[p] down contiguous columns */                                             \
            ft_scale_##SUFFIX(m, 1, c, crs, ccs, beta);                                                      \
            for (int64_t p = 0; p < k; p++) {                                                                \
                const T s = alpha * b[p * brs];                                                              \
                const T *col = a + p * acs;                                                                  \
                for (int64_t i = 0; i < m; i++) c[i * crs] += s * col[i];                                    \
            }                                                                                                \
            return;                                                                                          \
        }                                                                                                    \
        if (m == 1 && bcs == 1 && k > 1) {                                                                   \
            ft_scale_##SUFFIX(1, n, c, crs, ccs, beta);                                                      \
            for (int64_t p = 0; p < k; p++) {                                                                \
                const T s = alpha * a[p * acs];                                                              \
                const T *row = b + p * brs;                                                                  \
                for (int64_t j = 0; j < n; j++) c[j * ccs] += s * row[j];                                    \
            }                                                                                                \
            return;                                                                                          \
        }                                                                                                    \
        for (int64_t i = 0; i < m; i++)                                                                      \
            for (int64_t j = 0; j < n; j++) {                                                                \
                T *o = c + i * crs + j * ccs;                                                                \
                const T d = ft_dot_##SUFFIX(k, a + i * ars, acs, b + j * bcs, brs);                          \
                *o = (beta == 0 ? (T)0 : beta * *o) + alpha * d;                                             \
            }                                                                                                \
    }                                                                                                        \
    static int ft_gemm_##SUFFIX(int64_t m, int64_t n, int64_t k, const T *a, int64_t ars, int64_t acs,       \
                                const T *b, int64_t brs, int64_t bcs, T *c, int64_t crs, int64_t ccs,        \
                                T alpha, T beta) {                                                           \
        if (k == 0 || alpha == 0) { /* nothing to add: out = beta * out */                                   \
            ft_scale_##SUFFIX(m, n, c, crs, ccs, beta);                                                      \
            return FT_OK;                                                                                    \
        }                                                                                                    \
        if (m == 1 || n == 1) {                                                                              \
            ft_gemv_##SUFFIX(m, n, k, a, ars, acs, b, brs, bcs, c, crs, ccs, alpha, beta);                   \
            return FT_OK;                                                                                    \
        }                                                                                                    \
        if (m < FT_GEMM_SMALL && n < FT_GEMM_SMALL && k < FT_GEMM_SMALL && m * n * k < FT_GEMM_SMALL) {      \
            ft_gemm_small_##SUFFIX(m, n, k, a, ars, acs, b, brs, bcs, c, crs, ccs, alpha, beta);             \
            return FT_OK;                                                                                    \
        }                                                                                                    \
        const ft_gemm_isa *isa = ft_gemm_pick();                                                             \
        const int mr = isa->mr_##SUFFIX, nr = isa->nr_##SUFFIX;                                              \
        const KERNEL_T kernel = isa->SUFFIX;                                                                 \
        const int64_t nc_max = n < FT_GEMM_NC ? (n + nr - 1) / nr * nr : FT_GEMM_NC;                         \
        const int64_t kc_max = k < FT_GEMM_KC ? k : FT_GEMM_KC;                                              \
        const int64_t mc_max = m < FT_GEMM_MC ? (m + mr - 1) / mr * mr : FT_GEMM_MC;                         \
        T *pack_b = (T *)ft_gemm_scratch((int64_t)sizeof(T) * (kc_max * nc_max + kc_max * mc_max) + 64);     \
        if (!pack_b) return FT_ERR_NOMEM;                                                                    \
        T *pack_a = pack_b + kc_max * nc_max;                                                                \
        _Alignas(64) T tile[FT_GEMM_MAX_MR * FT_GEMM_MAX_NR];                                                \
        if (beta != 0) ft_scale_##SUFFIX(m, n, c, crs, ccs, beta);                                           \
        for (int64_t j0 = 0; j0 < n; j0 += FT_GEMM_NC) {                                                     \
            const int64_t nc = n - j0 < FT_GEMM_NC ? n - j0 : FT_GEMM_NC;                                    \
            for (int64_t p0 = 0; p0 < k; p0 += FT_GEMM_KC) {                                                 \
                const int64_t kc = k - p0 < FT_GEMM_KC ? k - p0 : FT_GEMM_KC;                                \
                const int accumulate = beta != 0 || p0 > 0;                                                  \
                ft_pack_b_##SUFFIX(kc, nc, b + p0 * brs + j0 * bcs, brs, bcs, nr, pack_b);                   \
                for (int64_t i0 = 0; i0 < m; i0 += FT_GEMM_MC) {                                             \
                    const int64_t mc = m - i0 < FT_GEMM_MC ? m - i0 : FT_GEMM_MC;                            \
                    ft_pack_a_##SUFFIX(mc, kc, a + i0 * ars + p0 * acs, ars, acs, mr, pack_a);               \
                    for (int64_t jr = 0; jr < nc; jr += nr) {                                                \
                        const int64_t cols = nc - jr < nr ? nc - jr : nr;                                    \
                        const T *bp = pack_b + (jr / nr) * kc * nr;                                          \
                        for (int64_t ir = 0; ir < mc; ir += mr) {                                            \
                            const int64_t rows = mc - ir < mr ? mc - ir : mr;                                \
                            const T *ap = pack_a + (ir / mr) * kc * mr;                                      \
                            T *cp = c + (i0 + ir) * crs + (j0 + jr) * ccs;                                   \
                            if (rows == mr && cols == nr && ccs == 1) {                                      \
                                kernel(kc, ap, bp, cp, crs, alpha, accumulate);                              \
                                continue;                                                                    \
                            }                                                                                \
                            /* edge or strided tile: compute into a local tile, add the valid part */        \
                            kernel(kc, ap, bp, tile, nr, alpha, 0);                                          \
                            for (int64_t i = 0; i < rows; i++)                                               \
                                for (int64_t j = 0; j < cols; j++) {                                         \
                                    T *o = cp + i * crs + j * ccs;                                           \
                                    *o = (accumulate ? *o : (T)0) + tile[i * nr + j];                        \
                                }                                                                            \
                        }                                                                                    \
                    }                                                                                        \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
        return FT_OK;                                                                                        \
    }

FT_DEFINE_GEMM(f32, float, ft_kernel_f32)
FT_DEFINE_GEMM(f64, double, ft_kernel_f64)

/* ---- integers: wrapping arithmetic on uint64_t, converted to T on store ---- */
#define FT_WRAP64(x) ((uint64_t)(int64_t)(x))
#define FT_DEFINE_INTEGER_GEMM(SUFFIX, T, NAME)                                                              \
    static inline T ft_finish_##SUFFIX(T old, uint64_t sum, uint64_t alpha, uint64_t beta) {                 \
        return ft_##NAME##_from_i((int64_t)((beta == 0 ? 0 : beta * FT_WRAP64(old)) + alpha * sum));         \
    }                                                                                                        \
    FT_DEFINE_ROW_GEMM(ft_gemm_##SUFFIX, T, uint64_t, FT_WRAP64, FT_INTEGER_FINISH_##SUFFIX)
#define FT_INTEGER_FINISH_u8(old, sum) ft_finish_u8(old, sum, alpha, beta)
#define FT_INTEGER_FINISH_i8(old, sum) ft_finish_i8(old, sum, alpha, beta)
#define FT_INTEGER_FINISH_i16(old, sum) ft_finish_i16(old, sum, alpha, beta)
#define FT_INTEGER_FINISH_i32(old, sum) ft_finish_i32(old, sum, alpha, beta)
#define FT_INTEGER_FINISH_i64(old, sum) ft_finish_i64(old, sum, alpha, beta)
FT_DEFINE_INTEGER_GEMM(u8, uint8_t, uint8)
FT_DEFINE_INTEGER_GEMM(i8, int8_t, int8)
FT_DEFINE_INTEGER_GEMM(i16, int16_t, int16)
FT_DEFINE_INTEGER_GEMM(i32, int32_t, int32)
FT_DEFINE_INTEGER_GEMM(i64, int64_t, int64)

/* Integer alpha/beta arrive as doubles; torch passes them as exact integers. */
static uint64_t ft_wrap_scalar(double v) { return (uint64_t)ft_f2i64(v); }

int ft_matmul(int dtype, int64_t batch, int64_t m, int64_t n, int64_t k,
              intptr_t a, int64_t a_batch_stride, int64_t a_row_stride, int64_t a_col_stride,
              intptr_t b, int64_t b_batch_stride, int64_t b_row_stride, int64_t b_col_stride,
              intptr_t out, int64_t out_batch_stride, int64_t out_row_stride, int64_t out_col_stride,
              double alpha, double beta) {
    if (batch < 0 || m < 0 || n < 0 || k < 0) return ft_set_error(FT_ERR_RUNTIME, "matmul: negative size");
    if (batch == 0 || m == 0 || n == 0) return FT_OK;
    for (int64_t t = 0; t < batch; t++) {
        int rc = FT_OK;
#define FT_MATMUL_CASE(CODE, SUFFIX, T, ALPHA, BETA)                                                         \
    case CODE:                                                                                               \
        rc = ft_gemm_##SUFFIX(m, n, k, (const T *)a + t * a_batch_stride, a_row_stride, a_col_stride,        \
                              (const T *)b + t * b_batch_stride, b_row_stride, b_col_stride,                 \
                              (T *)out + t * out_batch_stride, out_row_stride, out_col_stride, ALPHA, BETA); \
        break;
#define FT_MATMUL_INT_CASE(CODE, SUFFIX, T)                                                                  \
    case CODE:                                                                                               \
        ft_gemm_##SUFFIX(m, n, k, (const T *)a + t * a_batch_stride, a_row_stride, a_col_stride,             \
                         (const T *)b + t * b_batch_stride, b_row_stride, b_col_stride,                      \
                         (T *)out + t * out_batch_stride, out_row_stride, out_col_stride,                    \
                         ft_wrap_scalar(alpha), ft_wrap_scalar(beta));                                       \
        break;
        switch (dtype) {
        FT_MATMUL_CASE(FT_FLOAT32, f32, float, (float)alpha, (float)beta)
        FT_MATMUL_CASE(FT_FLOAT64, f64, double, alpha, beta)
        FT_MATMUL_INT_CASE(FT_UINT8, u8, uint8_t)
        FT_MATMUL_INT_CASE(FT_INT8, i8, int8_t)
        FT_MATMUL_INT_CASE(FT_INT16, i16, int16_t)
        FT_MATMUL_INT_CASE(FT_INT32, i32, int32_t)
        FT_MATMUL_INT_CASE(FT_INT64, i64, int64_t)
        default:
            return ft_set_error(FT_ERR_UNSUPPORTED, "\"addmm_impl_cpu_\" not implemented for '%s'",
                                ft_dtype_name(dtype) ? ft_dtype_name(dtype) : "?");
        }
#undef FT_MATMUL_CASE
#undef FT_MATMUL_INT_CASE
        if (rc == FT_ERR_NOMEM)
            return ft_set_error(FT_ERR_NOMEM, "matmul: could not allocate the packing workspace");
        if (rc) return rc;
    }
    return FT_OK;
}
