/* PLACEHOLDER: replaced by the elementwise kernels. */
#include "ft_internal.h"
#define NI return ft_set_error(FT_ERR_UNSUPPORTED, "not implemented yet")
int ft_unary(int op, int out_dtype, int in_dtype, int ndim, const int64_t *sizes, intptr_t out, const int64_t *out_strides, intptr_t a, const int64_t *a_strides) { NI; }
int ft_unary_contig(int op, int out_dtype, int in_dtype, int64_t n, intptr_t out, intptr_t a) { NI; }
int ft_binary(int op, int out_dtype, int in_dtype, int ndim, const int64_t *sizes, intptr_t out, const int64_t *out_strides, intptr_t a, const int64_t *a_strides, intptr_t b, const int64_t *b_strides, double alpha_f, int64_t alpha_i) { NI; }
int ft_binary_contig(int op, int out_dtype, int in_dtype, int64_t n, intptr_t out, intptr_t a, int64_t a_step, intptr_t b, int64_t b_step, double alpha_f, int64_t alpha_i) { NI; }
int ft_where(int dtype, int ndim, const int64_t *sizes, intptr_t out, const int64_t *out_strides, intptr_t cond, const int64_t *cond_strides, intptr_t a, const int64_t *a_strides, intptr_t b, const int64_t *b_strides) { NI; }
int ft_nan_to_num(int dtype, int ndim, const int64_t *sizes, intptr_t out, const int64_t *out_strides, intptr_t a, const int64_t *a_strides, double nan, double posinf, double neginf) { NI; }
