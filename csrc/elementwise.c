/* What the elementwise kernel files share: the SIMD level of the vector math,
 * the threaded walk over an iterator's box, and the kernels with more than
 * two operands or extra parameters: where (select) and nan_to_num. Unary and
 * binary ops live in elementwise_unary.c and elementwise_binary.c. */
#include <stdatomic.h>
#include <stdlib.h>

#include "elementwise.h"

/* ---- SIMD level ---- */
static int ft_simd_cap = 2;

static int ft_simd_detected(void) {
    static int detected = -1;
    if (detected < 0) {
        int level = 0;
#if defined(__x86_64__) && defined(__GNUC__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = 1;
        if (level == 1 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq")) level = 2;
#endif
        const char *cap = getenv("FTORCH_SIMD_LEVEL");
        if (cap && cap[0] >= '0' && cap[0] <= '2' && cap[1] == '\0') ft_simd_cap = cap[0] - '0';
        detected = level;
    }
    return detected;
}

int ft_simd_level(void) {
    const int detected = ft_simd_detected();
    return detected < ft_simd_cap ? detected : ft_simd_cap;
}

int ft_set_simd_level(int level) {
    ft_simd_detected();
    ft_simd_cap = level < 0 ? 0 : level > 2 ? 2 : level;
    return ft_simd_level();
}

const ft_math_kernels *ft_math_kernels_active(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    switch (ft_simd_level()) {
    case 2: return &ft_math_avx512;
    case 1: return &ft_math_avx2;
    default: return NULL;
    }
#else
    return NULL;
#endif
}

/* ---- the threaded walk: elements [begin, end) of the box, in row segments ---- */
static int ft_run_range(const ft_iter *it, int64_t begin, int64_t end, ft_row_fn fn, void *ctx) {
    int64_t counter[FT_MAX_DIMS];
    char *ptrs[FT_ITER_MAX_ARGS];
    int64_t steps[FT_ITER_MAX_ARGS];
    for (int k = 0; k < it->nargs; k++) {
        ptrs[k] = it->data[k];
        steps[k] = it->strides[k][0];
    }
    int64_t rest = begin;
    for (int d = 0; d < it->ndim; d++) { /* the position of element `begin`, innermost dim first */
        counter[d] = rest % it->sizes[d];
        rest /= it->sizes[d];
        for (int k = 0; k < it->nargs; k++) ptrs[k] += counter[d] * it->strides[k][d];
    }
    int flag = 0;
    for (int64_t remaining = end - begin; remaining > 0;) {
        int64_t len = it->sizes[0] - counter[0];
        if (len > remaining) len = remaining;
        const int row_flag = fn(ctx, len, ptrs, steps);
        if (row_flag && !flag) flag = row_flag;
        remaining -= len;
        if (!remaining) break;
        /* the row is done: back to its start, then one step in the outer dims */
        for (int k = 0; k < it->nargs; k++) ptrs[k] += (len - it->sizes[0]) * steps[k];
        counter[0] = 0;
        for (int d = 1; d < it->ndim; d++) {
            counter[d]++;
            for (int k = 0; k < it->nargs; k++) ptrs[k] += it->strides[k][d];
            if (counter[d] < it->sizes[d]) break;
            for (int k = 0; k < it->nargs; k++) ptrs[k] -= it->strides[k][d] * it->sizes[d];
            counter[d] = 0;
        }
    }
    return flag;
}

typedef struct {
    const ft_iter *it;
    ft_row_fn fn;
    void *ctx;
    atomic_int flag;
} ft_run_job;

static void ft_run_job_range(void *ctx, int64_t begin, int64_t end) {
    ft_run_job *job = ctx;
    const int flag = ft_run_range(job->it, begin, end, job->fn, job->ctx);
    if (flag) {
        int none = 0;
        atomic_compare_exchange_strong(&job->flag, &none, flag);
    }
}

int ft_elementwise_run(const ft_iter *it, int64_t grain, ft_row_fn fn, void *ctx) {
    if (it->numel == 0) return 0;
    if (it->numel <= grain) return ft_run_range(it, 0, it->numel, fn, ctx);
    ft_run_job job = {it, fn, ctx, 0};
    ft_parallel_for(it->numel, grain, ft_run_job_range, &job);
    return atomic_load(&job.flag);
}

/* ---- where: out = cond ? a : b ----
 * A select moves bits, so one loop per element width serves every dtype
 * (NaN payloads and -0.0 pass through untouched). Rows with every operand
 * contiguous take the vector-cloned loop. */
#define FT_WHERE_LOOPS(W)                                                                               \
    FT_CLONES static void ft_where_dense_##W(int64_t n, uint##W##_t *o, const uint8_t *c,               \
                                              const uint##W##_t *a, const uint##W##_t *b) {             \
        for (int64_t i = 0; i < n; i++) { /* a mask, not a branch: masks are unpredictable */          \
            const uint##W##_t m = (uint##W##_t)((uint##W##_t)0 - (uint##W##_t)(c[i] != 0));             \
            o[i] = (uint##W##_t)((a[i] & m) | (b[i] & (uint##W##_t)~m));                                \
        }                                                                                               \
    }                                                                                                   \
    static int ft_where_row_##W(void *ctx, int64_t n, char *const *ptrs, const int64_t *steps) {        \
        (void)ctx;                                                                                      \
        typedef uint##W##_t T;                                                                          \
        const int64_t w = (int64_t)sizeof(T);                                                           \
        if (steps[0] == w && steps[1] == 1 && steps[2] == w && steps[3] == w) {                         \
            ft_where_dense_##W(n, (T *)ptrs[0], (const uint8_t *)ptrs[1], (const T *)ptrs[2],           \
                               (const T *)ptrs[3]);                                                     \
        } else {                                                                                        \
            for (int64_t i = 0; i < n; i++)                                                             \
                *(T *)(ptrs[0] + i * steps[0]) = *(const uint8_t *)(ptrs[1] + i * steps[1])             \
                                                     ? *(const T *)(ptrs[2] + i * steps[2])             \
                                                     : *(const T *)(ptrs[3] + i * steps[3]);            \
        }                                                                                               \
        return 0;                                                                                       \
    }
