/* PLACEHOLDER: replaced by the reduction kernels. */
#include "ft_internal.h"
int ft_reduce(int op, int out_dtype, int in_dtype, int n_outer, const int64_t *outer_sizes, int n_inner, const int64_t *inner_sizes, intptr_t in, const int64_t *in_outer_strides, const int64_t *in_inner_strides, intptr_t out, const int64_t *out_strides, intptr_t index_out, const int64_t *index_strides, double param) { return ft_set_error(FT_ERR_UNSUPPORTED, "not implemented yet"); }
