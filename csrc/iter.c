/* The N-d strided iterator: dim ordering and coalescing (see ft_internal.h). */
#include "ft_internal.h"

int ft_iter_init(ft_iter *it, int nargs, int ndim, const int64_t *sizes,
                 char *const *data, const int64_t *const *strides_elems, const size_t *itemsizes) {
    if (nargs < 1 || nargs > FT_ITER_MAX_ARGS) return ft_set_error(FT_ERR_RUNTIME, "iterator: bad operand count %d", nargs);
    if (ndim < 0 || ndim > FT_MAX_DIMS) return ft_set_error(FT_ERR_RUNTIME, "iterator: %d dims exceed the maximum of %d", ndim, FT_MAX_DIMS);
    it->nargs = nargs;
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (sizes[d] < 0) return ft_set_error(FT_ERR_RUNTIME, "iterator: negative size %lld", (long long)sizes[d]);
        numel *= sizes[d];
        if (sizes[d] == 0) numel = 0;
    }
    it->numel = numel;
    for (int k = 0; k < nargs; k++) it->data[k] = data[k];

    /* Collect non-trivial dims innermost-first (the caller gives outermost-first). */
    int n = 0;
    int64_t st[FT_ITER_MAX_ARGS][FT_MAX_DIMS];
    int64_t sz[FT_MAX_DIMS];
    for (int d = ndim - 1; d >= 0; d--) {
        if (sizes[d] == 1) continue;
        sz[n] = sizes[d];
        for (int k = 0; k < nargs; k++) {
            int64_t s = strides_elems[k] ? strides_elems[k][d] : 0;
            if (!strides_elems[k]) { /* contiguous: product of inner sizes */
                s = 1;
                for (int e = d + 1; e < ndim; e++) s *= sizes[e];
            }
            st[k][n] = s * (int64_t)itemsizes[k];
        }
        n++;
    }
    if (n == 0 || numel == 0) {
        it->ndim = 1;
        it->sizes[0] = numel == 0 ? 0 : 1;
        for (int k = 0; k < nargs; k++) it->strides[k][0] = 0;
        return FT_OK;
    }
    /* Order dims by |stride| of operand 0, ascending (stable insertion sort), so
     * the innermost loop walks the output's fastest dim. Ties keep caller order. */
    int order[FT_MAX_DIMS];
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = 1; i < n; i++) {
        int cur = order[i];
        int64_t key = st[0][cur] < 0 ? -st[0][cur] : st[0][cur];
        int j = i - 1;
        while (j >= 0) {
            int64_t kj = st[0][order[j]] < 0 ? -st[0][order[j]] : st[0][order[j]];
            if (kj <= key) break;
            order[j + 1] = order[j];
            j--;
        }
        order[j + 1] = cur;
    }
    /* Coalesce: dim i+1 merges into dim i when every operand's stride[i+1] == stride[i]*size[i]. */
    int m = 0;
    for (int i = 0; i < n; i++) {
        int d = order[i];
        if (m > 0) {
            bool merge = true;
            for (int k = 0; k < nargs; k++)
                if (st[k][d] != it->strides[k][m - 1] * it->sizes[m - 1]) { merge = false; break; }
            if (merge) { it->sizes[m - 1] *= sz[d]; continue; }
        }
        it->sizes[m] = sz[d];
        for (int k = 0; k < nargs; k++) it->strides[k][m] = st[k][d];
        m++;
    }
    it->ndim = m;
    return FT_OK;
}
