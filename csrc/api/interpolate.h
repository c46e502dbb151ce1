/* Separable interpolation (interpolate.c) over contiguous (planes, d0, d1, d2) images: 1-, 2- and
 * 3-d inputs pass size 1 for the missing leading dims. Dim d has taps[d] source taps (1, 2 or 4)
 * per output index o: source indices idx[off_d + o*taps[d] + k] and weights w[...], off_d the sum
 * of out_sizes[e]*taps[e] over the dims e before d. */
#include "../ft.h"

typedef enum { FT_INTERP_NEAREST = 0, FT_INTERP_WEIGHTED, FT_INTERP_COUNT } ft_interp_mode;

/* NEAREST copies in at the first tap of each dim; WEIGHTED nests, outermost dim first:
 * out = sum_k w[k] * (inner at idx[k]) (first product assigned, the rest added, torch's order),
 * computed in the dtype (weights rounded to it). */
int ft_interpolate(int mode, int dtype, int64_t planes, const int64_t *in_sizes, const int64_t *out_sizes,
                   const int64_t *taps, const int64_t *idx, const double *w, intptr_t in, intptr_t out);
/* The gradient: grad_in (contiguous, overwritten) accumulates every grad_out element times its weights. */
int ft_interpolate_backward(int mode, int dtype, int64_t planes, const int64_t *in_sizes, const int64_t *out_sizes,
                            const int64_t *taps, const int64_t *idx, const double *w,
                            intptr_t grad_out, intptr_t grad_in);
