/* Copy with dtype conversion, fill, arange and linspace. */
#include "ft_internal.h"

/* One strided copy loop from source type T into destination type D via NAME's conversion. */
#define FT_COPY_ROWS(D, NAME)                                                                        \
    FT_DISPATCH_ALL(src_dtype, {                                                                     \
        int64_t counter[FT_MAX_DIMS];                                                                \
        char *ptrs[FT_ITER_MAX_ARGS];                                                                \
        const int64_t n = it.sizes[0], sd = it.strides[0][0], ss = it.strides[1][0];                 \
        for (ft_iter_rows_begin(&it, counter, ptrs); ft_iter_rows_valid(&it, counter);              \
             ft_iter_rows_next(&it, counter, ptrs)) {                                                \
            char *pd = ptrs[0];                                                                      \
            const char *ps = ptrs[1];                                                                \
            if (sd == (int64_t)sizeof(D) && ss == (int64_t)sizeof(T)) {                              \
                D *restrict dst = (D *)pd;                                                           \
                const T *restrict src = (const T *)ps;                                               \
                for (int64_t i = 0; i < n; i++) dst[i] = FT_CONVERT(NAME, src[i]);                   \
            } else {                                                                                 \
                for (int64_t i = 0; i < n; i++)                                                      \
                    *(D *)(pd + i * sd) = FT_CONVERT(NAME, *(const T *)(ps + i * ss));               \
            }                                                                                        \
        }                                                                                            \
    })

int ft_copy(int ndim, const int64_t *sizes,
            intptr_t dst, int dst_dtype, const int64_t *dst_strides,
            intptr_t src, int src_dtype, const int64_t *src_strides) {
    if (!ft_is_valid_dtype(dst_dtype) || !ft_is_valid_dtype(src_dtype))
        return ft_set_error(FT_ERR_UNSUPPORTED, "copy: invalid dtype");
    ft_iter it;
    char *data[2] = {(char *)dst, (char *)src};
    const int64_t *strides[2] = {dst_strides, src_strides};
    size_t items[2] = {ft_itemsize(dst_dtype), ft_itemsize(src_dtype)};
    int rc = ft_iter_init(&it, 2, ndim, sizes, data, strides, items);
    if (rc) return rc;
    /* Bool sources hold 0/1 bytes; reading them as uint8 is exact. */
    switch (dst_dtype) {
    case FT_BOOL:    FT_COPY_ROWS(uint8_t, boolean); break;
    case FT_UINT8:   FT_COPY_ROWS(uint8_t, uint8); break;
    case FT_INT8:    FT_COPY_ROWS(int8_t, int8); break;
    case FT_INT16:   FT_COPY_ROWS(int16_t, int16); break;
    case FT_INT32:   FT_COPY_ROWS(int32_t, int32); break;
    case FT_INT64:   FT_COPY_ROWS(int64_t, int64); break;
    case FT_FLOAT32: FT_COPY_ROWS(float, float32); break;
    case FT_FLOAT64: FT_COPY_ROWS(double, float64); break;
    default: return ft_set_error(FT_ERR_UNSUPPORTED, "copy: invalid dtype");
    }
    return FT_OK;
}

#define FT_FILL_ROWS(D, value)                                                                       \
    do {                                                                                             \
        const D v = (value);                                                                         \
        int64_t counter[FT_MAX_DIMS];                                                                \
        char *ptrs[FT_ITER_MAX_ARGS];                                                                \
        const int64_t n = it.sizes[0], sd = it.strides[0][0];                                        \
        for (ft_iter_rows_begin(&it, counter, ptrs); ft_iter_rows_valid(&it, counter);              \
             ft_iter_rows_next(&it, counter, ptrs)) {                                                \
            if (sd == (int64_t)sizeof(D)) {                                                          \
                D *restrict dst = (D *)ptrs[0];                                                      \
                for (int64_t i = 0; i < n; i++) dst[i] = v;                                          \
            } else {                                                                                 \
                for (int64_t i = 0; i < n; i++) *(D *)(ptrs[0] + i * sd) = v;                       \
            }                                                                                        \
        }                                                                                            \
    } while (0)

int ft_fill(int dtype, int ndim, const int64_t *sizes, intptr_t dst, const int64_t *strides,
            double value_f, int64_t value_i) {
    if (!ft_is_valid_dtype(dtype)) return ft_set_error(FT_ERR_UNSUPPORTED, "fill: invalid dtype");
    ft_iter it;
    char *data[1] = {(char *)dst};
    const int64_t *st[1] = {strides};
    size_t items[1] = {ft_itemsize(dtype)};
    int rc = ft_iter_init(&it, 1, ndim, sizes, data, st, items);
    if (rc) return rc;
    switch (dtype) {
    case FT_BOOL:    FT_FILL_ROWS(uint8_t, ft_boolean_from_i(value_i)); break;
    case FT_UINT8:   FT_FILL_ROWS(uint8_t, ft_uint8_from_i(value_i)); break;
    case FT_INT8:    FT_FILL_ROWS(int8_t, ft_int8_from_i(value_i)); break;
    case FT_INT16:   FT_FILL_ROWS(int16_t, ft_int16_from_i(value_i)); break;
    case FT_INT32:   FT_FILL_ROWS(int32_t, ft_int32_from_i(value_i)); break;
    case FT_INT64:   FT_FILL_ROWS(int64_t, value_i); break;
    case FT_FLOAT32: FT_FILL_ROWS(float, (float)value_f); break;
    case FT_FLOAT64: FT_FILL_ROWS(double, value_f); break;
    default: return ft_set_error(FT_ERR_UNSUPPORTED, "fill: invalid dtype");
    }
    return FT_OK;
}

