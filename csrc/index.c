/* Indexing: one strided loop that reads or writes through index tensors (torch's
 * index/index_put/gather/scatter kernels all reduce to it), and nonzero.
 *
 * The loop walks a box in row-major order with an odometer; each operand (the
 * iterated tensor a, the indexed base b, every index tensor) carries its own
 * element strides, so broadcasting is a zero stride. Indices are all checked
 * before the first write, so a failing call leaves its output untouched. */
#include "ft_internal.h"

#include "api/index.h"

#define FT_INDEX_MAX_OPERANDS (FT_MAX_DIMS + 2)

static int64_t ft_index_load(const char *p, int dtype) {
    if (dtype == FT_INT32) {
        int32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    int64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static int ft_index_error_at(int err_kind, int64_t value, int64_t dim, int64_t size) {
    switch (err_kind) {
    case FT_INDEX_ERR_RUNTIME:
        return ft_set_error(FT_ERR_RUNTIME, "index %lld is out of bounds for dimension %lld with size %lld",
                            (long long)value, (long long)dim, (long long)size);
    case FT_INDEX_ERR_SELECT:
        return ft_set_error(FT_ERR_INDEX, "index out of range in self");
    case FT_INDEX_ERR_TAKE:
        return ft_set_error(FT_ERR_INDEX, "out of range: tried to access index %lld on a tensor of %lld elements.",
                            (long long)value, (long long)size);
    case FT_INDEX_ERR_COPY:
        return ft_set_error(FT_ERR_INDEX, "index_copy_(): index %lld is out of bounds for dimension %lld with size %lld",
                            (long long)value, (long long)dim, (long long)size);
    default:
        return ft_set_error(FT_ERR_INDEX, "index %lld is out of bounds for dimension %lld with size %lld",
                            (long long)value, (long long)dim, (long long)size);
    }
}

/* Advance the odometer (row-major: the last dim fastest); offsets[k] follow strides[k]. */
static inline void ft_index_step(int ndim, const int64_t *sizes, int64_t *counter, int nops,
                                 int64_t offsets[][1], const int64_t *const *strides) {
    for (int d = ndim - 1; d >= 0; d--) {
        counter[d]++;
        for (int k = 0; k < nops; k++) offsets[k][0] += strides[k][d];
        if (counter[d] < sizes[d]) return;
        for (int k = 0; k < nops; k++) offsets[k][0] -= strides[k][d] * sizes[d];
        counter[d] = 0;
    }
}

#define FT_INDEX_UPDATE(T, IS_BOOL, IS_FLOAT, mode, dst, src)                                      \
    do {                                                                                             \
        T cur_, val_;                                                                                \
        memcpy(&cur_, (dst), sizeof(T));                                                             \
        memcpy(&val_, (src), sizeof(T));                                                             \
        switch (mode) {                                                                              \
        case FT_INDEX_ADD:                                                                           \
            if (IS_BOOL) cur_ = (T)(cur_ || val_);                                                   \
            else if (IS_FLOAT) cur_ = (T)(cur_ + val_);                                              \
            else cur_ = (T)((uint64_t)cur_ + (uint64_t)val_);                                        \
            break;                                                                                   \
        case FT_INDEX_MUL:                                                                           \
            if (IS_BOOL) cur_ = (T)(cur_ && val_);                                                   \
            else if (IS_FLOAT) cur_ = (T)(cur_ * val_);                                              \
            else cur_ = (T)((uint64_t)cur_ * (uint64_t)val_);                                        \
            break;                                                                                   \
        case FT_INDEX_MAX:                                                                           \
            cur_ = (val_ != val_) ? val_ : (cur_ < val_ ? val_ : cur_);                              \
            break;                                                                                   \
        default:                                                                                     \
            cur_ = (val_ != val_) ? val_ : (val_ < cur_ ? val_ : cur_);                              \
            break;                                                                                   \
        }                                                                                            \
        memcpy((dst), &cur_, sizeof(T));                                                             \
    } while (0)

int ft_index(int mode, int dtype, int ndim, const int64_t *sizes,
             intptr_t a, const int64_t *a_strides, intptr_t b, const int64_t *b_strides,
             int nidx, const intptr_t *idx, const int32_t *idx_dtypes, const int64_t *idx_strides,
             const int64_t *idx_sizes, const int64_t *idx_b_strides, const int64_t *err_dims,
             int allow_negative, int err_kind) {
    if (mode < 0 || mode >= FT_INDEX_MODE_COUNT) return ft_set_error(FT_ERR_VALUE, "ft_index: bad mode %d", mode);
    if (!ft_is_valid_dtype(dtype)) return ft_set_error(FT_ERR_UNSUPPORTED, "unsupported dtype code %d", dtype);
    if (ndim < 0 || ndim > FT_MAX_DIMS) return ft_set_error(FT_ERR_VALUE, "ft_index: %d dims is more than %d", ndim, FT_MAX_DIMS);
    if (nidx < 0 || nidx > FT_MAX_DIMS) return ft_set_error(FT_ERR_VALUE, "ft_index: too many index tensors (%d)", nidx);
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (sizes[d] < 0) return ft_set_error(FT_ERR_VALUE, "ft_index: negative size");
        numel *= sizes[d];
    }
    for (int k = 0; k < nidx; k++) {
        if (idx_dtypes[k] != FT_INT64 && idx_dtypes[k] != FT_INT32)
            return ft_set_error(FT_ERR_INDEX, "tensors used as indices must be long, int, byte or bool tensors");
        if (idx_sizes[k] < 0) return ft_set_error(FT_ERR_VALUE, "ft_index: negative indexed size");
    }
    if (numel == 0) return FT_OK;

    int64_t counter[FT_MAX_DIMS];
    int64_t offsets[FT_INDEX_MAX_OPERANDS][1];
    const int64_t *strides[FT_INDEX_MAX_OPERANDS];
    const char *idx_base[FT_MAX_DIMS];
    for (int k = 0; k < nidx; k++) {
        idx_base[k] = (const char *)idx[k];
        strides[k] = idx_strides + (size_t)k * (size_t)ndim;
    }
    const size_t isz[2] = {4, 8};

    /* pass 1: every index in range, each index tensor walked over its own elements only
     * (the box dims it is broadcast along, stride 0, are not repeated) */
    for (int k = 0; k < nidx; k++) {
        int64_t own_sizes[FT_MAX_DIMS];
        int64_t own_numel = 1;
        for (int d = 0; d < ndim; d++) {
            own_sizes[d] = strides[k][d] != 0 ? sizes[d] : 1;
            own_numel *= own_sizes[d];
        }
        int64_t own_offset[1][1] = {{0}};
        const int64_t *own_strides[1] = {strides[k]};
        for (int d = 0; d < ndim; d++) counter[d] = 0;
        const int64_t n = idx_sizes[k];
        const int64_t lowest = allow_negative ? -n : 0;
        const int64_t width = (int64_t)isz[idx_dtypes[k] == FT_INT64];
        for (int64_t i = 0; i < own_numel; i++) {
            const int64_t v = ft_index_load(idx_base[k] + own_offset[0][0] * width, idx_dtypes[k]);
            if (v >= n || v < lowest) return ft_index_error_at(err_kind, v, err_dims[k], n);
            ft_index_step(ndim, own_sizes, counter, 1, own_offset, own_strides);
        }
    }

    /* pass 2: the work */
    const size_t item = ft_itemsize(dtype);
    const int ia = nidx, ib = nidx + 1;
    strides[ia] = a_strides;
    strides[ib] = b_strides;
    for (int d = 0; d < ndim; d++) counter[d] = 0;
    for (int k = 0; k < nidx + 2; k++) offsets[k][0] = 0;
    char *pa = (char *)a, *pb = (char *)b;
    bool rows = ndim > 0 && sizes[ndim - 1] > 1 && (mode == FT_INDEX_GATHER || mode == FT_INDEX_ASSIGN) &&
                a_strides[ndim - 1] == 1 && b_strides[ndim - 1] == 1;
    for (int k = 0; k < nidx && rows; k++) rows = strides[k][ndim - 1] == 0;
    if (rows) {
        /* whole rows at a time: one memcpy per row of the last dim */
        const int64_t row = sizes[ndim - 1];
        const int outer_ndim = ndim - 1;
        for (int d = 0; d < outer_ndim; d++) counter[d] = 0;
        const int64_t outer = numel / row;
        for (int64_t i = 0; i < outer; i++) {
            int64_t at = offsets[ib][0];
            for (int k = 0; k < nidx; k++) {
                int64_t v = ft_index_load(idx_base[k] + offsets[k][0] * (int64_t)isz[idx_dtypes[k] == FT_INT64],
                                          idx_dtypes[k]);
                if (v < 0) v += idx_sizes[k];
                at += v * idx_b_strides[k];
            }
            char *x = pa + offsets[ia][0] * (int64_t)item;
            char *y = pb + at * (int64_t)item;
            if (mode == FT_INDEX_GATHER) memmove(x, y, (size_t)row * item);
            else memmove(y, x, (size_t)row * item);
            ft_index_step(outer_ndim, sizes, counter, nidx + 2, offsets, strides);
        }
        return FT_OK;
    }
    for (int64_t i = 0; i < numel; i++) {
        int64_t at = offsets[ib][0];
        for (int k = 0; k < nidx; k++) {
            int64_t v = ft_index_load(idx_base[k] + offsets[k][0] * (int64_t)isz[idx_dtypes[k] == FT_INT64], idx_dtypes[k]);
            if (v < 0) v += idx_sizes[k];
            at += v * idx_b_strides[k];
        }
        char *x = pa + offsets[ia][0] * (int64_t)item;
        char *y = pb + at * (int64_t)item;
        if (mode == FT_INDEX_GATHER) {
            memcpy(x, y, item);
        } else if (mode == FT_INDEX_ASSIGN) {
            memcpy(y, x, item);
        } else {
            switch (dtype) {
            case FT_BOOL: FT_INDEX_UPDATE(uint8_t, 1, 0, mode, y, x); break;
            case FT_UINT8: FT_INDEX_UPDATE(uint8_t, 0, 0, mode, y, x); break;
            case FT_INT8: FT_INDEX_UPDATE(int8_t, 0, 0, mode, y, x); break;
            case FT_INT16: FT_INDEX_UPDATE(int16_t, 0, 0, mode, y, x); break;
            case FT_INT32: FT_INDEX_UPDATE(int32_t, 0, 0, mode, y, x); break;
            case FT_INT64: FT_INDEX_UPDATE(int64_t, 0, 0, mode, y, x); break;
            case FT_FLOAT32: FT_INDEX_UPDATE(float, 0, 1, mode, y, x); break;
            default: FT_INDEX_UPDATE(double, 0, 1, mode, y, x); break;
            }
        }
        ft_index_step(ndim, sizes, counter, nidx + 2, offsets, strides);
    }
    return FT_OK;
}

static inline bool ft_nonzero_at(const char *p, int dtype) {
    switch (dtype) {
    case FT_FLOAT32: { float v; memcpy(&v, p, sizeof v); return v != 0; }
    case FT_FLOAT64: { double v; memcpy(&v, p, sizeof v); return v != 0; }
    default: {
        const size_t n = ft_itemsize(dtype);
        for (size_t i = 0; i < n; i++)
            if (p[i]) return true;
        return false;
    }
    }
}

static int ft_nonzero_walk(int dtype, int ndim, const int64_t *sizes, intptr_t src, const int64_t *strides,
                           int64_t limit, int64_t *count, int64_t *out, int64_t row_stride, int64_t col_stride) {
    if (!ft_is_valid_dtype(dtype)) return ft_set_error(FT_ERR_UNSUPPORTED, "unsupported dtype code %d", dtype);
    if (ndim < 0 || ndim > FT_MAX_DIMS) return ft_set_error(FT_ERR_VALUE, "nonzero: %d dims is more than %d", ndim, FT_MAX_DIMS);
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (sizes[d] < 0) return ft_set_error(FT_ERR_VALUE, "nonzero: negative size");
        numel *= sizes[d];
    }
    const int64_t item = (int64_t)ft_itemsize(dtype);
    int64_t counter[FT_MAX_DIMS];
    int64_t offsets[1][1] = {{0}};
    const int64_t *st[1] = {strides};
    for (int d = 0; d < ndim; d++) counter[d] = 0;
    int64_t found = 0;
    for (int64_t i = 0; i < numel; i++) {
        if (ft_nonzero_at((const char *)src + offsets[0][0] * item, dtype)) {
            if (out != NULL) {
                if (found >= limit) break;
                for (int d = 0; d < ndim; d++) out[found * row_stride + d * col_stride] = counter[d];
            }
            found++;
        }
        ft_index_step(ndim, sizes, counter, 1, offsets, st);
    }
    if (count != NULL) *count = found;
    return FT_OK;
}

int ft_nonzero_count(int dtype, int ndim, const int64_t *sizes, intptr_t src, const int64_t *strides,
                     int64_t *count) {
    return ft_nonzero_walk(dtype, ndim, sizes, src, strides, 0, count, NULL, 0, 0);
}

int ft_nonzero(int dtype, int ndim, const int64_t *sizes, intptr_t src, const int64_t *strides,
               int64_t count, intptr_t out, int64_t row_stride, int64_t col_stride) {
    if (count < 0) return ft_set_error(FT_ERR_VALUE, "nonzero: negative count");
    return ft_nonzero_walk(dtype, ndim, sizes, src, strides, count, NULL, (int64_t *)out, row_stride, col_stride);
}
