/* Sorting and selection along one dim (csrc/sort.c).
 *
 * Rows are described as in scan.h: n_outer dims of outer_sizes, and per operand its
 * outer strides and its step along the sorted dim, in elements. Every order puts NaN
 * above every number (torch's order); equal keys keep their input order (stable).
 * The caller hands in a work buffer of ft_sort_work_bytes(dtype, length) bytes.
 *
 * ft_sort: values (may be 0) and int64 indices of each row sorted; stable = 0 runs the
 * introsort torch's unstable sort runs (libstdc++'s std::sort), so ties land as in torch.
 * ft_topk: the k largest (smallest) of each row, torch's way (partial_sort when k * 64 <= n,
 * else nth_element and, when sorted, a sort of the first k - 1).
 * ft_select: one value and one int64 index per row (outputs described by their outer
 * strides only): FT_SELECT_KTH the k-th smallest (k from 1; torch's quickselect, so ties
 * resolve as torch's do), FT_SELECT_MEDIAN the lower median (the first NaN if any),
 * FT_SELECT_NANMEDIAN the lower median of the non-NaN values, FT_SELECT_MODE the most
 * frequent value (the smallest on a tie) and the last index holding it.
 *
 * ft_gather_dim / ft_scatter_add_dim: out[p] = src[p with dim := index[p]] and
 * dst[p with dim := index[p]] += src[p] over an index box of length entries per row;
 * target_length is the size of the indexed dim. Indices are checked before any write.
 *
 * ft_searchsorted: for each value, the insertion point in its sorted row of boundaries
 * (left: first position with boundary >= value; right: first with boundary > value; NaN
 * largest), through an optional int64 sorter; results as int64 or int32 (out_int32). */
#ifndef FT_API_SORT_H
#define FT_API_SORT_H

#include "../ft.h"

typedef enum {
    FT_SELECT_KTH = 0, FT_SELECT_MEDIAN, FT_SELECT_NANMEDIAN, FT_SELECT_MODE,
    FT_SELECT_COUNT
} ft_select_op;

int64_t ft_sort_work_bytes(int dtype, int64_t length);

int ft_sort(int dtype, int n_outer, const int64_t *outer_sizes, int64_t length,
            intptr_t in, const int64_t *in_outer, int64_t in_step,
            intptr_t values, const int64_t *values_outer, int64_t values_step,
            intptr_t indices, const int64_t *indices_outer, int64_t indices_step,
            int descending, int stable, intptr_t work, int64_t work_bytes);

int ft_topk(int dtype, int n_outer, const int64_t *outer_sizes, int64_t length,
            intptr_t in, const int64_t *in_outer, int64_t in_step,
            intptr_t values, const int64_t *values_outer, int64_t values_step,
            intptr_t indices, const int64_t *indices_outer, int64_t indices_step,
            int64_t k, int largest, int sorted, intptr_t work, int64_t work_bytes);

int ft_select(int op, int dtype, int n_outer, const int64_t *outer_sizes, int64_t length,
              intptr_t in, const int64_t *in_outer, int64_t in_step,
              intptr_t values, const int64_t *values_outer,
              intptr_t indices, const int64_t *indices_outer,
              int64_t k, intptr_t work, int64_t work_bytes);

int ft_gather_dim(int dtype, int n_outer, const int64_t *outer_sizes, int64_t length, int64_t target_length,
                  intptr_t src, const int64_t *src_outer, int64_t src_step,
                  intptr_t index, const int64_t *index_outer, int64_t index_step,
                  intptr_t out, const int64_t *out_outer, int64_t out_step);

int ft_scatter_add_dim(int dtype, int n_outer, const int64_t *outer_sizes, int64_t length, int64_t target_length,
                       intptr_t src, const int64_t *src_outer, int64_t src_step,
                       intptr_t index, const int64_t *index_outer, int64_t index_step,
                       intptr_t dst, const int64_t *dst_outer, int64_t dst_step);

int ft_searchsorted(int dtype, int64_t n_rows, int64_t boundaries_length, int64_t values_per_row,
                    intptr_t boundaries, int64_t boundaries_row_stride, int64_t boundaries_step,
                    intptr_t sorter, int64_t sorter_row_stride, int64_t sorter_step,
                    intptr_t values, int64_t values_row_stride, int64_t values_step,
                    intptr_t out, int out_int32, int right);

/* ft_unique_runs: runs of equal rows among n_rows contiguous rows of row_length elements
 * (NaN equals nothing): each row's run number (group), each run's first row and length;
 * *n_groups gets the number of runs. ft_iota: out[i] = i. */
int ft_unique_runs(int dtype, int64_t n_rows, int64_t row_length, intptr_t rows,
                   intptr_t group, intptr_t first, intptr_t counts, int64_t *n_groups);
int ft_iota(intptr_t out, int64_t n);

/* ft_histc: hist[bins] (zeroed by the caller, the input's float dtype) counts the n elements
 * of a contiguous float input within [low, high], torch's way: bin = (x - low) * bins /
 * (high - low) in the input's precision, x == high in the last bin, NaN and values outside
 * skipped. */
int ft_histc(int dtype, int64_t n, intptr_t input, int64_t bins, double low, double high, intptr_t hist);

#endif
