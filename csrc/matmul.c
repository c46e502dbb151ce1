/* PLACEHOLDER: replaced by the matmul kernels. */
#include "ft_internal.h"
int ft_matmul(int dtype, int64_t batch, int64_t m, int64_t n, int64_t k, intptr_t a, int64_t a_batch_stride, int64_t a_row_stride, int64_t a_col_stride, intptr_t b, int64_t b_batch_stride, int64_t b_row_stride, int64_t b_col_stride, intptr_t out, int64_t out_batch_stride, int64_t out_row_stride, int64_t out_col_stride, double alpha, double beta) { return ft_set_error(FT_ERR_UNSUPPORTED, "not implemented yet"); }
