/* im2col / col2im for the convolutions (engine/_ops/conv.py): the products run on ft_matmul.
 * One (batch, channel) plane per task, split across the thread pool. */
#include "ft_internal.h"
#include "api/conv.h"

typedef struct {
    int dtype;
    int64_t channels, height, width, kh, kw, pad_h, pad_w, stride_h, stride_w, dil_h, dil_w, out_h, out_w;
    const char *in;
    int64_t s_b, s_c, s_h, s_w;
    char *cols;
    char *out;
} ft_conv_ctx;

#define FT_IM2COL_BODY(T)                                                                             \
    for (int64_t p = begin; p < end; p++) {                                                           \
        const int64_t b = p / c->channels, ch = p % c->channels;                                      \
        const T *src = (const T *)c->in + b * c->s_b + ch * c->s_c;                                   \
        T *dst = (T *)c->cols + p * c->kh * c->kw * c->out_h * c->out_w;                              \
        for (int64_t i = 0; i < c->kh; i++)                                                           \
            for (int64_t j = 0; j < c->kw; j++) {                                                     \
                for (int64_t oh = 0; oh < c->out_h; oh++) {                                           \
                    const int64_t ih = oh * c->stride_h - c->pad_h + i * c->dil_h;                    \
                    T *row = dst + oh * c->out_w;                                                     \
                    if (ih < 0 || ih >= c->height) {                                                  \
                        for (int64_t ow = 0; ow < c->out_w; ow++) row[ow] = 0;                        \
                        continue;                                                                     \
                    }                                                                                 \
                    const T *srow = src + ih * c->s_h;                                                \
                    const int64_t off = j * c->dil_w - c->pad_w;                                      \
                    if (c->stride_w == 1 && c->s_w == 1) {                                            \
                        int64_t lo = off < 0 ? -off : 0;                                              \
                        int64_t hi = c->width - off;                                                  \
                        if (hi > c->out_w) hi = c->out_w;                                             \
                        if (lo > c->out_w) lo = c->out_w;                                             \
                        if (hi < lo) hi = lo;                                                         \
                        for (int64_t ow = 0; ow < lo; ow++) row[ow] = 0;                              \
                        if (hi > lo) memcpy(row + lo, srow + lo + off, (size_t)(hi - lo) * sizeof(T)); \
                        for (int64_t ow = hi; ow < c->out_w; ow++) row[ow] = 0;                       \
                    } else {                                                                          \
                        for (int64_t ow = 0; ow < c->out_w; ow++) {                                   \
                            const int64_t iw = ow * c->stride_w + off;                                \
                            row[ow] = (iw >= 0 && iw < c->width) ? srow[iw * c->s_w] : (T)0;          \
                        }                                                                             \
                    }                                                                                 \
                }                                                                                     \
                dst += c->out_h * c->out_w;                                                           \
            }                                                                                         \
    }

static void ft_im2col_range(void *ctx, int64_t begin, int64_t end) {
    const ft_conv_ctx *c = ctx;
    switch (c->dtype) {
    case FT_UINT8: { FT_IM2COL_BODY(uint8_t) } break;
    case FT_INT8: { FT_IM2COL_BODY(int8_t) } break;
    case FT_INT16: { FT_IM2COL_BODY(int16_t) } break;
    case FT_INT32: { FT_IM2COL_BODY(int32_t) } break;
    case FT_INT64: { FT_IM2COL_BODY(int64_t) } break;
    case FT_FLOAT32: { FT_IM2COL_BODY(float) } break;
    case FT_FLOAT64: { FT_IM2COL_BODY(double) } break;
    default: break;
    }
}

/* integer sums wrap like torch's: add on the unsigned type */
#define FT_ADD_INTO_F(T, dst, v) ((dst) += (v))
#define FT_ADD_INTO_I(T, U, dst, v) ((dst) = (T)(U)((U)(dst) + (U)(v)))

#define FT_COL2IM_BODY(T, ADD)                                                                        \
    for (int64_t p = begin; p < end; p++) {                                                           \
        T *dst = (T *)c->out + p * c->height * c->width;                                              \
        const T *src = (const T *)c->cols + p * c->kh * c->kw * c->out_h * c->out_w;                  \
        for (int64_t q = 0; q < c->height * c->width; q++) dst[q] = 0;                                \
        for (int64_t i = 0; i < c->kh; i++)                                                           \
            for (int64_t j = 0; j < c->kw; j++) {                                                     \
                for (int64_t oh = 0; oh < c->out_h; oh++) {                                           \
                    const int64_t ih = oh * c->stride_h - c->pad_h + i * c->dil_h;                    \
                    if (ih < 0 || ih >= c->height) continue;                                          \
                    const T *row = src + oh * c->out_w;                                               \
                    T *drow = dst + ih * c->width;                                                    \
                    const int64_t off = j * c->dil_w - c->pad_w;                                      \
                    for (int64_t ow = 0; ow < c->out_w; ow++) {                                       \
                        const int64_t iw = ow * c->stride_w + off;                                    \
                        if (iw >= 0 && iw < c->width) ADD;                                            \
                    }                                                                                 \
                }                                                                                     \
                src += c->out_h * c->out_w;                                                           \
            }                                                                                         \
    }

