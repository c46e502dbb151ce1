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

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
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
    switch (ft_simd_level()) { /* the SIMD level shared with the elementwise kernels */
    case 2: return &avx512;
    case 1: return &avx2;
    default: return &generic;
    }
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

/* ---- an optional external BLAS (OpenBLAS from the scipy-openblas32 wheel) ----
 * Loaded at run time by ft_blas_load (the Python side passes the library path), so the
 * engine builds and runs without it. Only packed-size floating products whose operands
 * each have one unit stride go there; everything else stays on the built-in paths above.
 * The BLAS runs single-threaded on whichever engine thread calls it: ft_matmul splits products
 * over the engine's pool and each piece is one BLAS call. OpenBLAS's own pool is never used
 * (the Python side loads it with OPENBLAS_NUM_THREADS=1): its workers spin between calls and
 * would take the cores the engine's threads run on. */
typedef void (*ft_cblas_sgemm_fn)(int order, int transa, int transb, int m, int n, int k, float alpha,
                                  const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*ft_cblas_dgemm_fn)(int order, int transa, int transb, int m, int n, int k, double alpha,
                                  const double *a, int lda, const double *b, int ldb, double beta, double *c,
                                  int ldc);
typedef void (*ft_blas_threads_fn)(int n);

enum { FT_CBLAS_ROW_MAJOR = 101, FT_CBLAS_NO_TRANS = 111, FT_CBLAS_TRANS = 112 };

static struct {
    _Atomic(ft_cblas_sgemm_fn) sgemm;
    _Atomic(ft_cblas_dgemm_fn) dgemm;
    void *handle;
} ft_blas;

int ft_blas_load(const char *path) {
    if (!path || !*path) {
        atomic_store(&ft_blas.sgemm, NULL);
        atomic_store(&ft_blas.dgemm, NULL);
        return FT_OK;
    }
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) return ft_set_error(FT_ERR_RUNTIME, "could not load the BLAS library: %s", dlerror());
    static const char *const prefixes[] = {"scipy_", ""};
    ft_cblas_sgemm_fn sgemm = NULL;
    ft_cblas_dgemm_fn dgemm = NULL;
    ft_blas_threads_fn threads = NULL;
    for (int i = 0; i < 2 && !(sgemm && dgemm); i++) {
        char name[64];
        snprintf(name, sizeof name, "%scblas_sgemm", prefixes[i]);
        *(void **)&sgemm = dlsym(handle, name);
        snprintf(name, sizeof name, "%scblas_dgemm", prefixes[i]);
        *(void **)&dgemm = dlsym(handle, name);
        snprintf(name, sizeof name, "%sopenblas_set_num_threads", prefixes[i]);
        *(void **)&threads = dlsym(handle, name);
    }
    if (!sgemm || !dgemm) {
        dlclose(handle);
        return ft_set_error(FT_ERR_RUNTIME, "the BLAS library at %s has no cblas_sgemm/cblas_dgemm", path);
    }
    if (threads) threads(1);
    ft_blas.handle = handle; /* kept open: a kernel on another thread may still be inside it */
    atomic_store(&ft_blas.sgemm, sgemm);
    atomic_store(&ft_blas.dgemm, dgemm);
    return FT_OK;
}

int ft_blas_loaded(void) { return atomic_load(&ft_blas.sgemm) != NULL; }

/* One operand's layout for a row-major cblas call: *trans and *ld, or 0 when it has no unit stride. */
static int ft_blas_operand(int64_t rows, int64_t cols, int64_t rs, int64_t cs, int *trans, int *ld) {
    if (cs == 1 && rs >= (cols > 1 ? cols : 1) && rs <= INT32_MAX) {
        *trans = FT_CBLAS_NO_TRANS;
        *ld = (int)rs;
        return 1;
    }
    if (rs == 1 && cs >= (rows > 1 ? rows : 1) && cs <= INT32_MAX) {
        *trans = FT_CBLAS_TRANS;
        *ld = (int)cs;
        return 1;
    }
    return 0;
}

/* The cblas arguments of out = alpha * a @ b + beta * out, or 0 when the strides do not fit. A
 * column-major out is computed as its transpose, out^T = b^T @ a^T. */
typedef struct {
    int m, n, k, transa, transb, lda, ldb, ldc;
    int swap; /* 1: a and b trade places (out^T = b^T a^T) */
} ft_blas_call;

