/* nearest / linear interpolation, 1-3 spatial dims, separable weights (see api/interpolate.h).
 * torch's nesting and arithmetic in the element type; planes are split across the thread pool. */
#include "ft_internal.h"
#include "api/interpolate.h"

typedef struct {
    int mode, dtype;
    int64_t in_sizes[3], out_sizes[3];
    const int64_t *i0[3], *i1[3];
    const double *w0[3], *w1[3];
    const char *src;
    char *dst;
} ft_interp_ctx;

#define FT_INTERP_FWD(T)                                                                                \
    for (int64_t p = begin; p < end; p++) {                                                             \
        const T *x = (const T *)c->src + p * in_plane;                                                  \
        T *y = (T *)c->dst + p * out_plane;                                                             \
        int64_t o = 0;                                                                                  \
        for (int64_t a = 0; a < c->out_sizes[0]; a++)                                                   \
            for (int64_t b = 0; b < c->out_sizes[1]; b++)                                               \
                for (int64_t d = 0; d < c->out_sizes[2]; d++, o++) {                                    \
                    if (c->mode == FT_INTERP_NEAREST) {                                                 \
                        y[o] = x[(c->i0[0][a] * c->in_sizes[1] + c->i0[1][b]) * c->in_sizes[2] + c->i0[2][d]]; \
                        continue;                                                                       \
                    }                                                                                   \
                    const int64_t ia[2] = {c->i0[0][a], c->i1[0][a]}, ib[2] = {c->i0[1][b], c->i1[1][b]}; \
                    const int64_t id[2] = {c->i0[2][d], c->i1[2][d]};                                    \
                    const T wa[2] = {(T)c->w0[0][a], (T)c->w1[0][a]}, wb[2] = {(T)c->w0[1][b], (T)c->w1[1][b]}; \
                    const T wd[2] = {(T)c->w0[2][d], (T)c->w1[2][d]};                                    \
                    T acc_a = 0;                                                                        \
                    for (int s = 0; s < na; s++) {                                                      \
                        T acc_b = 0;                                                                    \
                        for (int t = 0; t < nb; t++) {                                                  \
                            const T *row = x + (ia[s] * c->in_sizes[1] + ib[t]) * c->in_sizes[2];       \
                            T acc_d = row[id[0]] * wd[0];                                               \
                            if (nd > 1) acc_d += row[id[1]] * wd[1];                                    \
                            if (nb > 1) acc_b = t == 0 ? acc_d * wb[0] : acc_b + acc_d * wb[1];         \
                            else acc_b = acc_d;                                                         \
                        }                                                                               \
                        if (na > 1) acc_a = s == 0 ? acc_b * wa[0] : acc_a + acc_b * wa[1];             \
                        else acc_a = acc_b;                                                             \
                    }                                                                                   \
                    y[o] = acc_a;                                                                       \
                }                                                                                       \
    }

#define FT_INTERP_BWD(T)                                                                                \
    for (int64_t p = begin; p < end; p++) {                                                             \
        const T *g = (const T *)c->src + p * out_plane;                                                 \
        T *x = (T *)c->dst + p * in_plane;                                                              \
        for (int64_t q = 0; q < in_plane; q++) x[q] = 0;                                                \
        int64_t o = 0;                                                                                  \
        for (int64_t a = 0; a < c->out_sizes[0]; a++)                                                   \
            for (int64_t b = 0; b < c->out_sizes[1]; b++)                                               \
                for (int64_t d = 0; d < c->out_sizes[2]; d++, o++) {                                    \
                    if (c->mode == FT_INTERP_NEAREST) {                                                 \
                        x[(c->i0[0][a] * c->in_sizes[1] + c->i0[1][b]) * c->in_sizes[2] + c->i0[2][d]] += g[o]; \
                        continue;                                                                       \
                    }                                                                                   \
                    const int64_t ia[2] = {c->i0[0][a], c->i1[0][a]}, ib[2] = {c->i0[1][b], c->i1[1][b]}; \
                    const int64_t id[2] = {c->i0[2][d], c->i1[2][d]};                                    \
                    const T wa[2] = {(T)c->w0[0][a], (T)c->w1[0][a]}, wb[2] = {(T)c->w0[1][b], (T)c->w1[1][b]}; \
                    const T wd[2] = {(T)c->w0[2][d], (T)c->w1[2][d]};                                    \
                    for (int s = 0; s < na; s++)                                                        \
                        for (int t = 0; t < nb; t++) {                                                  \
                            T *row = x + (ia[s] * c->in_sizes[1] + ib[t]) * c->in_sizes[2];             \
                            const T gst = g[o] * (na > 1 ? wa[s] : (T)1) * (nb > 1 ? wb[t] : (T)1);     \
                            row[id[0]] += gst * wd[0];                                                  \
                            if (nd > 1) row[id[1]] += gst * wd[1];                                      \
                        }                                                                               \
                }                                                                                       \
    }

