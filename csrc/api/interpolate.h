/* Separable interpolation (interpolate.c) over contiguous (planes, d0, d1, d2) images: 1-, 2- and
 * 3-d inputs pass size 1 for the missing leading dims. Per output index o of dim d (arrays
 * concatenated over the dims, dim 0 first): the source indices idx0/idx1 and weights w0/w1. */
#include "../ft.h"

typedef enum { FT_INTERP_NEAREST = 0, FT_INTERP_LINEAR, FT_INTERP_COUNT } ft_interp_mode;

/* NEAREST copies in[idx0...]; LINEAR nests, outermost dim first:
 * out = w0 * (inner at idx0) + w1 * (inner at idx1), computed in the dtype (weights rounded to it). */
int ft_interpolate(int mode, int dtype, int64_t planes, const int64_t *in_sizes, const int64_t *out_sizes,
                   const int64_t *idx0, const int64_t *idx1, const double *w0, const double *w1,
                   intptr_t in, intptr_t out);
/* The gradient: grad_in (contiguous, overwritten) accumulates every grad_out element times its weights. */
int ft_interpolate_backward(int mode, int dtype, int64_t planes, const int64_t *in_sizes, const int64_t *out_sizes,
                            const int64_t *idx0, const int64_t *idx1, const double *w0, const double *w1,
                            intptr_t grad_out, intptr_t grad_in);
