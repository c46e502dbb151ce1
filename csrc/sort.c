/* Sorting and selection along one dim (api/sort.h).
 *
 * Sort: each row's keys are gathered into the work buffer and a permutation of
 * 0..length-1 is merge sorted (insertion-sorted runs of 16, then bottom-up merges,
 * ping-ponging between two index arrays): O(n log n) and stable, with NaN above every
 * number, so ties keep their input order as in torch's stable sort (and torch's small
 * rows). Selection reuses the sorted permutation except the k-th value, which runs
 * torch's own quickselect (median of three, Sedgewick's partition) so that among equal
 * values the same index comes out. gather / scatter-add along a dim serve the
 * backward of the value-selecting ops; searchsorted mirrors torch's binary searches. */
#include "api/sort.h"
#include "ft_internal.h"
#include "rows.h"

#include <math.h>
#include <string.h>

#define FT_SORT_RUN 16

int64_t ft_sort_work_bytes(int dtype, int64_t length) {
    if (!ft_is_valid_dtype(dtype) || length < 0) return -1;
    return length * (int64_t)(2 * sizeof(int64_t) + ft_itemsize(dtype));
}

/* For each dtype T: the orders (ascending: NaN last; descending: NaN first), the stable
 * merge sort of a permutation over gathered keys, and the quickselect. */
