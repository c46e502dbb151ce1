/*
 * ftorch engine kernels: the C half of the engine under test.
 *
 * A tensor is described by plain facts: dtype, ndim, sizes[], strides[] (in
 * elements, like torch) and the address of its first element (storage data +
 * storage offset already applied). Python binds every call with integer
 * addresses (intptr_t) and int64 arrays, so crossing the cffi boundary costs one
 * call and no per-call cdata construction.
 *
 * Kernels never allocate tensor memory: the caller hands in every output.
 * Allocation lives in one place, ft_alloc/ft_free (alloc.c).
 *
 * Every entry point returns FT_OK or an ft_status code; ft_last_error() holds a
 * torch-style message for the calling thread. C never aborts on user input.
 *
 * Dispatch is two plain levels: a switch on the op, then a switch on the dtype
 * into typed loops. Every kernel honours strides (zero strides broadcast);
 * contiguous loops are fast paths beside the strided ones.
 */
#ifndef FT_H
#define FT_H

#include <stdint.h>
#include <stddef.h>

/* torch allows at most 64 dims in TensorIterator-based kernels; we cap at 32. */
#define FT_MAX_DIMS 32

typedef enum {
    FT_BOOL = 0,
    FT_UINT8,
    FT_INT8,
    FT_INT16,
    FT_INT32,
    FT_INT64,
    FT_FLOAT32,
    FT_FLOAT64,
    FT_DTYPE_COUNT
} ft_dtype;

typedef enum {
    FT_OK = 0,
    FT_ERR_RUNTIME,        /* RuntimeError */
    FT_ERR_VALUE,          /* ValueError */
    FT_ERR_INDEX,          /* IndexError */
    FT_ERR_TYPE,           /* TypeError */
    FT_ERR_ZERO_DIVISION,  /* RuntimeError("ZeroDivisionError"), torch's integer division by zero */
    FT_ERR_NOMEM,          /* RuntimeError: allocation failed */
    FT_ERR_UNSUPPORTED,    /* NotImplementedError: op/dtype pair has no kernel */
    FT_STATUS_COUNT
} ft_status;

/* A plain tensor description used inside the C half. */
typedef struct {
    char *data;
    int32_t dtype;
    int32_t ndim;
    int64_t sizes[FT_MAX_DIMS];
    int64_t strides[FT_MAX_DIMS];
} ft_tensor;

const char *ft_last_error(void);
const char *ft_dtype_name(int dtype);
size_t ft_dtype_size(int dtype);

/* ---- allocation (alloc.c) ---- */
/* 64-byte aligned, zero-filled on request; large blocks are 2 MiB aligned with MADV_HUGEPAGE
 * and cached for reuse when freed. 0 on failure. */
intptr_t ft_alloc(int64_t nbytes, int zero);
void ft_free(intptr_t ptr, int64_t nbytes);
/* The large-block cache: counters, its bound in bytes, and giving it all back to the system. */
typedef enum {
    FT_ALLOC_STAT_LIVE_BLOCKS = 0, FT_ALLOC_STAT_LIVE_BYTES, FT_ALLOC_STAT_CACHED_BYTES, FT_ALLOC_STAT_CACHE_LIMIT,
    FT_ALLOC_STAT_MAPS, FT_ALLOC_STAT_REUSES, FT_ALLOC_STAT_UNMAPS,
    FT_ALLOC_STAT_COUNT
} ft_alloc_stat;
/* Writes min(count, FT_ALLOC_STAT_COUNT) counters, indexed by ft_alloc_stat; returns how many. */
int ft_alloc_stats(int64_t *stats, int count);
/* Sets the bound (nbytes >= 0) and returns the previous one; a negative nbytes only reads it. */
int64_t ft_alloc_set_cache_limit(int64_t nbytes);
void ft_alloc_empty_cache(void);