static void ft_interp_range(void *ctx, int64_t begin, int64_t end) {
    const ft_interp_ctx *c = ctx;
    const int64_t in_plane = c->in_sizes[0] * c->in_sizes[1] * c->in_sizes[2];
    const int64_t out_plane = c->out_sizes[0] * c->out_sizes[1] * c->out_sizes[2];
    /* a linear dim of size 1 on both sides is not interpolated (its weights are 1 and 0) */
    const int na = (c->mode == FT_INTERP_LINEAR && !(c->in_sizes[0] == 1 && c->out_sizes[0] == 1)) ? 2 : 1;
    const int nb = (c->mode == FT_INTERP_LINEAR && !(c->in_sizes[1] == 1 && c->out_sizes[1] == 1)) ? 2 : 1;
    const int nd = c->mode == FT_INTERP_LINEAR ? 2 : 1;
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
    const int na = (c->mode == FT_INTERP_LINEAR && !(c->in_sizes[0] == 1 && c->out_sizes[0] == 1)) ? 2 : 1;
    const int nb = (c->mode == FT_INTERP_LINEAR && !(c->in_sizes[1] == 1 && c->out_sizes[1] == 1)) ? 2 : 1;
    const int nd = c->mode == FT_INTERP_LINEAR ? 2 : 1;
    switch (c->dtype) {
    case FT_FLOAT32: { FT_INTERP_BWD(float) } break;
    case FT_FLOAT64: { FT_INTERP_BWD(double) } break;
    default: break;
    }
}

static int ft_interp_setup(ft_interp_ctx *c, int mode, int dtype, const int64_t *in_sizes, const int64_t *out_sizes,
                           const int64_t *idx0, const int64_t *idx1, const double *w0, const double *w1) {
    if (mode < 0 || mode >= FT_INTERP_COUNT) return ft_set_error(FT_ERR_VALUE, "interpolate: unknown mode %d", mode);
    c->mode = mode;
    c->dtype = dtype;
    int64_t offset = 0;
    for (int d = 0; d < 3; d++) {
        if (in_sizes[d] < 0 || out_sizes[d] < 0) return ft_set_error(FT_ERR_RUNTIME, "interpolate: invalid sizes");
        c->in_sizes[d] = in_sizes[d];
        c->out_sizes[d] = out_sizes[d];
        c->i0[d] = idx0 + offset;
        c->i1[d] = idx1 + offset;
        c->w0[d] = w0 + offset;
        c->w1[d] = w1 + offset;
        for (int64_t o = 0; o < out_sizes[d]; o++)
            if (idx0[offset + o] < 0 || idx0[offset + o] >= in_sizes[d] || idx1[offset + o] < 0 ||
                idx1[offset + o] >= in_sizes[d])
                return ft_set_error(FT_ERR_INDEX, "interpolate: source index out of range");
        offset += out_sizes[d];
    }
    return FT_OK;
}

int ft_interpolate(int mode, int dtype, int64_t planes, const int64_t *in_sizes, const int64_t *out_sizes,
                   const int64_t *idx0, const int64_t *idx1, const double *w0, const double *w1,
                   intptr_t in, intptr_t out) {
    ft_interp_ctx c;
    int status = ft_interp_setup(&c, mode, dtype, in_sizes, out_sizes, idx0, idx1, w0, w1);
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
                            const int64_t *idx0, const int64_t *idx1, const double *w0, const double *w1,
                            intptr_t grad_out, intptr_t grad_in) {
    ft_interp_ctx c;
    int status = ft_interp_setup(&c, mode, dtype, in_sizes, out_sizes, idx0, idx1, w0, w1);
    if (status) return status;
    if (!ft_is_floating(dtype))
        return ft_set_error(FT_ERR_UNSUPPORTED, "interpolate backward: unsupported dtype %s", ft_dtype_name(dtype));
    c.src = (const char *)grad_out;
    c.dst = (char *)grad_in;
    const int64_t work = out_sizes[0] * out_sizes[1] * out_sizes[2] + in_sizes[0] * in_sizes[1] * in_sizes[2];
    if (planes <= 0 || in_sizes[0] * in_sizes[1] * in_sizes[2] == 0) return FT_OK;
    return ft_parallel_for(planes, work >= 16384 ? 1 : 16384 / (work ? work : 1), ft_interp_backward_range, &c);
}
