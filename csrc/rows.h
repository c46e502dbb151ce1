/* Row walking for the kernels that work along one dim (scan.c, sort.c): every dim but
 * that one is an outer dim; ft_rows visits each row once, in row-major order of the
 * outer dims, keeping the element offset of the row's start in up to 3 operands (an
 * operand with NULL strides stays at offset 0). */
#ifndef FT_ROWS_H
#define FT_ROWS_H

#include "ft_internal.h"

typedef struct {
    int n_outer;
    const int64_t *sizes;
    const int64_t *strides[3];
    int64_t counter[FT_MAX_DIMS];
    int64_t offset[3];
    int64_t remaining;
} ft_rows;

static inline void ft_rows_init(ft_rows *r, int n_outer, const int64_t *sizes, const int64_t *s0, const int64_t *s1,
                         const int64_t *s2) {
    r->n_outer = n_outer;
    r->sizes = sizes;
    r->strides[0] = s0;
    r->strides[1] = s1;
    r->strides[2] = s2;
    r->remaining = 1;
    for (int d = 0; d < n_outer; d++) {
        r->counter[d] = 0;
        r->remaining *= sizes[d];
    }
    for (int k = 0; k < 3; k++) r->offset[k] = 0;
}

static inline void ft_rows_next(ft_rows *r) {
    r->remaining--;
    for (int d = r->n_outer - 1; d >= 0; d--) {
        r->counter[d]++;
        for (int k = 0; k < 3; k++)
            if (r->strides[k]) r->offset[k] += r->strides[k][d];
        if (r->counter[d] < r->sizes[d]) return;
        for (int k = 0; k < 3; k++)
            if (r->strides[k]) r->offset[k] -= r->strides[k][d] * r->sizes[d];
        r->counter[d] = 0;
    }
}

#endif /* FT_ROWS_H */