/* ---- threads (parallel.c) ---- */
/* A kernel body over the index range [begin, end). */
typedef void (*ft_range_fn)(void *ctx, int64_t begin, int64_t end);
int ft_get_num_threads(void);
int ft_set_num_threads(int n);
/* Runs fn over [0, n) split across the pool; ranges shorter than grain are not split. The range
 * is cut into chunks of at least grain (about 4 per thread; chunks of 64 or more are whole
 * multiples of 64) that threads claim as they come free; the caller runs chunks too and returns
 * when all are done. Nested calls (from inside fn) and concurrent callers run inline. */
int ft_parallel_for(int64_t n, int64_t grain, ft_range_fn fn, void *ctx);

/* ---- copy, cast, fill, ranges (copy.c) ---- */
/* dst[i] = (dst_dtype) src[i] over an ndim box; src strides may be 0 (broadcast). */
int ft_copy(int ndim, const int64_t *sizes,
            intptr_t dst, int dst_dtype, const int64_t *dst_strides,
            intptr_t src, int src_dtype, const int64_t *src_strides);
/* Fill a strided box with one value; value_f is used for floating dtypes, value_i for integral and bool. */
int ft_fill(int dtype, int ndim, const int64_t *sizes, intptr_t dst, const int64_t *strides,
            double value_f, int64_t value_i);
/* out[i] = start + i * step (torch's arange), contiguous. */
int ft_arange(int dtype, int64_t n, intptr_t out, double start_f, double step_f, int64_t start_i, int64_t step_i);
/* torch's linspace: symmetric evaluation from both ends. */
int ft_linspace(int dtype, int64_t n, intptr_t out, double start, double end);

/* ---- elementwise (elementwise.c) ---- */
typedef enum {
    FT_UNARY_NEG = 0, FT_UNARY_ABS, FT_UNARY_SIGN, FT_UNARY_SGN,
    FT_UNARY_EXP, FT_UNARY_EXP2, FT_UNARY_EXPM1,
    FT_UNARY_LOG, FT_UNARY_LOG2, FT_UNARY_LOG10, FT_UNARY_LOG1P,
    FT_UNARY_SQRT, FT_UNARY_RSQRT, FT_UNARY_RECIPROCAL,
    FT_UNARY_SIN, FT_UNARY_COS, FT_UNARY_TAN, FT_UNARY_ASIN, FT_UNARY_ACOS, FT_UNARY_ATAN,
    FT_UNARY_SINH, FT_UNARY_COSH, FT_UNARY_TANH, FT_UNARY_ASINH, FT_UNARY_ACOSH, FT_UNARY_ATANH,
    FT_UNARY_SIGMOID, FT_UNARY_ERF, FT_UNARY_ERFC,
    FT_UNARY_FLOOR, FT_UNARY_CEIL, FT_UNARY_ROUND, FT_UNARY_TRUNC, FT_UNARY_FRAC,
    FT_UNARY_RELU, FT_UNARY_SQUARE,
    FT_UNARY_LOGICAL_NOT, FT_UNARY_BITWISE_NOT,
    FT_UNARY_ISNAN, FT_UNARY_ISINF, FT_UNARY_ISFINITE, FT_UNARY_ISPOSINF, FT_UNARY_ISNEGINF, FT_UNARY_SIGNBIT,
    FT_UNARY_GELU, FT_UNARY_GELU_TANH, /* nn.functional.gelu, approximate='none' / 'tanh' */
    FT_UNARY_LGAMMA, FT_UNARY_DIGAMMA, FT_UNARY_ERFINV, FT_UNARY_I0, FT_UNARY_SINC, FT_UNARY_ANGLE, FT_UNARY_TRIGAMMA, FT_UNARY_I1,
    FT_UNARY_COUNT
} ft_unary_op;

