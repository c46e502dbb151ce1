/* Convolution helpers (conv.c): image <-> column unfolding for the im2col convolution; the
 * products themselves run on ft_matmul. */
#include "../ft.h"

/* cols[b, (c*kh + i)*kw + j, oh*out_w + ow] = in[b, c, oh*stride_h - pad_h + i*dil_h, ow*stride_w - pad_w + j*dil_w]
 * (0 outside the image), b < batch; in has element strides in_strides (batch, channel, row, column),
 * cols is contiguous (batch, channels*kh*kw, out_h*out_w). */
int ft_im2col(int dtype, int64_t batch, int64_t channels, int64_t height, int64_t width,
              intptr_t in, const int64_t *in_strides,
              int64_t kh, int64_t kw, int64_t pad_h, int64_t pad_w, int64_t stride_h, int64_t stride_w,
              int64_t dil_h, int64_t dil_w, int64_t out_h, int64_t out_w, intptr_t cols);
/* The adjoint: out (contiguous batch, channels, height, width) = the sum of every column entry
 * into the image position it was read from (out is overwritten). */
int ft_col2im(int dtype, int64_t batch, int64_t channels, int64_t height, int64_t width,
              int64_t kh, int64_t kw, int64_t pad_h, int64_t pad_w, int64_t stride_h, int64_t stride_w,
              int64_t dil_h, int64_t dil_w, int64_t out_h, int64_t out_w, intptr_t cols, intptr_t out);