static int ft_blas_plan(int64_t m, int64_t n, int64_t k, int64_t ars, int64_t acs, int64_t brs, int64_t bcs,
                        int64_t crs, int64_t ccs, ft_blas_call *call) {
    if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) return 0;
    if (!(ccs == 1 && crs >= n && crs <= INT32_MAX)) {
        if (!(crs == 1 && ccs >= m && ccs <= INT32_MAX)) return 0;
        /* transpose the problem: rows of out^T are columns of out */
        int64_t t;
        t = m; m = n; n = t;
        t = ars; ars = bcs; bcs = t;
        t = acs; acs = brs; brs = t;
        t = crs; crs = ccs; ccs = t;
        call->swap = 1;
    } else {
        call->swap = 0;
    }
    if (!ft_blas_operand(m, k, ars, acs, &call->transa, &call->lda)) return 0;
    if (!ft_blas_operand(k, n, brs, bcs, &call->transb, &call->ldb)) return 0;
    call->m = (int)m;
    call->n = (int)n;
    call->k = (int)k;
    call->ldc = (int)crs;
    return 1;
}

#define FT_DEFINE_BLAS_GEMM(SUFFIX, T, FIELD)                                                                \
    /* 1 when the BLAS computed the product, 0 when the built-in GEMM must */                                \
    static int ft_blas_gemm_##SUFFIX(int64_t m, int64_t n, int64_t k, const T *a, int64_t ars, int64_t acs,  \
                                     const T *b, int64_t brs, int64_t bcs, T *c, int64_t crs, int64_t ccs,   \
                                     T alpha, T beta) {                                                      \
        const __typeof__(ft_blas.FIELD) gemm_fn = atomic_load_explicit(&ft_blas.FIELD, memory_order_relaxed); \
        ft_blas_call call;                                                                                   \
        if (!gemm_fn || !ft_blas_plan(m, n, k, ars, acs, brs, bcs, crs, ccs, &call)) return 0;              \
        gemm_fn(FT_CBLAS_ROW_MAJOR, call.transa, call.transb, call.m, call.n, call.k, alpha,                 \
                call.swap ? b : a, call.lda, call.swap ? a : b, call.ldb, beta, c, call.ldc);                \
        return 1;                                                                                            \
    }