static void ft_col2im_range(void *ctx, int64_t begin, int64_t end) {
    const ft_conv_ctx *c = ctx;
    switch (c->dtype) {
    case FT_UINT8: { FT_COL2IM_BODY(uint8_t, FT_ADD_INTO_I(uint8_t, uint8_t, drow[iw], row[ow])) } break;
    case FT_INT8: { FT_COL2IM_BODY(int8_t, drow[iw] = ft_wrap_i8((uint64_t)(int64_t)drow[iw] + (uint64_t)(int64_t)row[ow])) } break;
    case FT_INT16: { FT_COL2IM_BODY(int16_t, drow[iw] = ft_wrap_i16((uint64_t)(int64_t)drow[iw] + (uint64_t)(int64_t)row[ow])) } break;
    case FT_INT32: { FT_COL2IM_BODY(int32_t, drow[iw] = ft_wrap_i32((uint64_t)(int64_t)drow[iw] + (uint64_t)(int64_t)row[ow])) } break;
    case FT_INT64: { FT_COL2IM_BODY(int64_t, drow[iw] = ft_wrap_i64((uint64_t)drow[iw] + (uint64_t)row[ow])) } break;
    case FT_FLOAT32: { FT_COL2IM_BODY(float, drow[iw] += row[ow]) } break;
    case FT_FLOAT64: { FT_COL2IM_BODY(double, drow[iw] += row[ow]) } break;
    default: break;
    }
}

static int ft_conv_check(int dtype, int64_t batch, int64_t channels, int64_t height, int64_t width, int64_t kh,
                         int64_t kw, int64_t stride_h, int64_t stride_w, int64_t dil_h, int64_t dil_w, int64_t out_h,
                         int64_t out_w) {
    if (!ft_is_valid_dtype(dtype) || dtype == FT_BOOL)
        return ft_set_error(FT_ERR_UNSUPPORTED, "im2col: unsupported dtype %s", ft_dtype_name(dtype));
    if (batch < 0 || channels < 0 || height < 0 || width < 0 || kh < 1 || kw < 1 || out_h < 0 || out_w < 0 ||
        stride_h < 1 || stride_w < 1 || dil_h < 1 || dil_w < 1)
        return ft_set_error(FT_ERR_RUNTIME, "im2col: invalid sizes");
    return FT_OK;
}

int ft_im2col(int dtype, int64_t batch, int64_t channels, int64_t height, int64_t width,
              intptr_t in, const int64_t *in_strides,
              int64_t kh, int64_t kw, int64_t pad_h, int64_t pad_w, int64_t stride_h, int64_t stride_w,
              int64_t dil_h, int64_t dil_w, int64_t out_h, int64_t out_w, intptr_t cols) {
    int status = ft_conv_check(dtype, batch, channels, height, width, kh, kw, stride_h, stride_w, dil_h, dil_w,
                               out_h, out_w);
    if (status) return status;
    ft_conv_ctx c = {dtype, channels, height, width, kh, kw, pad_h, pad_w, stride_h, stride_w, dil_h, dil_w,
                     out_h, out_w, (const char *)in, in_strides[0], in_strides[1], in_strides[2], in_strides[3],
                     (char *)cols, NULL};
    const int64_t planes = batch * channels;
    if (planes == 0 || out_h * out_w == 0) return FT_OK;
    int64_t work = kh * kw * out_h * out_w;
    int64_t grain = work >= 32768 ? 1 : 32768 / work;
    return ft_parallel_for(planes, grain, ft_im2col_range, &c);
}

int ft_col2im(int dtype, int64_t batch, int64_t channels, int64_t height, int64_t width,
              int64_t kh, int64_t kw, int64_t pad_h, int64_t pad_w, int64_t stride_h, int64_t stride_w,
              int64_t dil_h, int64_t dil_w, int64_t out_h, int64_t out_w, intptr_t cols, intptr_t out) {
    int status = ft_conv_check(dtype, batch, channels, height, width, kh, kw, stride_h, stride_w, dil_h, dil_w,
                               out_h, out_w);
    if (status) return status;
    ft_conv_ctx c = {dtype, channels, height, width, kh, kw, pad_h, pad_w, stride_h, stride_w, dil_h, dil_w,
                     out_h, out_w, NULL, 0, 0, 0, 0, (char *)cols, (char *)out};
    const int64_t planes = batch * channels;
    if (planes == 0 || height * width == 0) return FT_OK;
    int64_t work = kh * kw * out_h * out_w + height * width;
    int64_t grain = work >= 32768 ? 1 : 32768 / (work ? work : 1);
    return ft_parallel_for(planes, grain, ft_col2im_range, &c);
}
