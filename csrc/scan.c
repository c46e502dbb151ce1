/* Scans along one dim: cumsum, cumprod, logcumsumexp, cummax, cummin (api/scan.h).
 *
 * Each row is walked once in order with torch's CPU accumulator: int64 for integers,
 * double for floats (so a float32 cumsum rounds once per output, like torch's
 * acc_type), and logcumsumexp adds in double with torch's handling of equal infinities.
 * cummax/cummin take a later element when it is >= (<=) the running extreme, and a NaN
 * once seen stays (every later NaN takes its index), as torch does. */
#include "api/scan.h"
#include "ft_internal.h"
#include "rows.h"

#include <math.h>

static inline double ft_log_add_exp(double x, double y) {
    /* torch's _log_add_exp_helper: NaN propagates, equal infinities give x */
    double lo = isnan(y) ? y : (y < x ? y : x);
    double hi = isnan(y) ? y : (x < y ? y : x);
    if (lo != hi || isfinite(lo)) return log1p(exp(lo - hi)) + hi;
    return x;
}

#define FT_SCAN_INTEGRAL(T, OP, CONV)                                                                    \
    do {                                                                                                 \
        int64_t acc = OP == FT_SCAN_CUMSUM ? 0 : 1;                                                      \
        for (int64_t i = 0; i < length; i++) {                                                           \
            int64_t v = (int64_t)x[i * in_step];                                                         \
            acc = OP == FT_SCAN_CUMSUM ? (int64_t)((uint64_t)acc + (uint64_t)v)                          \
                                       : (int64_t)((uint64_t)acc * (uint64_t)v);                         \
            y[i * out_step] = CONV(acc);                                                                 \
        }                                                                                                \
    } while (0)

#define FT_SCAN_EXTREME(T, GREATER)                                                                      \
    do {                                                                                                 \
        T best = x[0];                                                                                   \
        int64_t best_index = 0;                                                                          \
        for (int64_t i = 0; i < length; i++) {                                                           \
            T v = x[i * in_step];                                                                        \
            if (v != v || (best == best && (GREATER ? v >= best : v <= best))) {                         \
                best = v;                                                                                \
                best_index = i;                                                                          \
            }                                                                                            \
            y[i * out_step] = best;                                                                      \
            ix[i * idx_step] = best_index;                                                               \
        }                                                                                                \
    } while (0)

static uint8_t ft_scan_to_bool(int64_t v) { return v != 0; }
static uint8_t ft_scan_to_u8(int64_t v) { return (uint8_t)(uint64_t)v; }
static int8_t ft_scan_to_i8(int64_t v) { return ft_wrap_i8((uint64_t)v); }
static int16_t ft_scan_to_i16(int64_t v) { return ft_wrap_i16((uint64_t)v); }
static int32_t ft_scan_to_i32(int64_t v) { return ft_wrap_i32((uint64_t)v); }
static int64_t ft_scan_to_i64(int64_t v) { return v; }

#define FT_SCAN_ROW_INTEGRAL(T, CONV)                                                                    \
    static void ft_scan_row_##T(int op, const T *x, int64_t in_step, T *y, int64_t out_step, int64_t *ix, \
                                int64_t idx_step, int64_t length) {                                      \
        if (op == FT_SCAN_CUMSUM) FT_SCAN_INTEGRAL(T, FT_SCAN_CUMSUM, CONV);                             \
        else if (op == FT_SCAN_CUMPROD) FT_SCAN_INTEGRAL(T, FT_SCAN_CUMPROD, CONV);                      \
        else if (op == FT_SCAN_CUMMAX) FT_SCAN_EXTREME(T, 1);                                            \
        else FT_SCAN_EXTREME(T, 0);                                                                      \
    }

typedef uint8_t ft_bool_t;
FT_SCAN_ROW_INTEGRAL(ft_bool_t, ft_scan_to_bool)
FT_SCAN_ROW_INTEGRAL(uint8_t, ft_scan_to_u8)
FT_SCAN_ROW_INTEGRAL(int8_t, ft_scan_to_i8)
FT_SCAN_ROW_INTEGRAL(int16_t, ft_scan_to_i16)
FT_SCAN_ROW_INTEGRAL(int32_t, ft_scan_to_i32)
FT_SCAN_ROW_INTEGRAL(int64_t, ft_scan_to_i64)