FT_WHERE_LOOPS(8)
FT_WHERE_LOOPS(16)
FT_WHERE_LOOPS(32)
FT_WHERE_LOOPS(64)

int ft_where(int dtype, int ndim, const int64_t *sizes,
             intptr_t out, const int64_t *out_strides,
             intptr_t cond, const int64_t *cond_strides,
             intptr_t a, const int64_t *a_strides,
             intptr_t b, const int64_t *b_strides) {
    if (!ft_is_valid_dtype(dtype)) return ft_set_error(FT_ERR_UNSUPPORTED, "where: invalid dtype code %d", dtype);
    const size_t width = ft_itemsize(dtype);
    ft_iter it;
    char *data[4] = {(char *)out, (char *)cond, (char *)a, (char *)b};
    const int64_t *strides[4] = {out_strides, cond_strides, a_strides, b_strides};
    const size_t items[4] = {width, 1, width, width};
    int rc = ft_iter_init(&it, 4, ndim, sizes, data, strides, items);
    if (rc) return rc;
    ft_row_fn row;
    switch (width) {
    case 1: row = ft_where_row_8; break;
    case 2: row = ft_where_row_16; break;
    case 4: row = ft_where_row_32; break;
    case 8: row = ft_where_row_64; break;
    default: return ft_set_error(FT_ERR_UNSUPPORTED, "where: unsupported element width %zu", width);
    }
    ft_elementwise_run(&it, FT_GRAIN_CHEAP, row, NULL);
    return FT_OK;
}

/* ---- nan_to_num: NaN, +inf and -inf replaced by the given values (floating dtypes) ---- */
#define FT_REPLACE_NONFINITE(x) ((x) != (x) ? vn : (x) == (T)INFINITY ? vp : (x) == -(T)INFINITY ? vm : (x))
#define FT_NAN_TO_NUM_ROWS(TYPE)                                                                        \
    do {                                                                                                \
        typedef TYPE T;                                                                                 \
        const T vn = (T)nan, vp = (T)posinf, vm = (T)neginf;                                            \
        int64_t counter[FT_MAX_DIMS];                                                                   \
        char *ptrs[FT_ITER_MAX_ARGS];                                                                   \
        const int64_t n = it.sizes[0], so = it.strides[0][0], sa = it.strides[1][0];                   \
        const int64_t w = (int64_t)sizeof(T);                                                           \
        for (ft_iter_rows_begin(&it, counter, ptrs); ft_iter_rows_valid(&it, counter);                 \
             ft_iter_rows_next(&it, counter, ptrs)) {                                                   \
            if (so == w && sa == w) {                                                                   \
                T *restrict o = (T *)ptrs[0];                                                           \
                const T *restrict a = (const T *)ptrs[1];                                               \
                for (int64_t i = 0; i < n; i++) {                                                       \
                    const T x = a[i];                                                                   \
                    o[i] = FT_REPLACE_NONFINITE(x);                                                     \
                }                                                                                       \
            } else {                                                                                    \
                for (int64_t i = 0; i < n; i++) {                                                       \
                    const T x = *(const T *)(ptrs[1] + i * sa);                                         \
                    *(T *)(ptrs[0] + i * so) = FT_REPLACE_NONFINITE(x);                                 \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    } while (0)

int ft_nan_to_num(int dtype, int ndim, const int64_t *sizes,
                  intptr_t out, const int64_t *out_strides, intptr_t a, const int64_t *a_strides,
                  double nan, double posinf, double neginf) {
    if (!ft_is_floating(dtype))
        return ft_set_error(FT_ERR_UNSUPPORTED, "\"nan_to_num\" not implemented for '%s'", ft_torch_type_name(dtype));
    ft_iter it;
    char *data[2] = {(char *)out, (char *)a};
    const int64_t *strides[2] = {out_strides, a_strides};
    const size_t items[2] = {ft_itemsize(dtype), ft_itemsize(dtype)};
    int rc = ft_iter_init(&it, 2, ndim, sizes, data, strides, items);
    if (rc) return rc;
    if (dtype == FT_FLOAT32)
        FT_NAN_TO_NUM_ROWS(float);
    else
        FT_NAN_TO_NUM_ROWS(double);
    return FT_OK;
}