typedef enum {
    FT_BINARY_ADD = 0, FT_BINARY_SUB, FT_BINARY_MUL, FT_BINARY_DIV,
    FT_BINARY_DIV_TRUNC, FT_BINARY_DIV_FLOOR, FT_BINARY_REMAINDER, FT_BINARY_FMOD,
    FT_BINARY_POW, FT_BINARY_ATAN2, FT_BINARY_MAXIMUM, FT_BINARY_MINIMUM, FT_BINARY_FMAX, FT_BINARY_FMIN,
    FT_BINARY_EQ, FT_BINARY_NE, FT_BINARY_LT, FT_BINARY_LE, FT_BINARY_GT, FT_BINARY_GE,
    FT_BINARY_LOGICAL_AND, FT_BINARY_LOGICAL_OR, FT_BINARY_LOGICAL_XOR,
    FT_BINARY_BITWISE_AND, FT_BINARY_BITWISE_OR, FT_BINARY_BITWISE_XOR,
    FT_BINARY_LSHIFT, FT_BINARY_RSHIFT,
    FT_BINARY_HYPOT, FT_BINARY_COPYSIGN, FT_BINARY_XLOGY, FT_BINARY_NEXTAFTER,
    FT_BINARY_COUNT
} ft_binary_op;

/* The SIMD level of the vectorised transcendentals (exp, log, tanh, sigmoid, erf, gelu), and
 * of the reduction, softmax and matrix-product kernels:
 * 0 libm per element, 1 AVX2 with FMA, 2 AVX-512: the best the CPU has, capped by
 * FTORCH_SIMD_LEVEL in the environment or by ft_set_simd_level (tests reach every path). */
int ft_simd_level(void);
/* Sets the cap; returns the level in force. */
int ft_set_simd_level(int level);

/* out = op(a) over an ndim box. in_dtype is the compute dtype; out_dtype equals it
 * except for predicates (isnan, ...) and logical_not, which write bool. */
int ft_unary(int op, int out_dtype, int in_dtype, int ndim, const int64_t *sizes,
             intptr_t out, const int64_t *out_strides, intptr_t a, const int64_t *a_strides);
int ft_unary_contig(int op, int out_dtype, int in_dtype, int64_t n, intptr_t out, intptr_t a);

/* out = op(a, b); a and b share in_dtype; out_dtype is in_dtype or bool (comparisons, logical ops).
 * alpha scales b for add/sub (alpha_f for floating dtypes, alpha_i for integral). */
int ft_binary(int op, int out_dtype, int in_dtype, int ndim, const int64_t *sizes,
              intptr_t out, const int64_t *out_strides,
              intptr_t a, const int64_t *a_strides,
              intptr_t b, const int64_t *b_strides,
              double alpha_f, int64_t alpha_i);
/* Contiguous fast path; a_step/b_step are 1 (contiguous) or 0 (a single broadcast element). */
int ft_binary_contig(int op, int out_dtype, int in_dtype, int64_t n, intptr_t out,
                     intptr_t a, int64_t a_step, intptr_t b, int64_t b_step,
                     double alpha_f, int64_t alpha_i);

/* out = cond ? a : b; cond is bool, a/b/out share dtype. */
int ft_where(int dtype, int ndim, const int64_t *sizes,
             intptr_t out, const int64_t *out_strides,
             intptr_t cond, const int64_t *cond_strides,
             intptr_t a, const int64_t *a_strides,
             intptr_t b, const int64_t *b_strides);

/* nan_to_num in place-or-out for floating dtypes. */
int ft_nan_to_num(int dtype, int ndim, const int64_t *sizes,
                  intptr_t out, const int64_t *out_strides, intptr_t a, const int64_t *a_strides,
                  double nan, double posinf, double neginf);