#define FT_SCAN_ROW_FLOATING(T)                                                                          \
    static void ft_scan_row_##T(int op, const T *x, int64_t in_step, T *y, int64_t out_step, int64_t *ix, \
                                int64_t idx_step, int64_t length) {                                      \
        if (op == FT_SCAN_CUMSUM) {                                                                      \
            double acc = 0;                                                                              \
            for (int64_t i = 0; i < length; i++) y[i * out_step] = (T)(acc += (double)x[i * in_step]);  \
        } else if (op == FT_SCAN_CUMPROD) {                                                              \
            double acc = 1;                                                                              \
            for (int64_t i = 0; i < length; i++) y[i * out_step] = (T)(acc *= (double)x[i * in_step]);  \
        } else if (op == FT_SCAN_LOGCUMSUMEXP) {                                                         \
            double acc = -INFINITY;                                                                      \
            for (int64_t i = 0; i < length; i++) {                                                       \
                acc = ft_log_add_exp(acc, (double)x[i * in_step]);                                       \
                y[i * out_step] = (T)acc;                                                                \
            }                                                                                            \
        } else if (op == FT_SCAN_CUMMAX) FT_SCAN_EXTREME(T, 1);                                          \
        else FT_SCAN_EXTREME(T, 0);                                                                      \
    }

FT_SCAN_ROW_FLOATING(float)
FT_SCAN_ROW_FLOATING(double)

int ft_scan(int op, int dtype, int n_outer, const int64_t *outer_sizes, int64_t length,
            intptr_t in, const int64_t *in_outer, int64_t in_step,
            intptr_t out, const int64_t *out_outer, int64_t out_step,
            intptr_t idx, const int64_t *idx_outer, int64_t idx_step) {
    if (op < 0 || op >= FT_SCAN_COUNT) return ft_set_error(FT_ERR_VALUE, "unknown scan op %d", op);
    if (!ft_is_valid_dtype(dtype)) return ft_set_error(FT_ERR_VALUE, "unknown dtype code %d", dtype);
    if (n_outer < 0 || n_outer > FT_MAX_DIMS || length < 0)
        return ft_set_error(FT_ERR_VALUE, "scan: bad box (%d outer dims, length %lld)", n_outer, (long long)length);
    bool extreme = op == FT_SCAN_CUMMAX || op == FT_SCAN_CUMMIN;
    if (extreme && !idx) return ft_set_error(FT_ERR_VALUE, "scan: cummax/cummin need an indices output");
    if (op == FT_SCAN_LOGCUMSUMEXP && !ft_is_floating(dtype))
        return ft_set_error(FT_ERR_UNSUPPORTED, "\"logcumsumexp_out_cpu\" not implemented for '%s'", ft_dtype_name(dtype));
    if (length == 0) return FT_OK;
    for (int d = 0; d < n_outer; d++)
        if (outer_sizes[d] == 0) return FT_OK;
    size_t size = ft_itemsize(dtype);
    ft_rows rows;
    ft_rows_init(&rows, n_outer, outer_sizes, in_outer, out_outer, extreme ? idx_outer : NULL);
    while (rows.remaining > 0) {
        const char *x = (const char *)in + rows.offset[0] * (int64_t)size;
        char *y = (char *)out + rows.offset[1] * (int64_t)size;
        int64_t *ix = extreme ? (int64_t *)idx + rows.offset[2] : NULL;
        switch (dtype) {
        case FT_BOOL: ft_scan_row_ft_bool_t(op, (const uint8_t *)x, in_step, (uint8_t *)y, out_step, ix, idx_step, length); break;
        case FT_UINT8: ft_scan_row_uint8_t(op, (const uint8_t *)x, in_step, (uint8_t *)y, out_step, ix, idx_step, length); break;
        case FT_INT8: ft_scan_row_int8_t(op, (const int8_t *)x, in_step, (int8_t *)y, out_step, ix, idx_step, length); break;
        case FT_INT16: ft_scan_row_int16_t(op, (const int16_t *)x, in_step, (int16_t *)y, out_step, ix, idx_step, length); break;
        case FT_INT32: ft_scan_row_int32_t(op, (const int32_t *)x, in_step, (int32_t *)y, out_step, ix, idx_step, length); break;
        case FT_INT64: ft_scan_row_int64_t(op, (const int64_t *)x, in_step, (int64_t *)y, out_step, ix, idx_step, length); break;
        case FT_FLOAT32: ft_scan_row_float(op, (const float *)x, in_step, (float *)y, out_step, ix, idx_step, length); break;
        case FT_FLOAT64: ft_scan_row_double(op, (const double *)x, in_step, (double *)y, out_step, ix, idx_step, length); break;
        default: return ft_set_error(FT_ERR_UNSUPPORTED, "scan: unsupported dtype %d", dtype);
        }
        ft_rows_next(&rows);
    }
    return FT_OK;
}