FT_DEFINE_BLAS_GEMM(f32, float, sgemm)
FT_DEFINE_BLAS_GEMM(f64, double, dgemm)

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
                                T alpha, T beta, void *workspace, int allow_blas) {                          \
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
        if (allow_blas && ft_blas_gemm_##SUFFIX(m, n, k, a, ars, acs, b, brs, bcs, c, crs, ccs, alpha, beta))      \
            return FT_OK;                                                                                    \
        const ft_gemm_isa *isa = ft_gemm_pick();                                                             \
        const int mr = isa->mr_##SUFFIX, nr = isa->nr_##SUFFIX;                                              \
        const KERNEL_T kernel = isa->SUFFIX;                                                                 \
        const int64_t nc_max = n < FT_GEMM_NC ? (n + nr - 1) / nr * nr : FT_GEMM_NC;                         \
        const int64_t kc_max = k < FT_GEMM_KC ? k : FT_GEMM_KC;                                              \
        const int64_t mc_max = m < FT_GEMM_MC ? (m + mr - 1) / mr * mr : FT_GEMM_MC;                         \
        T *pack_b = (T *)(workspace ? workspace                                                              \
                                    : ft_gemm_scratch((int64_t)sizeof(T) * (kc_max * nc_max + kc_max * mc_max) + 64)); \
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

/* ---- the entry point: one product or a batch, split across the thread pool ---- */
#define FT_MATMUL_PARALLEL_MIN (1LL << 21) /* multiply-adds below which one thread does the whole product */

typedef enum { FT_SPLIT_NONE = 0, FT_SPLIT_BATCH, FT_SPLIT_ROWS, FT_SPLIT_COLS } ft_matmul_split;

typedef struct {
    int dtype;
    int64_t m, n, k;
    const char *a, *b;
    char *out;
    int64_t a_bs, a_rs, a_cs, b_bs, b_rs, b_cs, o_bs, o_rs, o_cs; /* elements */
    double alpha, beta;
    int split;
    int64_t batch;
    char *workspace; /* built-in GEMM packing buffers, slot_bytes per thread (NULL: each thread's own) */
    int64_t slot_bytes;
    int slots;
    _Atomic int status;
} ft_matmul_plan;

/* Products t in [t0, t1) of rows [i0, i1) and columns [j0, j1). */
static int ft_matmul_block(const ft_matmul_plan *p, int64_t t0, int64_t t1, int64_t i0, int64_t i1, int64_t j0,
                           int64_t j1, void *workspace) {
    const int64_t m = i1 - i0, n = j1 - j0, k = p->k;
    const size_t size = ft_itemsize(p->dtype);
    for (int64_t t = t0; t < t1; t++) {
        const char *a = p->a + (int64_t)size * (t * p->a_bs + i0 * p->a_rs);
        const char *b = p->b + (int64_t)size * (t * p->b_bs + j0 * p->b_cs);
        char *c = p->out + (int64_t)size * (t * p->o_bs + i0 * p->o_rs + j0 * p->o_cs);
        int rc = FT_OK;
#define FT_MATMUL_CASE(CODE, SUFFIX, T)                                                                      \
    case CODE:                                                                                               \
        rc = ft_gemm_##SUFFIX(m, n, k, (const T *)a, p->a_rs, p->a_cs, (const T *)b, p->b_rs, p->b_cs, (T *)c, \
                              p->o_rs, p->o_cs, (T)p->alpha, (T)p->beta, workspace, 1);                      \
        break;
#define FT_MATMUL_INT_CASE(CODE, SUFFIX, T)                                                                  \
    case CODE:                                                                                               \
        ft_gemm_##SUFFIX(m, n, k, (const T *)a, p->a_rs, p->a_cs, (const T *)b, p->b_rs, p->b_cs, (T *)c,    \
                         p->o_rs, p->o_cs, ft_wrap_scalar(p->alpha), ft_wrap_scalar(p->beta));               \
        break;
        switch (p->dtype) {
        FT_MATMUL_CASE(FT_FLOAT32, f32, float)
        FT_MATMUL_CASE(FT_FLOAT64, f64, double)
        FT_MATMUL_INT_CASE(FT_UINT8, u8, uint8_t)
        FT_MATMUL_INT_CASE(FT_INT8, i8, int8_t)
        FT_MATMUL_INT_CASE(FT_INT16, i16, int16_t)
        FT_MATMUL_INT_CASE(FT_INT32, i32, int32_t)
        FT_MATMUL_INT_CASE(FT_INT64, i64, int64_t)
        default: rc = FT_ERR_UNSUPPORTED;
        }
#undef FT_MATMUL_CASE
#undef FT_MATMUL_INT_CASE
        if (rc) return rc;
    }
    return FT_OK;
}

static void ft_matmul_range(void *ctx, int64_t begin, int64_t end) {
    ft_matmul_plan *p = (ft_matmul_plan *)ctx;
    const int slot = ft_parallel_thread_index();
    void *workspace = p->workspace && slot < p->slots ? p->workspace + slot * p->slot_bytes : NULL;
    int rc;
    switch (p->split) {
    case FT_SPLIT_BATCH: rc = ft_matmul_block(p, begin, end, 0, p->m, 0, p->n, workspace); break;
    case FT_SPLIT_ROWS: rc = ft_matmul_block(p, 0, p->batch, begin, end, 0, p->n, workspace); break;
    case FT_SPLIT_COLS: rc = ft_matmul_block(p, 0, p->batch, 0, p->m, begin, end, workspace); break;
    default: rc = ft_matmul_block(p, 0, p->batch, 0, p->m, 0, p->n, workspace); break;
    }
    if (rc) atomic_store(&p->status, rc);
}

/* Bytes of one thread's packing buffers for the built-in GEMM of an m x n x k float product. */
static int64_t ft_gemm_slot_bytes(int dtype, int64_t m, int64_t n, int64_t k) {
    const ft_gemm_isa *isa = ft_gemm_pick();
    const int mr = dtype == FT_FLOAT32 ? isa->mr_f32 : isa->mr_f64;
    const int nr = dtype == FT_FLOAT32 ? isa->nr_f32 : isa->nr_f64;
    const int64_t nc_max = n < FT_GEMM_NC ? (n + nr - 1) / nr * nr : FT_GEMM_NC;
    const int64_t kc_max = k < FT_GEMM_KC ? k : FT_GEMM_KC;
    const int64_t mc_max = m < FT_GEMM_MC ? (m + mr - 1) / mr * mr : FT_GEMM_MC;
    const int64_t bytes = (int64_t)ft_itemsize(dtype) * (kc_max * nc_max + kc_max * mc_max) + 64;
    return (bytes + 63) / 64 * 64;
}

static int64_t ft_abs_stride(int64_t v) { return v < 0 ? -v : v; }

