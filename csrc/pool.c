/* Max and average pooling over contiguous planes with per-output windows (see api/pool.h), in
 * torch's element order (row-major over the window) and with its NaN rule for the maximum.
 * Planes are split across the thread pool. */
#include "ft_internal.h"
#include "api/pool.h"

#include <float.h>

typedef struct {
    int op, dtype;
    int64_t height, width, out_h, out_w;
    const int64_t *start_h, *count_h, *start_w, *count_w, *div_h, *div_w;
    int64_t dil_h, dil_w, divisor_override;
    const char *in;
    char *out;
    int64_t *indices;
    int64_t n_in, n_out;
} ft_pool_ctx;

#define FT_POOL_FWD(T, ACC, LOWEST, ISNAN)                                                              \
    for (int64_t p = begin; p < end; p++) {                                                             \
        const T *src = (const T *)c->in + p * c->height * c->width;                                     \
        T *dst = (T *)c->out + p * c->out_h * c->out_w;                                                 \
        int64_t *idx = c->indices ? c->indices + p * c->out_h * c->out_w : NULL;                        \
        for (int64_t oh = 0; oh < c->out_h; oh++) {                                                     \
            int64_t h0 = c->start_h[oh], kh = c->count_h[oh];                                           \
            int64_t h1 = h0 + (kh - 1) * c->dil_h + 1;                                                  \
            if (h1 > c->height) h1 = c->height;                                                         \
            while (h0 < 0) h0 += c->dil_h;                                                              \
            for (int64_t ow = 0; ow < c->out_w; ow++) {                                                 \
                int64_t w0 = c->start_w[ow], kw = c->count_w[ow];                                       \
                int64_t w1 = w0 + (kw - 1) * c->dil_w + 1;                                              \
                if (w1 > c->width) w1 = c->width;                                                       \
                while (w0 < 0) w0 += c->dil_w;                                                          \
                const int64_t o = oh * c->out_w + ow;                                                   \
                if (c->op == FT_POOL_MAX) {                                                             \
                    int64_t best = h0 * c->width + w0;                                                  \
                    T m = LOWEST;                                                                       \
                    for (int64_t h = h0; h < h1; h += c->dil_h)                                         \
                        for (int64_t w = w0; w < w1; w += c->dil_w) {                                   \
                            const T v = src[h * c->width + w];                                          \
                            if (v > m || ISNAN(v)) { m = v; best = h * c->width + w; }                  \
                        }                                                                               \
                    dst[o] = m;                                                                         \
                    if (idx) idx[o] = best;                                                             \
                } else {                                                                                \
                    ACC sum = 0;                                                                        \
                    for (int64_t h = h0; h < h1; h++)                                                   \
                        for (int64_t w = w0; w < w1; w++) sum += (ACC)src[h * c->width + w];            \
                    if (c->op == FT_POOL_AVG_ADAPTIVE)                                                  \
                        dst[o] = (T)(sum / (ACC)c->div_h[oh] / (ACC)c->div_w[ow]);                      \
                    else {                                                                              \
                        const int64_t d = c->divisor_override != 0 ? c->divisor_override                 \
                                                                  : c->div_h[oh] * c->div_w[ow];        \
                        dst[o] = d ? (T)(sum / (ACC)d) : (T)0;                                          \
                    }                                                                                   \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

#define FT_NOT_NAN(v) 0
static void ft_pool_range(void *ctx, int64_t begin, int64_t end) {
    const ft_pool_ctx *c = ctx;
    switch (c->dtype) {
    case FT_UINT8: { FT_POOL_FWD(uint8_t, int64_t, 0, FT_NOT_NAN) } break;
    case FT_INT8: { FT_POOL_FWD(int8_t, int64_t, INT8_MIN, FT_NOT_NAN) } break;
    case FT_INT16: { FT_POOL_FWD(int16_t, int64_t, INT16_MIN, FT_NOT_NAN) } break;
    case FT_INT32: { FT_POOL_FWD(int32_t, int64_t, INT32_MIN, FT_NOT_NAN) } break;
    case FT_INT64: { FT_POOL_FWD(int64_t, int64_t, INT64_MIN, FT_NOT_NAN) } break;
    case FT_FLOAT32: { FT_POOL_FWD(float, float, -INFINITY, isnan) } break;
    case FT_FLOAT64: { FT_POOL_FWD(double, double, -INFINITY, isnan) } break;
    default: break;
    }
}

#define FT_POOL_BWD(T)                                                                                  \
    for (int64_t p = begin; p < end; p++) {                                                             \
        const T *g = (const T *)c->in + p * c->out_h * c->out_w;                                        \
        T *dst = (T *)c->out + p * c->height * c->width;                                                \
        for (int64_t q = 0; q < c->height * c->width; q++) dst[q] = 0;                                  \
        if (c->op == FT_POOL_MAX) {                                                                     \
            const int64_t *idx = c->indices + p * c->out_h * c->out_w;                                  \
            for (int64_t o = 0; o < c->out_h * c->out_w; o++) {                                         \
                const int64_t i = idx[o];                                                               \
                if (i >= 0 && i < c->height * c->width) dst[i] += g[o];                                 \
            }                                                                                           \
            continue;                                                                                   \
        }                                                                                               \
        for (int64_t oh = 0; oh < c->out_h; oh++) {                                                     \
            int64_t h0 = c->start_h[oh], kh = c->count_h[oh];                                           \
            int64_t h1 = h0 + kh;                                                                       \
            if (h1 > c->height) h1 = c->height;                                                         \
            if (h0 < 0) h0 = 0;                                                                         \
            for (int64_t ow = 0; ow < c->out_w; ow++) {                                                 \
                int64_t w0 = c->start_w[ow], kw = c->count_w[ow];                                       \
                int64_t w1 = w0 + kw;                                                                   \
                if (w1 > c->width) w1 = c->width;                                                       \
                if (w0 < 0) w0 = 0;                                                                     \
                const T go = g[oh * c->out_w + ow];                                                     \
                T delta;                                                                                \
                if (c->op == FT_POOL_AVG_ADAPTIVE)                                                      \
                    delta = go / (T)c->div_h[oh] / (T)c->div_w[ow];                                     \
                else {                                                                                  \
                    const int64_t d = c->divisor_override != 0 ? c->divisor_override                     \
                                                              : c->div_h[oh] * c->div_w[ow];            \
                    delta = d ? go / (T)d : (T)0;                                                       \
                }                                                                                       \
                for (int64_t h = h0; h < h1; h++)                                                       \
                    for (int64_t w = w0; w < w1; w++) dst[h * c->width + w] += delta;                   \
            }                                                                                           \
        }                                                                                               \
    }

static void ft_pool_backward_range(void *ctx, int64_t begin, int64_t end) {
    const ft_pool_ctx *c = ctx;
    switch (c->dtype) {
    case FT_FLOAT32: { FT_POOL_BWD(float) } break;
    case FT_FLOAT64: { FT_POOL_BWD(double) } break;
    default: break;
    }
}

static int ft_pool_check(int op, int64_t planes, int64_t height, int64_t width, int64_t out_h, int64_t out_w,
                         const int64_t *start_h, const int64_t *count_h, int64_t dil_h,
                         const int64_t *start_w, const int64_t *count_w, int64_t dil_w,
                         const int64_t *div_h, const int64_t *div_w) {
    if (op < 0 || op >= FT_POOL_COUNT) return ft_set_error(FT_ERR_VALUE, "pool2d: unknown op %d", op);
    if (planes < 0 || height < 0 || width < 0 || out_h < 0 || out_w < 0 || dil_h < 1 || dil_w < 1)
        return ft_set_error(FT_ERR_RUNTIME, "pool2d: invalid sizes");
    for (int64_t i = 0; i < out_h; i++) {
        if (count_h[i] < 0) return ft_set_error(FT_ERR_RUNTIME, "pool2d: invalid window");
        if (op != FT_POOL_MAX && div_h[i] < 0) return ft_set_error(FT_ERR_RUNTIME, "pool2d: invalid divisor");
    }
    for (int64_t i = 0; i < out_w; i++) {
        if (count_w[i] < 0) return ft_set_error(FT_ERR_RUNTIME, "pool2d: invalid window");
        if (op != FT_POOL_MAX && div_w[i] < 0) return ft_set_error(FT_ERR_RUNTIME, "pool2d: invalid divisor");
    }
    (void)start_h; (void)start_w;
    return FT_OK;
}

int ft_pool2d(int op, int dtype, int64_t planes, int64_t height, int64_t width, int64_t out_h, int64_t out_w,
              const int64_t *start_h, const int64_t *count_h, int64_t dil_h,
              const int64_t *start_w, const int64_t *count_w, int64_t dil_w,
              const int64_t *div_h, const int64_t *div_w, int64_t divisor_override,
              intptr_t in, intptr_t out, intptr_t indices) {
    int status = ft_pool_check(op, planes, height, width, out_h, out_w, start_h, count_h, dil_h, start_w, count_w,
                               dil_w, div_h, div_w);
    if (status) return status;
    if (!ft_is_valid_dtype(dtype) || dtype == FT_BOOL)
        return ft_set_error(FT_ERR_UNSUPPORTED, "pool2d: unsupported dtype %s", ft_dtype_name(dtype));
    ft_pool_ctx c = {op, dtype, height, width, out_h, out_w, start_h, count_h, start_w, count_w, div_h, div_w,
                     dil_h, dil_w, divisor_override, (const char *)in, (char *)out, (int64_t *)indices, 0, 0};
    if (planes == 0 || out_h * out_w == 0) return FT_OK;
    const int64_t work = out_h * out_w * 4 + 1;
    return ft_parallel_for(planes, work >= 16384 ? 1 : 16384 / work, ft_pool_range, &c);
}

int ft_pool2d_backward(int op, int dtype, int64_t planes, int64_t height, int64_t width, int64_t out_h,
                       int64_t out_w, const int64_t *start_h, const int64_t *count_h, int64_t dil_h,
                       const int64_t *start_w, const int64_t *count_w, int64_t dil_w,
                       const int64_t *div_h, const int64_t *div_w, int64_t divisor_override,
                       intptr_t grad_out, intptr_t indices, intptr_t grad_in) {
    int status = ft_pool_check(op, planes, height, width, out_h, out_w, start_h, count_h, dil_h, start_w, count_w,
                               dil_w, div_h, div_w);
    if (status) return status;
    if (!ft_is_floating(dtype))
        return ft_set_error(FT_ERR_UNSUPPORTED, "pool2d backward: unsupported dtype %s", ft_dtype_name(dtype));
    if (op == FT_POOL_MAX && !indices) return ft_set_error(FT_ERR_VALUE, "pool2d backward: indices needed");
    ft_pool_ctx c = {op, dtype, height, width, out_h, out_w, start_h, count_h, start_w, count_w, div_h, div_w,
                     dil_h, dil_w, divisor_override, (const char *)grad_out, (char *)grad_in, (int64_t *)indices, 0, 0};
    if (planes == 0 || height * width == 0) return FT_OK;
    const int64_t work = out_h * out_w * 4 + height * width + 1;
    return ft_parallel_for(planes, work >= 16384 ? 1 : 16384 / work, ft_pool_backward_range, &c);
}

#define FT_GATHER(T)                                                                                    \
    for (int64_t p = begin; p < end; p++) {                                                             \
        const T *src = (const T *)c->in + p * c->n_in;                                                  \
        const int64_t *idx = c->indices + p * c->n_out;                                                 \
        T *dst = (T *)c->out + p * c->n_out;                                                            \
        for (int64_t o = 0; o < c->n_out; o++) {                                                        \
            const int64_t i = idx[o];                                                                   \
            dst[o] = (i >= 0 && i < c->n_in) ? src[i] : (T)0;                                           \
        }                                                                                               \
    }

static void ft_gather_range(void *ctx, int64_t begin, int64_t end) {
    const ft_pool_ctx *c = ctx;
    switch (c->dtype) {
    case FT_FLOAT32: { FT_GATHER(float) } break;
    case FT_FLOAT64: { FT_GATHER(double) } break;
    default: break;
    }
}

int ft_pool_gather(int dtype, int64_t planes, int64_t n_in, int64_t n_out, intptr_t in, intptr_t indices,
                   intptr_t out) {
    if (!ft_is_floating(dtype))
        return ft_set_error(FT_ERR_UNSUPPORTED, "pool gather: unsupported dtype %s", ft_dtype_name(dtype));
    if (planes < 0 || n_in < 0 || n_out < 0) return ft_set_error(FT_ERR_RUNTIME, "pool gather: invalid sizes");
    ft_pool_ctx c = {0};
    c.dtype = dtype; c.in = (const char *)in; c.out = (char *)out; c.indices = (int64_t *)indices;
    c.n_in = n_in; c.n_out = n_out;
    if (planes == 0 || n_out == 0) return FT_OK;
    return ft_parallel_for(planes, n_out >= 16384 ? 1 : 16384 / n_out, ft_gather_range, &c);
}
