/* Indexing kernels (index.c): torch's advanced indexing, gather/scatter, index_select/add/copy/fill,
 * take/put and nonzero, all through one strided "indexer" loop. */
#ifndef FT_API_INDEX_H
#define FT_API_INDEX_H

#include "../ft.h"

typedef enum {
    FT_INDEX_GATHER = 0, /* a[it] = b[at(it)] */
    FT_INDEX_ASSIGN,     /* b[at(it)] = a[it] */
    FT_INDEX_ADD,        /* b[at(it)] += a[it] (bool: or) */
    FT_INDEX_MUL,        /* b[at(it)] *= a[it] (bool: and) */
    FT_INDEX_MAX,        /* b[at(it)] = max(b, a), a NaN in a wins */
    FT_INDEX_MIN,        /* b[at(it)] = min(b, a), a NaN in a wins */
    FT_INDEX_MODE_COUNT
} ft_index_mode;

typedef enum {
    FT_INDEX_ERR_INDEX = 0, /* IndexError: index i is out of bounds for dimension d with size n */
    FT_INDEX_ERR_RUNTIME,   /* RuntimeError, the same message (gather, scatter, index_add) */
    FT_INDEX_ERR_SELECT,    /* IndexError: index out of range in self (index_select) */
    FT_INDEX_ERR_TAKE,      /* IndexError: out of range: tried to access index i on a tensor of n elements. */
    FT_INDEX_ERR_COPY,      /* IndexError: index_copy_(): index i is out of bounds for dimension d with size n */
    FT_INDEX_ERR_COUNT
} ft_index_error;

/* Over the ndim box `sizes` (row-major order, so writes to the same place happen in a defined
 * order): at(it) = b + b_strides . it + sum_k wrap(idx_k[it]) * idx_b_strides[k], where idx_k has
 * dtype idx_dtypes[k] (FT_INT64 or FT_INT32) and strides idx_strides[k * ndim ...] (0 broadcast).
 * Every index is checked against [-idx_sizes[k], idx_sizes[k]) (or [0, idx_sizes[k]) when
 * allow_negative is 0) before anything is written; a bad one reports err_kind with err_dims[k].
 * a and b share dtype; strides are in elements. */
int ft_index(int mode, int dtype, int ndim, const int64_t *sizes,
             intptr_t a, const int64_t *a_strides, intptr_t b, const int64_t *b_strides,
             int nidx, const intptr_t *idx, const int32_t *idx_dtypes, const int64_t *idx_strides,
             const int64_t *idx_sizes, const int64_t *idx_b_strides, const int64_t *err_dims,
             int allow_negative, int err_kind);

/* The number of nonzero elements of a strided box (NaN counts as nonzero). */
int ft_nonzero_count(int dtype, int ndim, const int64_t *sizes, intptr_t src, const int64_t *strides,
                     int64_t *count);
/* The coordinates of the first `count` nonzero elements in row-major order: out[i * row + d * col]
 * (int64) is the d-th coordinate of the i-th one. */
int ft_nonzero(int dtype, int ndim, const int64_t *sizes, intptr_t src, const int64_t *strides,
               int64_t count, intptr_t out, int64_t row_stride, int64_t col_stride);

#endif /* FT_API_INDEX_H */