int ft_matmul(int dtype, int64_t batch, int64_t m, int64_t n, int64_t k,
              intptr_t a, int64_t a_batch_stride, int64_t a_row_stride, int64_t a_col_stride,
              intptr_t b, int64_t b_batch_stride, int64_t b_row_stride, int64_t b_col_stride,
              intptr_t out, int64_t out_batch_stride, int64_t out_row_stride, int64_t out_col_stride,
              double alpha, double beta) {
    if (batch < 0 || m < 0 || n < 0 || k < 0) return ft_set_error(FT_ERR_RUNTIME, "matmul: negative size");
    if (batch == 0 || m == 0 || n == 0) return FT_OK;
    if (dtype == FT_BOOL || !ft_is_valid_dtype(dtype))
        return ft_set_error(FT_ERR_UNSUPPORTED, "\"addmm_impl_cpu_\" not implemented for '%s'",
                            ft_dtype_name(dtype) ? ft_dtype_name(dtype) : "?");
    ft_matmul_plan plan = {dtype, m, n, k, (const char *)a, (const char *)b, (char *)out,
                           a_batch_stride, a_row_stride, a_col_stride, b_batch_stride, b_row_stride, b_col_stride,
                           out_batch_stride, out_row_stride, out_col_stride, alpha, beta, FT_SPLIT_NONE, batch,
                           NULL, 0, 0, FT_OK};

    /* Split the work when it is worth a second thread: across the batch when each product writes
     * its own output (addbmm accumulates every product into one, batch stride 0), else across the
     * rows or the columns of each product, whichever is longer. Each piece is a whole product or a
     * panel of one, so pieces never share an output element. */
    const int threads = ft_get_num_threads();
    int64_t pieces_of = 0, grain = 1;
    if (threads > 1 && (double)batch * (double)m * (double)n * (double)(k ? k : 1) >= (double)FT_MATMUL_PARALLEL_MIN) {
        const bool distinct_batches = ft_abs_stride(out_batch_stride) >= 1 + (m - 1) * ft_abs_stride(out_row_stride) +
                                                                              (n - 1) * ft_abs_stride(out_col_stride);
        if (batch >= threads && distinct_batches) {
            plan.split = FT_SPLIT_BATCH;
            pieces_of = batch;
        } else if (batch == 1 || distinct_batches || out_batch_stride == 0) {
            const bool rows = m >= n;
            plan.split = rows ? FT_SPLIT_ROWS : FT_SPLIT_COLS;
            pieces_of = rows ? m : n;
            if ((rows ? out_row_stride : out_col_stride) == 0) plan.split = FT_SPLIT_NONE;
        }
        if (plan.split != FT_SPLIT_NONE) {
            /* one piece per thread: each piece (BLAS or built-in GEMM) packs its own copy of the shared
             * operand, so fewer, larger pieces pack less (four pieces a thread measured ~20% slower at
             * 512); panels are whole 16-row strips */
            grain = (pieces_of + threads - 1) / threads;
            if (plan.split != FT_SPLIT_BATCH) grain = (grain + 15) / 16 * 16;
            if (grain >= pieces_of) plan.split = FT_SPLIT_NONE;
        }
    }
    if (plan.split != FT_SPLIT_NONE && (dtype == FT_FLOAT32 || dtype == FT_FLOAT64)) {
        /* packing buffers for every thread, from the caller's workspace (kernels on the pool's
         * threads do not allocate) */
        plan.slot_bytes = ft_gemm_slot_bytes(dtype, m, n, k);
        plan.workspace = (char *)ft_gemm_scratch(plan.slot_bytes * threads);
        plan.slots = threads;
        if (!plan.workspace) return ft_set_error(FT_ERR_NOMEM, "matmul: could not allocate the packing workspace");
    }
    if (plan.split == FT_SPLIT_NONE) ft_matmul_range(&plan, 0, 1);
    else ft_parallel_for_threads(pieces_of, grain, threads, ft_matmul_range, &plan);
    const int rc = atomic_load(&plan.status);
    if (rc == FT_ERR_NOMEM) return ft_set_error(FT_ERR_NOMEM, "matmul: could not allocate the packing workspace");
    if (rc == FT_ERR_UNSUPPORTED)
        return ft_set_error(FT_ERR_UNSUPPORTED, "\"addmm_impl_cpu_\" not implemented for '%s'", ft_dtype_name(dtype));
    if (rc) return ft_set_error(rc, "matmul failed");
    return FT_OK;
}
