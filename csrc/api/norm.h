/* Normalization statistics (norm.c). */
#include "../ft.h"

/* For each group g < groups: the mean and the biased variance of the elements
 * in[g*group_stride + a*outer_stride + i] for a < outer, i < inner (inner contiguous), accumulated in
 * double, written to mean[g] and var[g] in dtype (float32 or float64). Layer norm: one row per
 * group (outer 1); group norm: one (sample, group) block per group; batch norm: a channel per
 * group (outer = batch, outer_stride = channels * inner). */
int ft_moments(int dtype, int64_t groups, int64_t group_stride, int64_t outer, int64_t outer_stride, int64_t inner,
               intptr_t in, intptr_t mean, intptr_t var);
