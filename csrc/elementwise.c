/* Elementwise kernels with more than two operands or extra parameters:
 * where (select) and nan_to_num. Unary and binary ops live in
 * elementwise_unary.c and elementwise_binary.c. */
#include "elementwise.h"

/* ---- where: out = cond ? a : b ----
 * A select moves bits, so one loop per element width serves every dtype
 * (NaN payloads and -0.0 pass through untouched). */
#define FT_WHERE_ROWS(W)                                                                                \
    do {                                                                                                \
        int64_t counter[FT_MAX_DIMS];                                                                   \
        char *ptrs[FT_ITER_MAX_ARGS];                                                                   \
        const int64_t n = it.sizes[0], so = it.strides[0][0], sc = it.strides[1][0];                   \
        const int64_t sa = it.strides[2][0], sb = it.strides[3][0], w = (int64_t)sizeof(W);            \
        for (ft_iter_rows_begin(&it, counter, ptrs); ft_iter_rows_valid(&it, counter);                 \
             ft_iter_rows_next(&it, counter, ptrs)) {                                                   \
            if (so == w && sc == 1 && sa == w && sb == w) {                                             \
                W *restrict o = (W *)ptrs[0];                                                           \
                const uint8_t *restrict c = (const uint8_t *)ptrs[1];                                   \
                const W *restrict a = (const W *)ptrs[2], *restrict b = (const W *)ptrs[3];             \
                for (int64_t i = 0; i < n; i++) { /* a mask, not a branch: masks are unpredictable */ \
                    const W m = (W)0 - (W)(c[i] != 0);                                                  \
                    o[i] = (W)((a[i] & m) | (b[i] & (W)~m));                                            \
                }                                                                                       \
            } else {                                                                                    \
                for (int64_t i = 0; i < n; i++)                                                         \
                    *(W *)(ptrs[0] + i * so) = *(const uint8_t *)(ptrs[1] + i * sc)                    \
                                                   ? *(const W *)(ptrs[2] + i * sa)                     \
                                                   : *(const W *)(ptrs[3] + i * sb);                    \
            }                                                                                           \
        }                                                                                               \
    } while (0)

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
    switch (width) {
    case 1: FT_WHERE_ROWS(uint8_t); break;
    case 2: FT_WHERE_ROWS(uint16_t); break;
    case 4: FT_WHERE_ROWS(uint32_t); break;
    case 8: FT_WHERE_ROWS(uint64_t); break;
    default: return ft_set_error(FT_ERR_UNSUPPORTED, "where: unsupported element width %zu", width);
    }
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
