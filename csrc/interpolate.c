/* nearest / linear / cubic interpolation, 1-3 spatial dims, separable taps (see api/interpolate.h).
 * torch's nesting and arithmetic in the element type; planes are split across the thread pool. */
#include "ft_internal.h"
#include "api/interpolate.h"

typedef struct {
    int mode, dtype;
    int64_t in_sizes[3], out_sizes[3], taps[3];
    const int64_t *idx[3];
    const double *w[3];
    const char *src;
    char *dst;
} ft_interp_ctx;

#define FT_INTERP_FWD(T)                                                                                \
    for (int64_t p = begin; p < end; p++) {                                                             \
        const T *x = (const T *)c->src + p * in_plane;                                                  \
        T *y = (T *)c->dst + p * out_plane;                                                             \
        int64_t o = 0;                                                                                  \
        for (int64_t a = 0; a < c->out_sizes[0]; a++) {                                                 \
            const int64_t *ia = c->idx[0] + a * ka;                                                     \
            const double *wa = c->w[0] + a * ka;                                                        \
            for (int64_t b = 0; b < c->out_sizes[1]; b++) {                                             \
                const int64_t *ib = c->idx[1] + b * kb;                                                 \
                const double *wb = c->w[1] + b * kb;                                                    \
                for (int64_t d = 0; d < c->out_sizes[2]; d++, o++) {                                    \
                    const int64_t *id = c->idx[2] + d * kd;                                             \
                    const double *wd = c->w[2] + d * kd;                                                \
                    if (c->mode == FT_INTERP_NEAREST) {                                                 \
                        y[o] = x[(ia[0] * c->in_sizes[1] + ib[0]) * c->in_sizes[2] + id[0]];            \
                        continue;                                                                       \
                    }                                                                                   \
                    T acc_a = 0;                                                                        \
                    for (int64_t s = 0; s < ka; s++) {                                                  \
                        T acc_b = 0;                                                                    \
                        for (int64_t t = 0; t < kb; t++) {                                              \
                            const T *row = x + (ia[s] * c->in_sizes[1] + ib[t]) * c->in_sizes[2];       \
                            T acc_d = row[id[0]] * (T)wd[0];                                            \
                            for (int64_t u = 1; u < kd; u++) acc_d += row[id[u]] * (T)wd[u];            \
                            if (t == 0) acc_b = acc_d * (T)wb[0];                                       \
                            else acc_b += acc_d * (T)wb[t];                                             \
                        }                                                                               \
                        if (s == 0) acc_a = acc_b * (T)wa[0];                                           \
                        else acc_a += acc_b * (T)wa[s];                                                 \
                    }                                                                                   \
                    y[o] = acc_a;                                                                       \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

#define FT_INTERP_BWD(T)                                                                                \
    for (int64_t p = begin; p < end; p++) {                                                             \
        const T *g = (const T *)c->src + p * out_plane;                                                 \
        T *x = (T *)c->dst + p * in_plane;                                                              \
        for (int64_t q = 0; q < in_plane; q++) x[q] = 0;                                                \
        int64_t o = 0;                                                                                  \
        for (int64_t a = 0; a < c->out_sizes[0]; a++) {                                                 \
            const int64_t *ia = c->idx[0] + a * ka;                                                     \
            const double *wa = c->w[0] + a * ka;                                                        \
            for (int64_t b = 0; b < c->out_sizes[1]; b++) {                                             \
                const int64_t *ib = c->idx[1] + b * kb;                                                 \
                const double *wb = c->w[1] + b * kb;                                                    \
                for (int64_t d = 0; d < c->out_sizes[2]; d++, o++) {                                    \
                    const int64_t *id = c->idx[2] + d * kd;                                             \
                    const double *wd = c->w[2] + d * kd;                                                \
                    if (c->mode == FT_INTERP_NEAREST) {                                                 \
                        x[(ia[0] * c->in_sizes[1] + ib[0]) * c->in_sizes[2] + id[0]] += g[o];           \
                        continue;                                                                       \
                    }                                                                                   \
                    for (int64_t s = 0; s < ka; s++)                                                    \
                        for (int64_t t = 0; t < kb; t++) {                                              \
                            T *row = x + (ia[s] * c->in_sizes[1] + ib[t]) * c->in_sizes[2];             \
                            const T gst = g[o] * (T)wa[s] * (T)wb[t];                                   \
                            for (int64_t u = 0; u < kd; u++) row[id[u]] += gst * (T)wd[u];              \
                        }                                                                               \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

static void ft_interp_range(void *ctx, int64_t begin, int64_t end) {
    const ft_interp_ctx *c = ctx;
    const int64_t in_plane = c->in_sizes[0] * c->in_sizes[1] * c->in_sizes[2];
    const int64_t out_plane = c->out_sizes[0] * c->out_sizes[1] * c->out_sizes[2];
    const int64_t ka = c->taps[0], kb = c->taps[1], kd = c->taps[2];
    switch (c->dtype) {
    case FT_UINT8: { typedef uint8_t T; if (c->mode == FT_INTERP_NEAREST) { FT_INTERP_FWD(T) } } break;
    case FT_FLOAT32: { FT_INTERP_FWD(float) } break;
    case FT_FLOAT64: { FT_INTERP_FWD(double) } break;
    default: break;
    }
}

static void ft_interp_backward_range(void *ctx, int64_t begin, int64_t end) {
    const ft_interp_ctx *c = ctx;
    const int64_t in_plane = c->in_sizes[0] * c->in_sizes[1] * c->in_sizes[2];
    const int64_t out_plane = c->out_sizes[0] * c->out_sizes[1] * c->out_sizes[2];
    const int64_t ka = c->taps[0], kb = c->taps[1], kd = c->taps[2];
    switch (c->dtype) {
    case FT_FLOAT32: { FT_INTERP_BWD(float) } break;
    case FT_FLOAT64: { FT_INTERP_BWD(double) } break;
    default: break;
    }
}

static int ft_interp_setup(ft_interp_ctx *c, int mode, int dtype, const int64_t *in_sizes, const int64_t *out_sizes,
                           const int64_t *taps, const int64_t *idx, const double *w) {
    if (mode < 0 || mode >= FT_INTERP_COUNT) return ft_set_error(FT_ERR_VALUE, "interpolate: unknown mode %d", mode);
    c->mode = mode;
    c->dtype = dtype;
    int64_t offset = 0;
    for (int d = 0; d < 3; d++) {
        if (in_sizes[d] < 0 || out_sizes[d] < 0 || taps[d] < 1 || taps[d] > 4)
            return ft_set_error(FT_ERR_RUNTIME, "interpolate: invalid sizes");
        c->in_sizes[d] = in_sizes[d];
        c->out_sizes[d] = out_sizes[d];
        c->taps[d] = taps[d];
        c->idx[d] = idx + offset;
        c->w[d] = w + offset;
        for (int64_t k = 0; k < out_sizes[d] * taps[d]; k++)
            if (idx[offset + k] < 0 || idx[offset + k] >= in_sizes[d])
                return ft_set_error(FT_ERR_INDEX, "interpolate: source index out of range");
        offset += out_sizes[d] * taps[d];
    }
    return FT_OK;
}

int ft_interpolate(int mode, int dtype, int64_t planes, const int64_t *in_sizes, const int64_t *out_sizes,
                   const int64_t *taps, const int64_t *idx, const double *w, intptr_t in, intptr_t out) {
    ft_interp_ctx c;
    int status = ft_interp_setup(&c, mode, dtype, in_sizes, out_sizes, taps, idx, w);
    if (status) return status;
    if (!(dtype == FT_FLOAT32 || dtype == FT_FLOAT64 || (dtype == FT_UINT8 && mode == FT_INTERP_NEAREST)))
        return ft_set_error(FT_ERR_UNSUPPORTED, "interpolate: unsupported dtype %s", ft_dtype_name(dtype));
    c.src = (const char *)in;
    c.dst = (char *)out;
    const int64_t work = out_sizes[0] * out_sizes[1] * out_sizes[2];
    if (planes <= 0 || work == 0) return FT_OK;
    return ft_parallel_for(planes, work >= 16384 ? 1 : 16384 / work, ft_interp_range, &c);
}

int ft_interpolate_backward(int mode, int dtype, int64_t planes, const int64_t *in_sizes, const int64_t *out_sizes,
                            const int64_t *taps, const int64_t *idx, const double *w,
                            intptr_t grad_out, intptr_t grad_in) {
    ft_interp_ctx c;
    int status = ft_interp_setup(&c, mode, dtype, in_sizes, out_sizes, taps, idx, w);
    if (status) return status;
    if (!ft_is_floating(dtype))
        return ft_set_error(FT_ERR_UNSUPPORTED, "interpolate backward: unsupported dtype %s", ft_dtype_name(dtype));
    c.src = (const char *)grad_out;
    c.dst = (char *)grad_in;
    const int64_t in_plane = in_sizes[0] * in_sizes[1] * in_sizes[2];
    const int64_t work = out_sizes[0] * out_sizes[1] * out_sizes[2] + in_plane;
    if (planes <= 0 || in_plane == 0) return FT_OK;
    return ft_parallel_for(planes, work >= 16384 ? 1 : 16384 / (work ? work : 1), ft_interp_backward_range, &c);
}
