/* Pooling (pool.c) over contiguous (planes, height, width) images. A window is given per output
 * row and column: rows start + k*dil_h for k < count_h[oh] (those outside [0, height) skipped),
 * likewise columns; max and average pooling and their adaptive forms all reduce to this. */
#include "../ft.h"

typedef enum { FT_POOL_MAX = 0, FT_POOL_AVG, FT_POOL_AVG_ADAPTIVE, FT_POOL_COUNT } ft_pool_op;

/* MAX: out = the window's maximum (NaN wins, torch's rule), indices = its h*width + w (int64; 0 = none).
 * AVG: out = window sum / divisor, divisor = divisor_override if not 0 (none) else div_h[oh] * div_w[ow].
 * AVG_ADAPTIVE: out = window sum / div_h[oh] / div_w[ow]. */
int ft_pool2d(int op, int dtype, int64_t planes, int64_t height, int64_t width, int64_t out_h, int64_t out_w,
              const int64_t *start_h, const int64_t *count_h, int64_t dil_h,
              const int64_t *start_w, const int64_t *count_w, int64_t dil_w,
              const int64_t *div_h, const int64_t *div_w, int64_t divisor_override,
              intptr_t in, intptr_t out, intptr_t indices);
/* The gradients: grad_in (contiguous, overwritten) from grad_out. MAX scatters through indices. */
int ft_pool2d_backward(int op, int dtype, int64_t planes, int64_t height, int64_t width, int64_t out_h,
                       int64_t out_w, const int64_t *start_h, const int64_t *count_h, int64_t dil_h,
                       const int64_t *start_w, const int64_t *count_w, int64_t dil_w,
                       const int64_t *div_h, const int64_t *div_w, int64_t divisor_override,
                       intptr_t grad_out, intptr_t indices, intptr_t grad_in);
/* out[p, o] = in[p, indices[p, o]] over (planes, n_out) from (planes, n_in): max pooling's double backward. */
int ft_pool_gather(int dtype, int64_t planes, int64_t n_in, int64_t n_out, intptr_t in, intptr_t indices,
                   intptr_t out);