#define FT_SORT_DEFINE(NAME, T)                                                                          \
    static inline bool ft_lt_##NAME(T a, T b) { return (a == a && b != b) || a < b; }                    \
    static inline bool ft_gt_##NAME(T a, T b) { return (a != a && b == b) || a > b; }                    \
    static inline bool ft_before_##NAME(T a, T b, int descending) {                                     \
        return descending ? ft_gt_##NAME(a, b) : ft_lt_##NAME(a, b);                                     \
    }                                                                                                    \
    /* perm gets the stable sorted order of keys[0, n); scratch holds n int64 */                         \
    static int64_t *ft_sort_perm_##NAME(const T *keys, int64_t n, int descending, int64_t *perm,         \
                                        int64_t *scratch) {                                              \
        for (int64_t i = 0; i < n; i++) perm[i] = i;                                                     \
        for (int64_t lo = 0; lo < n; lo += FT_SORT_RUN) {                                                \
            int64_t hi = lo + FT_SORT_RUN < n ? lo + FT_SORT_RUN : n;                                    \
            for (int64_t i = lo + 1; i < hi; i++) {                                                      \
                int64_t item = perm[i];                                                                  \
                int64_t j = i;                                                                           \
                while (j > lo && ft_before_##NAME(keys[item], keys[perm[j - 1]], descending)) {         \
                    perm[j] = perm[j - 1];                                                               \
                    j--;                                                                                 \
                }                                                                                        \
                perm[j] = item;                                                                          \
            }                                                                                            \
        }                                                                                                \
        int64_t *src = perm, *dst = scratch;                                                             \
        for (int64_t width = FT_SORT_RUN; width < n; width *= 2) {                                       \
            for (int64_t lo = 0; lo < n; lo += 2 * width) {                                              \
                int64_t mid = lo + width < n ? lo + width : n;                                           \
                int64_t hi = lo + 2 * width < n ? lo + 2 * width : n;                                    \
                int64_t i = lo, j = mid, o = lo;                                                         \
                while (i < mid && j < hi)                                                                \
                    dst[o++] = ft_before_##NAME(keys[src[j]], keys[src[i]], descending) ? src[j++] : src[i++]; \
                while (i < mid) dst[o++] = src[i++];                                                     \
                while (j < hi) dst[o++] = src[j++];                                                      \
            }                                                                                            \
            int64_t *t = src;                                                                            \
            src = dst;                                                                                   \
            dst = t;                                                                                     \
        }                                                                                                \
        return src;                                                                                      \
    }                                                                                                    \
    /* torch's quick_select_template: arr/ind partitioned so arr[k] is the k-th smallest */              \
    static void ft_quickselect_##NAME(T *arr, int64_t *ind, int64_t n, int64_t k) {                      \
        int64_t L = 0, R = n - 1, i, j, P;                                                               \
        T piv, tv;                                                                                       \
        int64_t ti;                                                                                      \
        for (;;) {                                                                                       \
            if (R <= L) return;                                                                          \
            if (R == L + 1) {                                                                            \
                if (ft_gt_##NAME(arr[L], arr[R])) FT_SWAP2(L, R);                                        \
                return;                                                                                  \
            }                                                                                            \
            P = (L + R) >> 1;                                                                            \
            FT_SWAP2(P, L + 1);                                                                          \
            if (ft_gt_##NAME(arr[L + 1], arr[R])) FT_SWAP2(L + 1, R);                                    \
            if (ft_gt_##NAME(arr[L], arr[R])) FT_SWAP2(L, R);                                            \
            if (ft_gt_##NAME(arr[L + 1], arr[L])) FT_SWAP2(L + 1, L);                                    \
            i = L + 1;                                                                                   \
            j = R;                                                                                       \
            piv = arr[L];                                                                                \
            for (;;) {                                                                                   \
                do i++; while (ft_gt_##NAME(piv, arr[i]));                                               \
                do j--; while (ft_gt_##NAME(arr[j], piv));                                               \
                if (j < i) break;                                                                        \
                FT_SWAP2(i, j);                                                                          \
            }                                                                                            \
            FT_SWAP2(L, j);                                                                              \
            if (j <= k) L = i;                                                                           \
            if (j >= k) R = j - 1;                                                                       \
        }                                                                                                \
    }

#define FT_SWAP2(a, b)                                                                                   \
    do {                                                                                                 \
        int64_t sa = (a), sb = (b);                                                                      \
        tv = arr[sa]; arr[sa] = arr[sb]; arr[sb] = tv;                                                   \
        ti = ind[sa]; ind[sa] = ind[sb]; ind[sb] = ti;                                                   \
    } while (0)

FT_SORT_DEFINE(u8, uint8_t)
FT_SORT_DEFINE(i8, int8_t)
FT_SORT_DEFINE(i16, int16_t)
FT_SORT_DEFINE(i32, int32_t)
FT_SORT_DEFINE(i64, int64_t)
FT_SORT_DEFINE(f32, float)
FT_SORT_DEFINE(f64, double)


/* libstdc++'s std::sort, std::nth_element and std::partial_sort on (key, index) pairs, step
 * for step, so that rows torch sorts with them (sort with stable=False, topk, mode) come out
 * with the same order among equal keys. cmp: 0 ascending with NaN last, 1 descending with NaN
 * first, 2 plain `<` (mode's comparator). */
#define FT_STL_THRESHOLD 16

static inline int64_t ft_floor_log2(int64_t n) {
    int64_t k = 0;
    while (n > 1) {
        n >>= 1;
        k++;
    }
    return k;
}

#define FT_STL_DEFINE(NAME, T)                                                                           \
    static inline bool ft_cmp_##NAME(int cmp, T a, T b) {                                                \
        return cmp == 0 ? ft_lt_##NAME(a, b) : cmp == 1 ? ft_gt_##NAME(a, b) : a < b;                    \
    }                                                                                                    \
    static inline void ft_swap_##NAME(T *k, int64_t *x, int64_t a, int64_t b) {                          \
        T tk = k[a]; k[a] = k[b]; k[b] = tk;                                                             \
        int64_t tx = x[a]; x[a] = x[b]; x[b] = tx;                                                       \
    }                                                                                                    \
    static void ft_stl_push_heap_##NAME(int cmp, T *k, int64_t *x, int64_t hole, int64_t top, T vk,      \
                                        int64_t vx) {                                                    \
        int64_t parent = (hole - 1) / 2;                                                                 \
        while (hole > top && ft_cmp_##NAME(cmp, k[parent], vk)) {                                        \
            k[hole] = k[parent]; x[hole] = x[parent];                                                    \
            hole = parent;                                                                               \
            parent = (hole - 1) / 2;                                                                     \
        }                                                                                                \
        k[hole] = vk; x[hole] = vx;                                                                      \
    }                                                                                                    \
    static void ft_stl_adjust_heap_##NAME(int cmp, T *k, int64_t *x, int64_t hole, int64_t len, T vk,    \
                                          int64_t vx) {                                                  \
        int64_t top = hole, child = hole;                                                                \
        while (child < (len - 1) / 2) {                                                                  \
            child = 2 * (child + 1);                                                                     \
            if (ft_cmp_##NAME(cmp, k[child], k[child - 1])) child--;                                     \
            k[hole] = k[child]; x[hole] = x[child];                                                      \
            hole = child;                                                                                \
        }                                                                                                \
        if ((len & 1) == 0 && child == (len - 2) / 2) {                                                  \
            child = 2 * (child + 1);                                                                     \
            k[hole] = k[child - 1]; x[hole] = x[child - 1];                                              \
            hole = child - 1;                                                                            \
        }                                                                                                \
        ft_stl_push_heap_##NAME(cmp, k, x, hole, top, vk, vx);                                           \
    }                                                                                                    \
    static void ft_stl_make_heap_##NAME(int cmp, T *k, int64_t *x, int64_t len) {                        \
        if (len < 2) return;                                                                             \
        for (int64_t parent = (len - 2) / 2;; parent--) {                                                \
            ft_stl_adjust_heap_##NAME(cmp, k, x, parent, len, k[parent], x[parent]);                     \
            if (parent == 0) return;                                                                     \
        }                                                                                                \
    }                                                                                                    \
    /* __pop_heap(first, first + len, result) */                                                         \
    static void ft_stl_pop_heap_##NAME(int cmp, T *k, int64_t *x, int64_t len, int64_t result) {         \
        T vk = k[result];                                                                                \
        int64_t vx = x[result];                                                                          \
        k[result] = k[0]; x[result] = x[0];                                                              \
        ft_stl_adjust_heap_##NAME(cmp, k, x, 0, len, vk, vx);                                            \
    }                                                                                                    \
    static void ft_stl_heap_select_##NAME(int cmp, T *k, int64_t *x, int64_t middle, int64_t last) {     \
        ft_stl_make_heap_##NAME(cmp, k, x, middle);                                                      \
        for (int64_t i = middle; i < last; i++)                                                          \
            if (ft_cmp_##NAME(cmp, k[i], k[0])) ft_stl_pop_heap_##NAME(cmp, k, x, middle, i);             \
    }                                                                                                    \
    static void ft_stl_sort_heap_##NAME(int cmp, T *k, int64_t *x, int64_t last) {                       \
        while (last > 1) {                                                                               \
            last--;                                                                                      \
            ft_stl_pop_heap_##NAME(cmp, k, x, last, last);                                               \
        }                                                                                                \
    }                                                                                                    \
    static void ft_stl_partial_sort_##NAME(int cmp, T *k, int64_t *x, int64_t middle, int64_t last) {    \
        ft_stl_heap_select_##NAME(cmp, k, x, middle, last);                                              \
        ft_stl_sort_heap_##NAME(cmp, k, x, middle);                                                      \
    }                                                                                                    \
    static void ft_stl_linear_insert_##NAME(int cmp, T *k, int64_t *x, int64_t last) {                   \
        T vk = k[last];                                                                                  \
        int64_t vx = x[last], next = last - 1;                                                           \
        while (ft_cmp_##NAME(cmp, vk, k[next])) {                                                        \
            k[last] = k[next]; x[last] = x[next];                                                        \
            last = next;                                                                                 \
            next--;                                                                                      \
        }                                                                                                \
        k[last] = vk; x[last] = vx;                                                                      \
    }                                                                                                    \
    static void ft_stl_insertion_sort_##NAME(int cmp, T *k, int64_t *x, int64_t first, int64_t last) {   \
        if (first == last) return;                                                                       \
        for (int64_t i = first + 1; i < last; i++) {                                                     \
            if (ft_cmp_##NAME(cmp, k[i], k[first])) {                                                    \
                T vk = k[i];                                                                             \
                int64_t vx = x[i];                                                                       \
                for (int64_t j = i; j > first; j--) {                                                    \
                    k[j] = k[j - 1]; x[j] = x[j - 1];                                                    \
                }                                                                                        \
                k[first] = vk; x[first] = vx;                                                            \
            } else {                                                                                     \
                ft_stl_linear_insert_##NAME(cmp, k, x, i);                                               \
            }                                                                                            \
        }                                                                                                \
    }                                                                                                    \
    static void ft_stl_median_to_first_##NAME(int cmp, T *k, int64_t *x, int64_t result, int64_t a,      \
                                              int64_t b, int64_t c) {                                    \
        if (ft_cmp_##NAME(cmp, k[a], k[b])) {                                                            \
            if (ft_cmp_##NAME(cmp, k[b], k[c])) ft_swap_##NAME(k, x, result, b);                         \
            else if (ft_cmp_##NAME(cmp, k[a], k[c])) ft_swap_##NAME(k, x, result, c);                    \
            else ft_swap_##NAME(k, x, result, a);                                                        \
        } else if (ft_cmp_##NAME(cmp, k[a], k[c])) ft_swap_##NAME(k, x, result, a);                      \
        else if (ft_cmp_##NAME(cmp, k[b], k[c])) ft_swap_##NAME(k, x, result, c);                        \
        else ft_swap_##NAME(k, x, result, b);                                                            \
    }                                                                                                    \
    static int64_t ft_stl_partition_pivot_##NAME(int cmp, T *k, int64_t *x, int64_t first, int64_t last) { \
        int64_t mid = first + (last - first) / 2;                                                        \
        ft_stl_median_to_first_##NAME(cmp, k, x, first, first + 1, mid, last - 1);                      \
        int64_t lo = first + 1, hi = last, pivot = first;                                                \
        for (;;) {                                                                                       \
            while (ft_cmp_##NAME(cmp, k[lo], k[pivot])) lo++;                                            \
            hi--;                                                                                        \
            while (ft_cmp_##NAME(cmp, k[pivot], k[hi])) hi--;                                            \
            if (!(lo < hi)) return lo;                                                                   \
            ft_swap_##NAME(k, x, lo, hi);                                                                \
            lo++;                                                                                        \
        }                                                                                                \
    }                                                                                                    \
    static void ft_stl_introsort_loop_##NAME(int cmp, T *k, int64_t *x, int64_t first, int64_t last,     \
                                             int64_t depth) {                                            \
        while (last - first > FT_STL_THRESHOLD) {                                                        \
            if (depth == 0) {                                                                            \
                ft_stl_partial_sort_##NAME(cmp, k + first, x + first, last - first, last - first);       \
                return;                                                                                  \
            }                                                                                            \
            depth--;                                                                                     \
            int64_t cut = ft_stl_partition_pivot_##NAME(cmp, k, x, first, last);                         \
            ft_stl_introsort_loop_##NAME(cmp, k, x, cut, last, depth);                                   \
            last = cut;                                                                                  \
        }                                                                                                \
    }                                                                                                    \
    static void ft_stl_sort_##NAME(int cmp, T *k, int64_t *x, int64_t n) {                               \
        if (n <= 0) return;                                                                              \
        ft_stl_introsort_loop_##NAME(cmp, k, x, 0, n, ft_floor_log2(n) * 2);                             \
        if (n > FT_STL_THRESHOLD) {                                                                      \
            ft_stl_insertion_sort_##NAME(cmp, k, x, 0, FT_STL_THRESHOLD);                                \
            for (int64_t i = FT_STL_THRESHOLD; i < n; i++) ft_stl_linear_insert_##NAME(cmp, k, x, i);    \
        } else {                                                                                         \
            ft_stl_insertion_sort_##NAME(cmp, k, x, 0, n);                                               \
        }                                                                                                \
    }                                                                                                    \
    static void ft_stl_nth_element_##NAME(int cmp, T *k, int64_t *x, int64_t nth, int64_t n) {           \
        if (n == 0 || nth == n) return;                                                                  \
        int64_t first = 0, last = n, depth = ft_floor_log2(n) * 2;                                       \
        while (last - first > 3) {                                                                       \
            if (depth == 0) {                                                                            \
                ft_stl_heap_select_##NAME(cmp, k + first, x + first, nth + 1 - first, last - first);     \
                ft_swap_##NAME(k, x, first, nth);                                                        \
                return;                                                                                  \
            }                                                                                            \
            depth--;                                                                                     \
            int64_t cut = ft_stl_partition_pivot_##NAME(cmp, k, x, first, last);                         \
            if (cut <= nth) first = cut;                                                                 \
            else last = cut;                                                                             \
        }                                                                                                \
        ft_stl_insertion_sort_##NAME(cmp, k, x, first, last);                                            \
    }

FT_STL_DEFINE(u8, uint8_t)
FT_STL_DEFINE(i8, int8_t)
FT_STL_DEFINE(i16, int16_t)
FT_STL_DEFINE(i32, int32_t)
FT_STL_DEFINE(i64, int64_t)
FT_STL_DEFINE(f32, float)
FT_STL_DEFINE(f64, double)

/* Expands BODY with NAME's functions reachable as SORT_PERM / QUICKSELECT / LT / T. */
#define FT_SORT_DISPATCH(dtype, BODY)                                                                    \
    switch (dtype) {                                                                                     \
    case FT_BOOL: case FT_UINT8: { typedef uint8_t T; BODY(u8); } break;                                 \
    case FT_INT8: { typedef int8_t T; BODY(i8); } break;                                                 \
    case FT_INT16: { typedef int16_t T; BODY(i16); } break;                                              \
    case FT_INT32: { typedef int32_t T; BODY(i32); } break;                                              \
    case FT_INT64: { typedef int64_t T; BODY(i64); } break;                                              \
    case FT_FLOAT32: { typedef float T; BODY(f32); } break;                                              \
    case FT_FLOAT64: { typedef double T; BODY(f64); } break;                                             \
    default: return ft_set_error(FT_ERR_UNSUPPORTED, "unsupported dtype code %d", (int)(dtype));         \
    }

static int ft_check_box(const char *what, int dtype, int n_outer, int64_t length, int64_t work_bytes) {
    if (!ft_is_valid_dtype(dtype)) return ft_set_error(FT_ERR_VALUE, "%s: unknown dtype code %d", what, dtype);
    if (n_outer < 0 || n_outer > FT_MAX_DIMS || length < 0)
        return ft_set_error(FT_ERR_VALUE, "%s: bad box (%d outer dims, length %lld)", what, n_outer, (long long)length);
    if (work_bytes >= 0 && work_bytes < ft_sort_work_bytes(dtype, length))
        return ft_set_error(FT_ERR_VALUE, "%s: work buffer of %lld bytes is too small", what, (long long)work_bytes);
    return FT_OK;
}

static bool ft_box_empty(int n_outer, const int64_t *outer_sizes, int64_t length) {
    if (length == 0) return true;
    for (int d = 0; d < n_outer; d++)
        if (outer_sizes[d] == 0) return true;
    return false;
}

#define FT_SORT_ROWS(NAME)                                                                               \
    do {                                                                                                 \
        int64_t *perm = (int64_t *)work, *scratch = perm + length;                                       \
        T *keys = (T *)(scratch + length);                                                               \
        ft_rows rows;                                                                                    \
        ft_rows_init(&rows, n_outer, outer_sizes, in_outer, values ? values_outer : NULL, indices_outer); \
        while (rows.remaining > 0) {                                                                     \
            const T *x = (const T *)in + rows.offset[0];                                                 \
            for (int64_t i = 0; i < length; i++) keys[i] = x[i * in_step];                               \
            int64_t *ix = (int64_t *)indices + rows.offset[2];                                           \
            T *y = values ? (T *)values + rows.offset[1] : NULL;                                         \
            if (stable) {                                                                                \
                int64_t *order = ft_sort_perm_##NAME(keys, length, descending, perm, scratch);           \
                for (int64_t i = 0; i < length; i++) ix[i * indices_step] = order[i];                    \
                if (y)                                                                                   \
                    for (int64_t i = 0; i < length; i++) y[i * values_step] = keys[order[i]];            \
            } else {                                                                                     \
                for (int64_t i = 0; i < length; i++) perm[i] = i;                                        \
                ft_stl_sort_##NAME(descending ? 1 : 0, keys, perm, length);                              \
                for (int64_t i = 0; i < length; i++) ix[i * indices_step] = perm[i];                     \
                if (y)                                                                                   \
                    for (int64_t i = 0; i < length; i++) y[i * values_step] = keys[i];                   \
            }                                                                                            \
            ft_rows_next(&rows);                                                                         \
        }                                                                                                \
    } while (0)

int ft_sort(int dtype, int n_outer, const int64_t *outer_sizes, int64_t length,
            intptr_t in, const int64_t *in_outer, int64_t in_step,
            intptr_t values, const int64_t *values_outer, int64_t values_step,
            intptr_t indices, const int64_t *indices_outer, int64_t indices_step,
            int descending, int stable, intptr_t work, int64_t work_bytes) {
    int status = ft_check_box("sort", dtype, n_outer, length, work_bytes);
    if (status) return status;
    if (!indices) return ft_set_error(FT_ERR_VALUE, "sort: an indices output is required");
    if (ft_box_empty(n_outer, outer_sizes, length)) return FT_OK;
    FT_SORT_DISPATCH(dtype, FT_SORT_ROWS)
    return FT_OK;
}

#define FT_TOPK_ROWS(NAME)                                                                               \
    do {                                                                                                 \
        int64_t *perm = (int64_t *)work, *scratch = perm + length;                                       \
        T *keys = (T *)(scratch + length);                                                               \
        int cmp = largest ? 1 : 0;                                                                       \
        ft_rows rows;                                                                                    \
        ft_rows_init(&rows, n_outer, outer_sizes, in_outer, values_outer, indices_outer);                \
        while (rows.remaining > 0) {                                                                     \
            const T *x = (const T *)in + rows.offset[0];                                                 \
            for (int64_t i = 0; i < length; i++) {                                                       \
                keys[i] = x[i * in_step];                                                                \
                perm[i] = i;                                                                             \
            }                                                                                            \
            if (k * 64 <= length) {                                                                      \
                ft_stl_partial_sort_##NAME(cmp, keys, perm, k, length);                                  \
            } else {                                                                                     \
                ft_stl_nth_element_##NAME(cmp, keys, perm, k - 1, length);                               \
                if (sorted) ft_stl_sort_##NAME(cmp, keys, perm, k - 1);                                  \
            }                                                                                            \
            T *y = (T *)values + rows.offset[1];                                                         \
            int64_t *ix = (int64_t *)indices + rows.offset[2];                                           \
            for (int64_t i = 0; i < k; i++) {                                                            \
                y[i * values_step] = keys[i];                                                            \
                ix[i * indices_step] = perm[i];                                                          \
            }                                                                                            \
            ft_rows_next(&rows);                                                                         \
        }                                                                                                \
    } while (0)

int ft_topk(int dtype, int n_outer, const int64_t *outer_sizes, int64_t length,
            intptr_t in, const int64_t *in_outer, int64_t in_step,
            intptr_t values, const int64_t *values_outer, int64_t values_step,
            intptr_t indices, const int64_t *indices_outer, int64_t indices_step,
            int64_t k, int largest, int sorted, intptr_t work, int64_t work_bytes) {
    int status = ft_check_box("topk", dtype, n_outer, length, work_bytes);
    if (status) return status;
    if (!values || !indices) return ft_set_error(FT_ERR_VALUE, "topk: values and indices outputs are required");
    if (k < 0 || k > length) return ft_set_error(FT_ERR_RUNTIME, "selected index k out of range");
    if (k == 0 || ft_box_empty(n_outer, outer_sizes, length)) return FT_OK;
    FT_SORT_DISPATCH(dtype, FT_TOPK_ROWS)
    return FT_OK;
}

#define FT_SELECT_ROWS(NAME)                                                                             \
    do {                                                                                                 \
        int64_t *perm = (int64_t *)work, *scratch = perm + length;                                       \
        T *keys = (T *)(scratch + length);                                                               \
        ft_rows rows;                                                                                    \
        ft_rows_init(&rows, n_outer, outer_sizes, in_outer, values_outer, indices_outer);                \
        while (rows.remaining > 0) {                                                                     \
            const T *x = (const T *)in + rows.offset[0];                                                 \
            for (int64_t i = 0; i < length; i++) keys[i] = x[i * in_step];                               \
            T value;                                                                                     \
            int64_t index;                                                                               \
            if (op == FT_SELECT_MODE) {                                                                  \
                /* torch's mode: std::sort by value, then the last pair of the first longest run */       \
                for (int64_t i = 0; i < length; i++) perm[i] = i;                                        \
                ft_stl_sort_##NAME(2, keys, perm, length);                                               \
                int64_t best = 0, run = 0, pos = 0;                                                      \
                for (int64_t i = 0; i < length; i++) {                                                   \
                    run++;                                                                               \
                    if (i == length - 1 || keys[i] != keys[i + 1]) {                                     \
                        if (run > best) {                                                                \
                            best = run;                                                                  \
                            pos = i;                                                                     \
                        }                                                                                \
                        run = 0;                                                                         \
                    }                                                                                    \
                }                                                                                        \
                value = keys[pos];                                                                       \
                index = perm[pos];                                                                       \
            } else if (op == FT_SELECT_KTH) {                                                            \
                for (int64_t i = 0; i < length; i++) perm[i] = i;                                        \
                ft_quickselect_##NAME(keys, perm, length, k - 1);                                        \
                value = keys[k - 1];                                                                     \
                index = perm[k - 1];                                                                     \
            } else {                                                                                     \
                int64_t *order = ft_sort_perm_##NAME(keys, length, 0, perm, scratch);                    \
                int64_t nan_count = 0;                                                                   \
                for (int64_t i = 0; i < length; i++) nan_count += keys[i] != keys[i];                    \
                int64_t pos = 0;                                                                         \
                if (op == FT_SELECT_MEDIAN) {                                                            \
                    pos = nan_count ? length - nan_count : (length - 1) / 2;                             \
                } else if (op == FT_SELECT_NANMEDIAN) {                                                  \
                    pos = (length - nan_count - 1) / 2;                                                  \
                }                                                                                        \
                value = keys[order[pos]];                                                                \
                index = order[pos];                                                                      \
            }                                                                                            \
            *((T *)values + rows.offset[1]) = value;                                                     \
            *((int64_t *)indices + rows.offset[2]) = index;                                              \
            ft_rows_next(&rows);                                                                         \
        }                                                                                                \
    } while (0)

int ft_select(int op, int dtype, int n_outer, const int64_t *outer_sizes, int64_t length,
              intptr_t in, const int64_t *in_outer, int64_t in_step,
              intptr_t values, const int64_t *values_outer,
              intptr_t indices, const int64_t *indices_outer,
              int64_t k, intptr_t work, int64_t work_bytes) {
    if (op < 0 || op >= FT_SELECT_COUNT) return ft_set_error(FT_ERR_VALUE, "unknown select op %d", op);
    int status = ft_check_box("select", dtype, n_outer, length, work_bytes);
    if (status) return status;
    if (!values || !indices) return ft_set_error(FT_ERR_VALUE, "select: values and indices outputs are required");
    if (op == FT_SELECT_KTH && (k < 1 || k > length)) return ft_set_error(FT_ERR_RUNTIME, "selected index k out of range");
    if (ft_box_empty(n_outer, outer_sizes, 1)) return FT_OK;
    if (length == 0) return ft_set_error(FT_ERR_INDEX, "select: cannot select from an empty row");
    FT_SORT_DISPATCH(dtype, FT_SELECT_ROWS)
    return FT_OK;
}

/* Checks every index of an index box against [-target_length, target_length) first. */
static int ft_check_indices(int n_outer, const int64_t *outer_sizes, int64_t length, int64_t target_length,
                            const int64_t *index, const int64_t *index_outer, int64_t index_step, const char *what) {
    ft_rows rows;
    ft_rows_init(&rows, n_outer, outer_sizes, index_outer, NULL, NULL);
    while (rows.remaining > 0) {
        const int64_t *ix = index + rows.offset[0];
        for (int64_t i = 0; i < length; i++) {
            int64_t v = ix[i * index_step];
            if (v < -target_length || v >= target_length)
                return ft_set_error(FT_ERR_RUNTIME, "index %lld is out of bounds for dimension with size %lld (%s)",
                                    (long long)v, (long long)target_length, what);
        }
        ft_rows_next(&rows);
    }
    return FT_OK;
}

#define FT_GATHER_ROWS(T)                                                                                \
    do {                                                                                                 \
        while (rows.remaining > 0) {                                                                     \
            const T *s = (const T *)src + rows.offset[0];                                                \
            const int64_t *ix = (const int64_t *)index + rows.offset[1];                                 \
            T *o = (T *)out + rows.offset[2];                                                            \
            for (int64_t i = 0; i < length; i++) {                                                       \
                int64_t v = ix[i * index_step];                                                          \
                if (v < 0) v += target_length;                                                           \
                o[i * out_step] = s[v * src_step];                                                       \
            }                                                                                            \
            ft_rows_next(&rows);                                                                         \
        }                                                                                                \
    } while (0)

int ft_gather_dim(int dtype, int n_outer, const int64_t *outer_sizes, int64_t length, int64_t target_length,
                  intptr_t src, const int64_t *src_outer, int64_t src_step,
                  intptr_t index, const int64_t *index_outer, int64_t index_step,
                  intptr_t out, const int64_t *out_outer, int64_t out_step) {
    int status = ft_check_box("gather", dtype, n_outer, length, -1);
    if (status) return status;
    if (ft_box_empty(n_outer, outer_sizes, length)) return FT_OK;
    status = ft_check_indices(n_outer, outer_sizes, length, target_length, (const int64_t *)index, index_outer,
                              index_step, "gather");
    if (status) return status;
    ft_rows rows;
    ft_rows_init(&rows, n_outer, outer_sizes, src_outer, index_outer, out_outer);
    FT_DISPATCH_ALL(dtype, FT_GATHER_ROWS(T));
    return FT_OK;
}

#define FT_SCATTER_ADD_ROWS(T)                                                                           \
    do {                                                                                                 \
        while (rows.remaining > 0) {                                                                     \
            const T *s = (const T *)src + rows.offset[0];                                                \
            const int64_t *ix = (const int64_t *)index + rows.offset[1];                                 \
            T *d = (T *)dst + rows.offset[2];                                                            \
            for (int64_t i = 0; i < length; i++) {                                                       \
                int64_t v = ix[i * index_step];                                                          \
                if (v < 0) v += target_length;                                                           \
                d[v * dst_step] = (T)(d[v * dst_step] + s[i * src_step]);                                \
            }                                                                                            \
            ft_rows_next(&rows);                                                                         \
        }                                                                                                \
    } while (0)

int ft_scatter_add_dim(int dtype, int n_outer, const int64_t *outer_sizes, int64_t length, int64_t target_length,
                       intptr_t src, const int64_t *src_outer, int64_t src_step,
                       intptr_t index, const int64_t *index_outer, int64_t index_step,
                       intptr_t dst, const int64_t *dst_outer, int64_t dst_step) {
    int status = ft_check_box("scatter_add", dtype, n_outer, length, -1);
    if (status) return status;
    if (dtype == FT_BOOL) return ft_set_error(FT_ERR_UNSUPPORTED, "scatter_add: bool is not supported");
    if (ft_box_empty(n_outer, outer_sizes, length)) return FT_OK;
    status = ft_check_indices(n_outer, outer_sizes, length, target_length, (const int64_t *)index, index_outer,
                              index_step, "scatter_add");
    if (status) return status;
    ft_rows rows;
    ft_rows_init(&rows, n_outer, outer_sizes, src_outer, index_outer, dst_outer);
    FT_DISPATCH_ALL(dtype, FT_SCATTER_ADD_ROWS(T));
    return FT_OK;
}

/* torch's cus_lower_bound / cus_upper_bound: `!(mid >= value)` / `!(mid > value)` go right. */
#define FT_SEARCH_ROWS(T)                                                                                \
    do {                                                                                                 \
        for (int64_t r = 0; r < n_rows; r++) {                                                           \
            const T *b = (const T *)boundaries + r * boundaries_row_stride;                              \
            const int64_t *so = sorter ? (const int64_t *)sorter + r * sorter_row_stride : NULL;          \
            const T *v = (const T *)values + r * values_row_stride;                                      \
            for (int64_t i = 0; i < values_per_row; i++) {                                               \
                T value = v[i * values_step];                                                            \
                int64_t start = 0, end = boundaries_length;                                              \
                while (start < end) {                                                                    \
                    int64_t mid = start + ((end - start) >> 1);                                          \
                    T mid_value = so ? b[so[mid * sorter_step] * boundaries_step] : b[mid * boundaries_step]; \
                    bool go_right = right ? !(mid_value > value) : !(mid_value >= value);                \
                    if (go_right) start = mid + 1;                                                       \
                    else end = mid;                                                                      \
                }                                                                                        \
                int64_t o = r * values_per_row + i;                                                      \
                if (out_int32) ((int32_t *)out)[o] = (int32_t)start;                                     \
                else ((int64_t *)out)[o] = start;                                                        \
            }                                                                                            \
        }                                                                                                \
    } while (0)

int ft_searchsorted(int dtype, int64_t n_rows, int64_t boundaries_length, int64_t values_per_row,
                    intptr_t boundaries, int64_t boundaries_row_stride, int64_t boundaries_step,
                    intptr_t sorter, int64_t sorter_row_stride, int64_t sorter_step,
                    intptr_t values, int64_t values_row_stride, int64_t values_step,
                    intptr_t out, int out_int32, int right) {
    if (!ft_is_valid_dtype(dtype)) return ft_set_error(FT_ERR_VALUE, "searchsorted: unknown dtype code %d", dtype);
    if (n_rows < 0 || boundaries_length < 0 || values_per_row < 0)
        return ft_set_error(FT_ERR_VALUE, "searchsorted: bad sizes");
    if (sorter) {
        for (int64_t r = 0; r < n_rows; r++) {
            const int64_t *so = (const int64_t *)sorter + r * sorter_row_stride;
            for (int64_t j = 0; j < boundaries_length; j++) {
                int64_t s = so[j * sorter_step];
                if (s < 0 || s >= boundaries_length)
                    return ft_set_error(FT_ERR_RUNTIME, "torch.searchsorted(): sorter index out of range");
            }
        }
    }
    FT_DISPATCH_ALL(dtype, FT_SEARCH_ROWS(T));
    return FT_OK;
}

#define FT_UNIQUE_RUNS(T)                                                                                \
    do {                                                                                                 \
        const T *x = (const T *)rows;                                                                    \
        int64_t g = -1;                                                                                  \
        for (int64_t r = 0; r < n_rows; r++) {                                                           \
            bool same = r > 0;                                                                           \
            for (int64_t c = 0; same && c < row_length; c++)                                             \
                same = x[r * row_length + c] == x[(r - 1) * row_length + c];                             \
            if (!same) {                                                                                 \
                g++;                                                                                     \
                fi[g] = r;                                                                               \
                co[g] = 0;                                                                               \
            }                                                                                            \
            gr[r] = g;                                                                                   \
            co[g]++;                                                                                     \
        }                                                                                                \
        *n_groups = g + 1;                                                                               \
    } while (0)

int ft_unique_runs(int dtype, int64_t n_rows, int64_t row_length, intptr_t rows,
                   intptr_t group, intptr_t first, intptr_t counts, int64_t *n_groups) {
    if (!ft_is_valid_dtype(dtype)) return ft_set_error(FT_ERR_VALUE, "unique: unknown dtype code %d", dtype);
    if (n_rows < 0 || row_length < 0) return ft_set_error(FT_ERR_VALUE, "unique: bad sizes");
    int64_t *gr = (int64_t *)group, *fi = (int64_t *)first, *co = (int64_t *)counts;
    *n_groups = 0;
    if (n_rows == 0) return FT_OK;
    FT_DISPATCH_ALL(dtype, FT_UNIQUE_RUNS(T));
    return FT_OK;
}

int ft_iota(intptr_t out, int64_t n) {
    if (n < 0) return ft_set_error(FT_ERR_VALUE, "iota: negative length");
    for (int64_t i = 0; i < n; i++) ((int64_t *)out)[i] = i;
    return FT_OK;
}

#define FT_HISTC(T)                                                                                      \
    do {                                                                                                 \
        const T *x = (const T *)input;                                                                   \
        T *h = (T *)hist;                                                                                \
        T lo = (T)low, hi = (T)high;                                                                     \
        for (int64_t i = 0; i < n; i++) {                                                                \
            T v = x[i];                                                                                  \
            if (!(v >= lo && v <= hi)) continue;                                                         \
            int64_t pos = (int64_t)((v - lo) * (T)bins / (hi - lo));                                     \
            if (pos == bins) pos -= 1;                                                                   \
            if (pos < 0 || pos >= bins) continue; /* rounding cannot leave the range; stay defined */     \
            h[pos] += 1;                                                                                 \
        }                                                                                                \
    } while (0)

int ft_histc(int dtype, int64_t n, intptr_t input, int64_t bins, double low, double high, intptr_t hist) {
    if (dtype != FT_FLOAT32 && dtype != FT_FLOAT64)
        return ft_set_error(FT_ERR_UNSUPPORTED, "\"histogram_cpu\" not implemented for '%s'", ft_dtype_name(dtype));
    if (n < 0 || bins <= 0) return ft_set_error(FT_ERR_VALUE, "histc: bad sizes");
    if (!(low < high)) return ft_set_error(FT_ERR_RUNTIME, "torch.histc: max must be larger than min");
    if (dtype == FT_FLOAT32) FT_HISTC(float);
    else FT_HISTC(double);
    return FT_OK;
}
