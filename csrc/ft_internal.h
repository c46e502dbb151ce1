/* Internal helpers shared by the kernel files: error reporting, dtype facts,
 * safe casts with torch's (x86) results, and the N-d strided iterator. */
#ifndef FT_INTERNAL_H
#define FT_INTERNAL_H

#include "ft.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

int ft_set_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline size_t ft_itemsize(int dtype) { return ft_dtype_size(dtype); }

static inline bool ft_is_floating(int dtype) { return dtype == FT_FLOAT32 || dtype == FT_FLOAT64; }
static inline bool ft_is_valid_dtype(int dtype) { return dtype >= 0 && dtype < FT_DTYPE_COUNT; }

/* Float -> integer conversion without undefined behaviour, giving what torch
 * gives on x86: out-of-range and NaN become the "integer indefinite" value of
 * cvttss2si/cvttsd2si (INT32_MIN or INT64_MIN), narrower types wrap from int32,
 * uint8 wraps from int64 (c10's static_cast_with_inter_type). */
static inline int64_t ft_f2i64(double x) {
    if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0)) return INT64_MIN;
    return (int64_t)x;
}
static inline int32_t ft_f2i32(double x) {
    if (!(x > -2147483649.0 && x < 2147483648.0)) return INT32_MIN;
    return (int32_t)x;
}
/* Two's complement wraps, done on unsigned types to stay defined. */
static inline int8_t ft_wrap_i8(uint64_t v) { uint8_t u = (uint8_t)v; return u < 128 ? (int8_t)u : (int8_t)((int)u - 256); }
static inline int16_t ft_wrap_i16(uint64_t v) { uint16_t u = (uint16_t)v; return u < 32768 ? (int16_t)u : (int16_t)((int)u - 65536); }
static inline int32_t ft_wrap_i32(uint64_t v) { uint32_t u = (uint32_t)v; return u < 2147483648u ? (int32_t)u : (int32_t)((int64_t)u - 4294967296LL); }
static inline int64_t ft_wrap_i64(uint64_t v) { return v < 9223372036854775808ull ? (int64_t)v : (int64_t)(v - 9223372036854775808ull) + INT64_MIN; }

/* ---- N-d strided iteration over up to FT_ITER_MAX_ARGS operands ----
 * Dimensions are stored innermost first (like ggml's ne[0]). ft_iter_init drops
 * size-1 dims, orders dims by operand 0's strides (so writes walk memory
 * forward) and merges dims that are contiguous for every operand. A box with a
 * zero-size dim has numel 0. Strides are kept in bytes. */
#define FT_ITER_MAX_ARGS 4

typedef struct {
    int nargs;
    int ndim;        /* >= 1 after init (a 0-dim box becomes one dim of size 1) */
    int64_t numel;
    int64_t sizes[FT_MAX_DIMS];
    int64_t strides[FT_ITER_MAX_ARGS][FT_MAX_DIMS]; /* bytes */
    char *data[FT_ITER_MAX_ARGS];
} ft_iter;

/* strides_elems[k] may be NULL for a contiguous operand k. Returns FT_OK or sets an error. */
int ft_iter_init(ft_iter *it, int nargs, int ndim, const int64_t *sizes,
                 char *const *data, const int64_t *const *strides_elems, const size_t *itemsizes);

/* Walk rows: `ptrs` are the row starts, the row has it->sizes[0] elements with
 * byte strides it->strides[k][0]. Usage:
 *   int64_t counter[FT_MAX_DIMS]; char *ptrs[FT_ITER_MAX_ARGS];
 *   for (ft_iter_rows_begin(it, counter, ptrs); ft_iter_rows_valid(it, counter); ft_iter_rows_next(it, counter, ptrs)) {...}
 */