/* torch computes floating arange in the accumulate type (double on CPU). */
int ft_arange(int dtype, int64_t n, intptr_t out, double start_f, double step_f, int64_t start_i, int64_t step_i) {
    if (n < 0) return ft_set_error(FT_ERR_RUNTIME, "arange: negative length");
    switch (dtype) {
    case FT_FLOAT32: { float *o = (float *)out; for (int64_t i = 0; i < n; i++) o[i] = (float)(start_f + step_f * (double)i); } break;
    case FT_FLOAT64: { double *o = (double *)out; for (int64_t i = 0; i < n; i++) o[i] = start_f + step_f * (double)i; } break;
    case FT_UINT8:   { uint8_t *o = (uint8_t *)out; for (int64_t i = 0; i < n; i++) o[i] = ft_uint8_from_i((int64_t)((uint64_t)start_i + (uint64_t)step_i * (uint64_t)i)); } break;
    case FT_INT8:    { int8_t *o = (int8_t *)out; for (int64_t i = 0; i < n; i++) o[i] = ft_int8_from_i((int64_t)((uint64_t)start_i + (uint64_t)step_i * (uint64_t)i)); } break;
    case FT_INT16:   { int16_t *o = (int16_t *)out; for (int64_t i = 0; i < n; i++) o[i] = ft_int16_from_i((int64_t)((uint64_t)start_i + (uint64_t)step_i * (uint64_t)i)); } break;
    case FT_INT32:   { int32_t *o = (int32_t *)out; for (int64_t i = 0; i < n; i++) o[i] = ft_int32_from_i((int64_t)((uint64_t)start_i + (uint64_t)step_i * (uint64_t)i)); } break;
    case FT_INT64:   { int64_t *o = (int64_t *)out; for (int64_t i = 0; i < n; i++) o[i] = ft_wrap_i64((uint64_t)start_i + (uint64_t)step_i * (uint64_t)i); } break;
    default: return ft_set_error(FT_ERR_UNSUPPORTED, "\"arange_cpu\" not implemented for '%s'", ft_dtype_name(dtype));
    }
    return FT_OK;
}

/* torch's linspace kernel: step in the output type for floats (double for integers),
 * the first half counted from start, the second half back from end. */
int ft_linspace(int dtype, int64_t n, intptr_t out, double start, double end) {
    if (n < 0) return ft_set_error(FT_ERR_RUNTIME, "number of steps must be non-negative");
    const int64_t halfway = n / 2;
    switch (dtype) {
    case FT_FLOAT32: {
        float *o = (float *)out;
        const float s = (float)start, e = (float)end;
        const float step = n > 1 ? (e - s) / (float)(n - 1) : 0.0f;
        for (int64_t i = 0; i < n; i++) o[i] = i < halfway ? s + step * (float)i : e - step * (float)(n - i - 1);
        if (n == 1) o[0] = s;
    } break;
    case FT_FLOAT64: {
        double *o = (double *)out;
        const double step = n > 1 ? (end - start) / (double)(n - 1) : 0.0;
        for (int64_t i = 0; i < n; i++) o[i] = i < halfway ? start + step * (double)i : end - step * (double)(n - i - 1);
        if (n == 1) o[0] = start;
    } break;
    case FT_BOOL: case FT_UINT8: case FT_INT8: case FT_INT16: case FT_INT32: case FT_INT64: {
        const double step = n > 1 ? (end - start) / (double)(n - 1) : 0.0;
        const size_t sz = ft_itemsize(dtype);
        for (int64_t i = 0; i < n; i++) {
            double v = i < halfway ? start + step * (double)i : end - step * (double)(n - i - 1);
            if (n == 1) v = start;
            char *p = (char *)out + (size_t)i * sz;
            switch (dtype) {
            case FT_BOOL: *(uint8_t *)p = ft_boolean_from_f(v); break;
            case FT_UINT8: *(uint8_t *)p = ft_uint8_from_f(v); break;
            case FT_INT8: *(int8_t *)p = ft_int8_from_f(v); break;
            case FT_INT16: *(int16_t *)p = ft_int16_from_f(v); break;
            case FT_INT32: *(int32_t *)p = ft_int32_from_f(v); break;
            default: *(int64_t *)p = ft_int64_from_f(v); break;
            }
        }
    } break;
    default: return ft_set_error(FT_ERR_UNSUPPORTED, "linspace: invalid dtype");
    }
    return FT_OK;
}
