/* Private to the elementwise kernel files: how a typed loop is stamped out for
 * each dtype of a category, and the table rows that point at those loops.
 *
 * A loop body is one C expression over the element(s) `x` (and `y`) of the
 * compute type `T`; `U` is an unsigned type at least as wide as T (and as
 * wide as int), so integer arithmetic can wrap without signed overflow or
 * integer-promotion surprises. Each loop handles one row: a contiguous
 * fast path the compiler vectorises, and the general strided walk.
 */
#ifndef FT_ELEMENTWISE_H
#define FT_ELEMENTWISE_H

#include "ft_internal.h"

/* Loops are compiled twice, for the x86-64 baseline and for x86-64-v3 (AVX2, FMA), and
 * the loader picks the best one for the CPU (an ifunc). ISO C mode keeps FMA contraction
 * off, so both clones round identically. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(FT_NO_CLONES)
#define FT_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FT_CLONES
#endif
/* Per dtype suffix: floating loops gain most (rounding needs SSE4.1, wider vectors); integer
 * and bool loops keep one baseline copy, which holds the build time down. */
#define FT_CLONES_b
#define FT_CLONES_u8
#define FT_CLONES_i8
#define FT_CLONES_i16
#define FT_CLONES_i32
#define FT_CLONES_i64
#define FT_CLONES_f32 FT_CLONES
#define FT_CLONES_f64 FT_CLONES

/* M(suffix, C type, wide unsigned type, ...) for each dtype of a category. */
#define FT_EACH_FLOAT(M, ...) M(f32, float, uint32_t, __VA_ARGS__) M(f64, double, uint64_t, __VA_ARGS__)
#define FT_EACH_INT(M, ...)                                                                             \
    M(u8, uint8_t, uint32_t, __VA_ARGS__) M(i8, int8_t, uint32_t, __VA_ARGS__)                          \
    M(i16, int16_t, uint32_t, __VA_ARGS__) M(i32, int32_t, uint32_t, __VA_ARGS__)                       \
    M(i64, int64_t, uint64_t, __VA_ARGS__)
#define FT_EACH_BOOL(M, ...) M(b, uint8_t, uint32_t, __VA_ARGS__)

/* Designated initialisers for one op's row of a [op][dtype] loop table. */
#define FT_ROWS_FLOAT(fn) [FT_FLOAT32] = fn##_f32, [FT_FLOAT64] = fn##_f64
#define FT_ROWS_INT(fn) \
    [FT_UINT8] = fn##_u8, [FT_INT8] = fn##_i8, [FT_INT16] = fn##_i16, [FT_INT32] = fn##_i32, [FT_INT64] = fn##_i64
#define FT_ROWS_BOOL(fn) [FT_BOOL] = fn##_b

/* The C type of the compute dtype decides which typed helper an expression calls. */
#define FT_FLOAT_CALL(name, x, ...) _Generic((x), float: ft_##name##_f32, double: ft_##name##_f64)(x, __VA_ARGS__)
#define FT_INT_CALL(name, x, ...)                                                                       \
    _Generic((x), uint8_t: ft_##name##_u8, int8_t: ft_##name##_i8, int16_t: ft_##name##_i16,            \
             int32_t: ft_##name##_i32, int64_t: ft_##name##_i64)(x, __VA_ARGS__)

/* torch's ScalarType names, for "... not implemented for 'Float'" messages. */
static inline const char *ft_torch_type_name(int dtype) {
    static const char *const names[] = {"Bool", "Byte", "Char", "Short", "Int", "Long", "Float", "Double"};
    _Static_assert(sizeof names / sizeof names[0] == FT_DTYPE_COUNT, "torch type name table out of date");
    return ft_is_valid_dtype(dtype) ? names[dtype] : "invalid";
}

/* The checks an entry point makes on the loop it looked up for (op, dtype): no loop is torch's
 * NotImplementedError; an output dtype other than the op's is a caller bug. */
static inline int ft_check_loop(bool found, const char *name, int in_dtype, int out_dtype, int expected_out_dtype) {
    if (!found)
        return ft_set_error(FT_ERR_UNSUPPORTED, "\"%s\" not implemented for '%s'", name, ft_torch_type_name(in_dtype));
    if (out_dtype != expected_out_dtype)
        return ft_set_error(FT_ERR_RUNTIME, "%s: expected an output of dtype %s but got %s", name,
                            ft_dtype_name(expected_out_dtype), ft_dtype_name(out_dtype));
    return FT_OK;
}

/* ---- vectorised math (elementwise_math.h, compiled per ISA in elementwise_math_<isa>.c) ----
 * Array kernels out[i] = f(in[i]) over contiguous float32/float64 arrays (out may be in); a NULL
 * slot means no vector version: the unary loop calls libm per element instead. */
typedef enum {
    FT_MATH_EXP = 0, FT_MATH_LOG, FT_MATH_TANH, FT_MATH_SIGMOID, FT_MATH_ERF, FT_MATH_GELU, FT_MATH_GELU_TANH,
    FT_MATH_COUNT
} ft_math_fn;
typedef void (*ft_math_f32_kernel)(int64_t n, float *out, const float *in);
typedef void (*ft_math_f64_kernel)(int64_t n, double *out, const double *in);
typedef struct {
    ft_math_f32_kernel f32[FT_MATH_COUNT];
    ft_math_f64_kernel f64[FT_MATH_COUNT];
} ft_math_kernels;
extern const ft_math_kernels ft_math_avx512, ft_math_avx2;
/* The kernels of the SIMD level in force (ft_simd_level), or NULL at level 0 (libm). */
const ft_math_kernels *ft_math_kernels_active(void);

/* ---- threads ----
 * Elements per thread below which an elementwise call stays on one thread: a memory-bound
 * loop (add) gains from a second thread only once its share outlasts the hand-off (a few
 * microseconds); a transcendental costs ~10x more per element, so it splits sooner. */
#define FT_GRAIN_CHEAP (64 * 1024)
#define FT_GRAIN_COSTLY (8 * 1024)

/* One row segment of an elementwise call: n elements from ptrs[k], byte steps steps[k].
 * Returns 0, or a flag the entry point turns into an error (integer division by zero). */
typedef int (*ft_row_fn)(void *ctx, int64_t n, char *const *ptrs, const int64_t *steps);
/* Runs fn over every element of the iterator's box, split over the thread pool above grain
 * elements; each element is computed exactly once and independently of the split. Returns
 * the first non-zero flag any row returned. */
int ft_elementwise_run(const ft_iter *it, int64_t grain, ft_row_fn fn, void *ctx);

#endif /* FT_ELEMENTWISE_H */
