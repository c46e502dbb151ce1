/* Scans along one dim (csrc/scan.c): cumsum, cumprod, logcumsumexp, cummax, cummin.
 *
 * A call describes its rows as a box: n_outer dims of outer_sizes (every dim but the
 * scanned one), and per operand its outer strides and its step along the scanned dim,
 * all in elements. in and out share dtype (the caller converts first, as torch does);
 * cumsum/cumprod accumulate in int64 for integers and double for floats (torch's CPU
 * acc_type), logcumsumexp in double. cummax/cummin also write int64 indices (idx);
 * other ops take idx = 0. */
#ifndef FT_API_SCAN_H
#define FT_API_SCAN_H

#include "../ft.h"

typedef enum {
    FT_SCAN_CUMSUM = 0, FT_SCAN_CUMPROD, FT_SCAN_LOGCUMSUMEXP, FT_SCAN_CUMMAX, FT_SCAN_CUMMIN,
    FT_SCAN_COUNT
} ft_scan_op;

int ft_scan(int op, int dtype, int n_outer, const int64_t *outer_sizes, int64_t length,
            intptr_t in, const int64_t *in_outer, int64_t in_step,
            intptr_t out, const int64_t *out_outer, int64_t out_step,
            intptr_t idx, const int64_t *idx_outer, int64_t idx_step);

#endif