static inline void ft_iter_rows_begin(const ft_iter *it, int64_t *counter, char **ptrs) {
    for (int d = 0; d < it->ndim; d++) counter[d] = 0;
    for (int k = 0; k < it->nargs; k++) ptrs[k] = it->data[k];
    if (it->numel == 0) counter[0] = -1;
}
static inline bool ft_iter_rows_valid(const ft_iter *it, const int64_t *counter) {
    return it->numel > 0 && counter[0] >= 0;
}
static inline void ft_iter_rows_next(const ft_iter *it, int64_t *counter, char **ptrs) {
    for (int d = 1; d < it->ndim; d++) {
        counter[d]++;
        for (int k = 0; k < it->nargs; k++) ptrs[k] += it->strides[k][d];
        if (counter[d] < it->sizes[d]) return;
        for (int k = 0; k < it->nargs; k++) ptrs[k] -= it->strides[k][d] * it->sizes[d];
        counter[d] = 0;
    }
    counter[0] = -1; /* done */
}

/* Typed dispatch helper: expands the body (variadic, so commas are fine) with `T` bound to the C type of dtype. */
#define FT_DISPATCH_ALL(dtype, ...)                          \
    switch (dtype) {                                         \
    case FT_BOOL:    { typedef uint8_t T; __VA_ARGS__; } break;     \
    case FT_UINT8:   { typedef uint8_t T; __VA_ARGS__; } break;     \
    case FT_INT8:    { typedef int8_t T; __VA_ARGS__; } break;      \
    case FT_INT16:   { typedef int16_t T; __VA_ARGS__; } break;     \
    case FT_INT32:   { typedef int32_t T; __VA_ARGS__; } break;     \
    case FT_INT64:   { typedef int64_t T; __VA_ARGS__; } break;     \
    case FT_FLOAT32: { typedef float T; __VA_ARGS__; } break;       \
    case FT_FLOAT64: { typedef double T; __VA_ARGS__; } break;      \
    default: return ft_set_error(FT_ERR_UNSUPPORTED, "unsupported dtype code %d", (int)(dtype)); \
    }

/* Value conversion to each destination type, with torch's results (see ft_f2i64).
 * FT_CONVERT(NAME, x) picks the floating or integral source rule from x's C type. */
static inline uint8_t ft_boolean_from_f(double x) { return x != 0; }
static inline uint8_t ft_boolean_from_i(int64_t x) { return x != 0; }
static inline uint8_t ft_uint8_from_f(double x) { return (uint8_t)(uint64_t)ft_f2i64(x); }
static inline uint8_t ft_uint8_from_i(int64_t x) { return (uint8_t)(uint64_t)x; }
static inline int8_t ft_int8_from_f(double x) { return ft_wrap_i8((uint64_t)(int64_t)ft_f2i32(x)); }
static inline int8_t ft_int8_from_i(int64_t x) { return ft_wrap_i8((uint64_t)x); }
static inline int16_t ft_int16_from_f(double x) { return ft_wrap_i16((uint64_t)(int64_t)ft_f2i32(x)); }
static inline int16_t ft_int16_from_i(int64_t x) { return ft_wrap_i16((uint64_t)x); }
static inline int32_t ft_int32_from_f(double x) { return ft_f2i32(x); }
static inline int32_t ft_int32_from_i(int64_t x) { return ft_wrap_i32((uint64_t)x); }
static inline int64_t ft_int64_from_f(double x) { return ft_f2i64(x); }
static inline int64_t ft_int64_from_i(int64_t x) { return x; }
static inline float ft_float32_from_f(double x) { return (float)x; }
static inline float ft_float32_from_i(int64_t x) { return (float)x; }
static inline double ft_float64_from_f(double x) { return x; }
static inline double ft_float64_from_i(int64_t x) { return (double)x; }

#define FT_CONVERT(NAME, x) _Generic((x), float: ft_##NAME##_from_f, double: ft_##NAME##_from_f, default: ft_##NAME##_from_i)(x)

/* ---- the thread pool (parallel.c) ----
 * ft_parallel_for with at most max_threads threads (a kernel that sized per-thread buffers for
 * max_threads passes that count). */
int ft_parallel_for_threads(int64_t n, int64_t grain, int max_threads, ft_range_fn fn, void *ctx);
/* The running thread's index in the pool: 0 for the caller (and any thread outside the pool),
 * 1.. for workers; below the thread count of the job it runs. */
int ft_parallel_thread_index(void);

#endif /* FT_INTERNAL_H */