/* ---- reductions (reduce.c) ---- */
typedef enum {
    FT_REDUCE_SUM = 0, FT_REDUCE_PROD, FT_REDUCE_MEAN,
    FT_REDUCE_AMAX, FT_REDUCE_AMIN,
    FT_REDUCE_MAX, FT_REDUCE_MIN,        /* values and int64 indices */
    FT_REDUCE_ARGMAX, FT_REDUCE_ARGMIN,  /* int64 indices only */
    FT_REDUCE_ALL, FT_REDUCE_ANY,        /* bool (or uint8 for uint8 input) */
    FT_REDUCE_VAR, FT_REDUCE_STD,        /* param = correction */
    FT_REDUCE_LOGSUMEXP,
    FT_REDUCE_NORM,                      /* param = p (inf, -inf, 0 allowed) */
    FT_REDUCE_NANSUM, FT_REDUCE_NANMEAN, /* NaN counts as 0 / is left out */
    FT_REDUCE_COUNT_NONZERO,             /* int64 count */
    FT_REDUCE_COUNT
} ft_reduce_op;

/* For every index of the "outer" box, reduce the "inner" box (the reduced dims).
 * Indices (for MAX/MIN/ARGMAX/ARGMIN) are the row-major linear index inside the inner box.
 * in_dtype is the compute dtype (the caller casts first); out_dtype is the result dtype:
 * integer and bool sums/products accumulate in int64 (wrapping) and convert on store, so
 * int8 -> int64 sum needs no cast; floating sums accumulate in in_dtype (out_dtype == in_dtype).
 * MEAN/NANMEAN/VAR/STD/LOGSUMEXP/NORM need a floating in_dtype. ALL/ANY write 0/1. */
int ft_reduce(int op, int out_dtype, int in_dtype,
              int n_outer, const int64_t *outer_sizes,
              int n_inner, const int64_t *inner_sizes,
              intptr_t in, const int64_t *in_outer_strides, const int64_t *in_inner_strides,
              intptr_t out, const int64_t *out_strides,
              intptr_t index_out, const int64_t *index_strides,
              double param);

/* ft_reduce's fast path called directly, for `rows` contiguous rows of n >= 1 elements each (a
 * whole contiguous tensor: rows = 1; its last dim: rows = numel / n), contiguous outputs: SUM,
 * MEAN, AMAX, AMIN, MAX, MIN, ARGMAX, ARGMIN of float32 or float64 (values in the input's dtype;
 * index_out for the index ops, 0 otherwise). Anything else returns FT_ERR_UNSUPPORTED, so the
 * caller can fall back to ft_reduce. */
int ft_reduce_rows(int op, int dtype, int64_t rows, int64_t n, intptr_t in, intptr_t out, intptr_t index_out);

/* ---- softmax (softmax.c) ---- */
typedef enum { FT_SOFTMAX = 0, FT_LOG_SOFTMAX, FT_SOFTMAX_COUNT } ft_softmax_op;
/* out = softmax (or log_softmax) of in over the middle dim of an (outer, size, inner) box, both
 * contiguous; dtype float32 or float64. */
int ft_softmax(int op, int dtype, int64_t outer, int64_t size, int64_t inner, intptr_t in, intptr_t out);

/* ---- matrix products (matmul.c) ---- */
/* Use the cblas_sgemm/cblas_dgemm of the BLAS library at path (OpenBLAS's scipy_-prefixed names
 * or plain ones) for large floating products; NULL or "" goes back to the built-in GEMM. The
 * BLAS is set to one thread: ft_matmul splits products over the engine's own pool. */
int ft_blas_load(const char *path);
/* 1 when a BLAS library is in use. */
int ft_blas_loaded(void);
/* out[b] = beta*out[b] + alpha*(a[b] @ b[b]) for b < batch; a is MxK, b is KxN, out MxN, any strides.
 * beta == 0 ignores the old contents of out (NaN included), like BLAS. */
int ft_matmul(int dtype, int64_t batch, int64_t m, int64_t n, int64_t k,
              intptr_t a, int64_t a_batch_stride, int64_t a_row_stride, int64_t a_col_stride,
              intptr_t b, int64_t b_batch_stride, int64_t b_row_stride, int64_t b_col_stride,
              intptr_t out, int64_t out_batch_stride, int64_t out_row_stride, int64_t out_col_stride,
              double alpha, double beta);

#endif /* FT_H */
