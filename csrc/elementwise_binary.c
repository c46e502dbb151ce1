/* Binary elementwise kernels: out = op(a, b) (ft_binary, ft_binary_contig).
 *
 * One typed loop per (op, compute dtype) in ft_binary_loops; an empty slot
 * means torch has no kernel for that dtype either. Each loop has fast paths
 * for contiguous rows and for one operand broadcast from a single element
 * (tensor-scalar ops), beside the general strided walk. Integer division and
 * remainder by zero report torch's RuntimeError("ZeroDivisionError"); every
 * other integer result wraps like torch's, computed without undefined behaviour.
 * A loop returns 1 when it met a zero divisor; the entry point reports it,
 * on the calling thread, once every thread is done.
 *
 * Calls above a grain of elements are split over the thread pool, so each
 * element is computed exactly once by the same code whatever the split.
 */
#include <stdatomic.h>
#include <tgmath.h>

#include "elementwise.h"

typedef int (*ft_binary_loop)(int64_t n, char *out, int64_t out_step, const char *a, int64_t a_step,
                              const char *b, int64_t b_step, double alpha_f, int64_t alpha_i);

/* alpha (add/sub) in the compute type: alpha_f for floating types, alpha_i otherwise. */
#define FT_ALPHA(T) _Generic((T)0, float: (T)alpha_f, double: (T)alpha_f, default: (T)alpha_i)

/* Defines ft_binary_<op>_<suffix>: one row of out[i] = (TO)(expr of x, y); steps in bytes.
 * Rows with a contiguous output and contiguous or single-element (tensor-scalar) inputs go
 * to ft_binary_<op>_<suffix>_dense, the loops worth a vector clone; the rest walk strides.
 * An expression may set zero_division, which the row returns once it is done. */
#define FT_BINARY_LOOP(sfx, ...) FT_BINARY_LOOP_WITH(FT_CLONES_##sfx, sfx, __VA_ARGS__)
/* For bodies that call out of line (integer division, libm): no vector clone to gain. */
#define FT_BINARY_SCALAR_LOOP(sfx, ...) FT_BINARY_LOOP_WITH(, sfx, __VA_ARGS__)
#define FT_BINARY_LOOP_WITH(ATTRIBUTES, sfx, TI, UI, op, TO, ...)                                      \
    ATTRIBUTES static int ft_binary_##op##_##sfx##_dense(int64_t n, char *out, const char *pa,         \
                                                         int64_t as, const char *pb, int64_t bs,        \
                                                         double alpha_f, int64_t alpha_i) {             \
        typedef TI T;                                                                                   \
        typedef UI U;                                                                                   \
        (void)sizeof(U);                                                                                \
        TO *restrict o = (TO *)out;                                                                     \
        const T alpha = FT_ALPHA(T);                                                                    \
        (void)alpha;                                                                                    \
        int zero_division = 0;                                                                          \
        if (as && bs) {                                                                                 \
            const T *restrict a = (const T *)pa, *restrict b = (const T *)pb;                           \
            for (int64_t i = 0; i < n; i++) {                                                           \
                const T x = a[i], y = b[i];                                                             \
                o[i] = (TO)(__VA_ARGS__);                                                               \
            }                                                                                           \
        } else if (as) {                                                                                \
            const T *restrict a = (const T *)pa;                                                        \
            const T y = *(const T *)pb;                                                                 \
            for (int64_t i = 0; i < n; i++) {                                                           \
                const T x = a[i];                                                                       \
                o[i] = (TO)(__VA_ARGS__);                                                               \
            }                                                                                           \
        } else {                                                                                        \
            const T x = *(const T *)pa;                                                                 \
            const T *restrict b = (const T *)pb;                                                        \
            for (int64_t i = 0; i < n; i++) {                                                           \
                const T y = b[i];                                                                       \
                o[i] = (TO)(__VA_ARGS__);                                                               \
            }                                                                                           \
        }                                                                                               \
        return zero_division;                                                                           \
    }                                                                                                   \
    static int ft_binary_##op##_##sfx(int64_t n, char *out, int64_t os, const char *pa, int64_t as,    \
                                      const char *pb, int64_t bs, double alpha_f, int64_t alpha_i) {    \
        typedef TI T;                                                                                   \
        typedef UI U;                                                                                   \
        (void)sizeof(U);                                                                                \
        const T alpha = FT_ALPHA(T);                                                                    \
        (void)alpha;                                                                                    \
        int zero_division = 0;                                                                          \
        const int64_t ts = (int64_t)sizeof(T);                                                          \
        if (os == (int64_t)sizeof(TO) && (as == ts || as == 0) && (bs == ts || bs == 0) && (as || bs)) { \
            zero_division = ft_binary_##op##_##sfx##_dense(n, out, pa, as, pb, bs, alpha_f, alpha_i);      \
        } else {                                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                           \
                const T x = *(const T *)(pa + i * as), y = *(const T *)(pb + i * bs);                   \
                *(TO *)(out + i * os) = (TO)(__VA_ARGS__);                                              \
            }                                                                                           \
        }                                                                                               \
        return zero_division;                                                                           \
    }

/* ---- integer helpers (torch's c10 / BinaryOpsKernel semantics) ----
 * `b == -1` is handled apart: INT_MIN / -1 and INT_MIN % -1 trap in C; torch wraps
 * the quotient (or crashes) and the remainder is 0. Division by zero yields 0 here;
 * the loop reports the error. */
#define FT_INT_HELPERS(sfx, T, U, ...)                                                                  \
    static inline T ft_div_trunc_##sfx(T a, T b) {                                                      \
        if (b == 0) return 0;                                                                           \
        if (b == -1) return (T)((U)0 - (U)a);                                                           \
        return (T)(a / b);                                                                              \
    }                                                                                                   \
    static inline T ft_div_floor_##sfx(T a, T b) {                                                      \
        if (b == 0) return 0;                                                                           \
        if (b == -1) return (T)((U)0 - (U)a);                                                           \
        const T q = (T)(a / b), r = (T)(a % b);                                                         \
        return (r != 0 && ((r < 0) != (b < 0))) ? (T)(q - 1) : q;                                       \
    }                                                                                                   \
    static inline T ft_remainder_##sfx(T a, T b) {                                                      \
        if (b == 0 || b == -1) return 0;                                                                \
        const T r = (T)(a % b);                                                                         \
        return (r != 0 && ((r < 0) != (b < 0))) ? (T)(r + b) : r;                                      \
    }                                                                                                   \
    static inline T ft_fmod_##sfx(T a, T b) {                                                           \
        if (b == 0 || b == -1) return 0;                                                                \
        return (T)(a % b);                                                                              \
    }                                                                                                   \
    /* torch's powi: negative exponents give 1, ±1 or 0; otherwise square-and-multiply, wrapping. */    \
    static inline T ft_pow_##sfx(T a, T b) {                                                            \
        if (b < 0) {                                                                                    \
            if (a == 1) return 1;                                                                       \
            if (a == -1) return (T)(((U)b & 1u) ? -1 : 1);                                              \
            return 0;                                                                                   \
        }                                                                                               \
        U result = 1, base = (U)a, e = (U)b;                                                            \
        while (e) {                                                                                     \
            if (e & 1u) result *= base;                                                                 \
            e >>= 1;                                                                                    \
            base *= base;                                                                               \
        }                                                                                               \
        return (T)result;                                                                               \
    }                                                                                                   \
    /* Shifts by a negative amount or by >= the bit width give 0 (left) or the sign fill (right). */   \
    static inline T ft_lshift_##sfx(T a, T b) {                                                         \
        if (b < 0 || b >= (T)(sizeof(T) * 8)) return 0;                                                 \
        return (T)((U)a << b);                                                                          \
    }                                                                                                   \
    static inline T ft_rshift_##sfx(T a, T b) {                                                         \
        const int max_shift = (int)(sizeof(T) * 8) - ((T)-1 < 0);                                       \
        if (b < 0 || b >= max_shift) return (T)(a >> max_shift);                                        \
        return (T)(a >> b);                                                                             \
    }
FT_EACH_INT(FT_INT_HELPERS, _)

/* ---- floating helpers (torch's c10 formulas) ---- */
#define FT_FLOAT_HELPERS(sfx, T, U, ...)                                                                \
    static inline T ft_div_floor_##sfx(T a, T b) {                                                      \
        if (b == 0) return a / b;                                                                       \
        const T mod = fmod(a, b);                                                                       \
        T div = (a - mod) / b;                                                                          \
        if (mod != 0 && (b < 0) != (mod < 0)) div -= (T)1;                                              \
        if (div == 0) return copysign((T)0, a / b);                                                     \
        T floordiv = floor(div);                                                                        \
        if (div - floordiv > (T)0.5) floordiv += (T)1;                                                  \
        return floordiv;                                                                                \
    }                                                                                                   \
    static inline T ft_remainder_##sfx(T a, T b) {                                                      \
        const T mod = fmod(a, b);                                                                       \
        return (mod != 0 && (b < 0) != (mod < 0)) ? mod + b : mod;                                      \
    }                                                                                                   \
    static inline T ft_xlogy_##sfx(T x, T y) {                                                          \
        if (y != y) return y;                                                                           \
        if (x == 0) return 0;                                                                           \
        return x * log(y);                                                                              \
    }
FT_EACH_FLOAT(FT_FLOAT_HELPERS, _)

/* ---- arithmetic ---- */
FT_EACH_BOOL(FT_BINARY_LOOP, add, T, x | (alpha & y))
FT_EACH_INT(FT_BINARY_LOOP, add, T, (U)x + (U)alpha * (U)y)
FT_EACH_FLOAT(FT_BINARY_LOOP, add, T, x + alpha * y)
FT_EACH_INT(FT_BINARY_LOOP, sub, T, (U)x - (U)alpha * (U)y)
FT_EACH_FLOAT(FT_BINARY_LOOP, sub, T, x - alpha * y)
FT_EACH_BOOL(FT_BINARY_LOOP, mul, T, x & y)
FT_EACH_INT(FT_BINARY_LOOP, mul, T, (U)x * (U)y)
FT_EACH_FLOAT(FT_BINARY_LOOP, mul, T, x * y)
FT_EACH_FLOAT(FT_BINARY_LOOP, div, T, x / y)
FT_EACH_INT(FT_BINARY_SCALAR_LOOP, div_trunc, T, (zero_division |= (y == 0), FT_INT_CALL(div_trunc, x, y)))
FT_EACH_FLOAT(FT_BINARY_LOOP, div_trunc, T, trunc(x / y))
FT_EACH_INT(FT_BINARY_SCALAR_LOOP, div_floor, T, (zero_division |= (y == 0), FT_INT_CALL(div_floor, x, y)))
FT_EACH_FLOAT(FT_BINARY_SCALAR_LOOP, div_floor, T, FT_FLOAT_CALL(div_floor, x, y))
FT_EACH_INT(FT_BINARY_SCALAR_LOOP, remainder, T, (zero_division |= (y == 0), FT_INT_CALL(remainder, x, y)))
FT_EACH_FLOAT(FT_BINARY_SCALAR_LOOP, remainder, T, FT_FLOAT_CALL(remainder, x, y))
FT_EACH_INT(FT_BINARY_SCALAR_LOOP, fmod, T, (zero_division |= (y == 0), FT_INT_CALL(fmod, x, y)))
FT_EACH_FLOAT(FT_BINARY_SCALAR_LOOP, fmod, T, fmod(x, y))
FT_EACH_INT(FT_BINARY_SCALAR_LOOP, pow, T, FT_INT_CALL(pow, x, y))
FT_EACH_FLOAT(FT_BINARY_SCALAR_LOOP, pow, T, pow(x, y))
FT_EACH_FLOAT(FT_BINARY_SCALAR_LOOP, atan2, T, atan2(x, y))
FT_EACH_FLOAT(FT_BINARY_SCALAR_LOOP, hypot, T, hypot(x, y))
FT_EACH_FLOAT(FT_BINARY_LOOP, copysign, T, copysign(x, y))
FT_EACH_FLOAT(FT_BINARY_SCALAR_LOOP, xlogy, T, FT_FLOAT_CALL(xlogy, x, y))
FT_EACH_FLOAT(FT_BINARY_SCALAR_LOOP, nextafter, T, nextafter(x, y))

/* ---- extrema ----
 * maximum/minimum propagate NaN and, for equal operands (-0.0 vs 0.0), return the
 * second one like torch's vectorised loop; fmax/fmin ignore a NaN and return the
 * first of equal operands like std::fmax. */
FT_EACH_BOOL(FT_BINARY_LOOP, maximum, T, x > y ? x : y)
FT_EACH_INT(FT_BINARY_LOOP, maximum, T, x > y ? x : y)
FT_EACH_FLOAT(FT_BINARY_LOOP, maximum, T, (x > y || x != x) ? x : y)
FT_EACH_BOOL(FT_BINARY_LOOP, minimum, T, x < y ? x : y)
FT_EACH_INT(FT_BINARY_LOOP, minimum, T, x < y ? x : y)
FT_EACH_FLOAT(FT_BINARY_LOOP, minimum, T, (x < y || x != x) ? x : y)
FT_EACH_FLOAT(FT_BINARY_LOOP, fmax, T, (x >= y || y != y) ? x : y)
FT_EACH_FLOAT(FT_BINARY_LOOP, fmin, T, (x <= y || y != y) ? x : y)

/* ---- comparisons and logical ops (bool results) ---- */
#define FT_EACH_DTYPE(M, ...) FT_EACH_BOOL(M, __VA_ARGS__) FT_EACH_INT(M, __VA_ARGS__) FT_EACH_FLOAT(M, __VA_ARGS__)
FT_EACH_DTYPE(FT_BINARY_LOOP, eq, uint8_t, x == y)
FT_EACH_DTYPE(FT_BINARY_LOOP, ne, uint8_t, x != y)
FT_EACH_DTYPE(FT_BINARY_LOOP, lt, uint8_t, x < y)
FT_EACH_DTYPE(FT_BINARY_LOOP, le, uint8_t, x <= y)
FT_EACH_DTYPE(FT_BINARY_LOOP, gt, uint8_t, x > y)
FT_EACH_DTYPE(FT_BINARY_LOOP, ge, uint8_t, x >= y)
FT_EACH_DTYPE(FT_BINARY_LOOP, logical_and, uint8_t, (x != 0) & (y != 0))
FT_EACH_DTYPE(FT_BINARY_LOOP, logical_or, uint8_t, (x != 0) | (y != 0))
FT_EACH_DTYPE(FT_BINARY_LOOP, logical_xor, uint8_t, (x != 0) ^ (y != 0))

/* ---- bitwise ---- */
FT_EACH_BOOL(FT_BINARY_LOOP, bitwise_and, T, x & y)
FT_EACH_INT(FT_BINARY_LOOP, bitwise_and, T, x & y)
FT_EACH_BOOL(FT_BINARY_LOOP, bitwise_or, T, x | y)
FT_EACH_INT(FT_BINARY_LOOP, bitwise_or, T, x | y)
FT_EACH_BOOL(FT_BINARY_LOOP, bitwise_xor, T, x ^ y)
FT_EACH_INT(FT_BINARY_LOOP, bitwise_xor, T, x ^ y)
FT_EACH_INT(FT_BINARY_LOOP, lshift, T, FT_INT_CALL(lshift, x, y))
FT_EACH_INT(FT_BINARY_LOOP, rshift, T, FT_INT_CALL(rshift, x, y))

#define FT_ROWS_REAL(fn) FT_ROWS_INT(fn), FT_ROWS_FLOAT(fn)
#define FT_ROWS_ALL(fn) FT_ROWS_BOOL(fn), FT_ROWS_INT(fn), FT_ROWS_FLOAT(fn)
#define FT_ROWS_BITS(fn) FT_ROWS_BOOL(fn), FT_ROWS_INT(fn)

static const ft_binary_loop ft_binary_loops[FT_BINARY_COUNT][FT_DTYPE_COUNT] = {
    [FT_BINARY_ADD] = {FT_ROWS_ALL(ft_binary_add)},
    [FT_BINARY_SUB] = {FT_ROWS_REAL(ft_binary_sub)},
    [FT_BINARY_MUL] = {FT_ROWS_ALL(ft_binary_mul)},
    [FT_BINARY_DIV] = {FT_ROWS_FLOAT(ft_binary_div)},
    [FT_BINARY_DIV_TRUNC] = {FT_ROWS_REAL(ft_binary_div_trunc)},
    [FT_BINARY_DIV_FLOOR] = {FT_ROWS_REAL(ft_binary_div_floor)},
    [FT_BINARY_REMAINDER] = {FT_ROWS_REAL(ft_binary_remainder)},
    [FT_BINARY_FMOD] = {FT_ROWS_REAL(ft_binary_fmod)},
    [FT_BINARY_POW] = {FT_ROWS_REAL(ft_binary_pow)},
    [FT_BINARY_ATAN2] = {FT_ROWS_FLOAT(ft_binary_atan2)},
    [FT_BINARY_MAXIMUM] = {FT_ROWS_ALL(ft_binary_maximum)},
    [FT_BINARY_MINIMUM] = {FT_ROWS_ALL(ft_binary_minimum)},
    /* on integers and bool fmax/fmin are maximum/minimum */
    [FT_BINARY_FMAX] = {FT_ROWS_BITS(ft_binary_maximum), FT_ROWS_FLOAT(ft_binary_fmax)},
    [FT_BINARY_FMIN] = {FT_ROWS_BITS(ft_binary_minimum), FT_ROWS_FLOAT(ft_binary_fmin)},
    [FT_BINARY_EQ] = {FT_ROWS_ALL(ft_binary_eq)},
    [FT_BINARY_NE] = {FT_ROWS_ALL(ft_binary_ne)},
    [FT_BINARY_LT] = {FT_ROWS_ALL(ft_binary_lt)},
    [FT_BINARY_LE] = {FT_ROWS_ALL(ft_binary_le)},
    [FT_BINARY_GT] = {FT_ROWS_ALL(ft_binary_gt)},
    [FT_BINARY_GE] = {FT_ROWS_ALL(ft_binary_ge)},
    [FT_BINARY_LOGICAL_AND] = {FT_ROWS_ALL(ft_binary_logical_and)},
    [FT_BINARY_LOGICAL_OR] = {FT_ROWS_ALL(ft_binary_logical_or)},
    [FT_BINARY_LOGICAL_XOR] = {FT_ROWS_ALL(ft_binary_logical_xor)},
    [FT_BINARY_BITWISE_AND] = {FT_ROWS_BITS(ft_binary_bitwise_and)},
    [FT_BINARY_BITWISE_OR] = {FT_ROWS_BITS(ft_binary_bitwise_or)},
    [FT_BINARY_BITWISE_XOR] = {FT_ROWS_BITS(ft_binary_bitwise_xor)},
    [FT_BINARY_LSHIFT] = {FT_ROWS_INT(ft_binary_lshift)},
    [FT_BINARY_RSHIFT] = {FT_ROWS_INT(ft_binary_rshift)},
    [FT_BINARY_HYPOT] = {FT_ROWS_FLOAT(ft_binary_hypot)},
    [FT_BINARY_COPYSIGN] = {FT_ROWS_FLOAT(ft_binary_copysign)},
    [FT_BINARY_XLOGY] = {FT_ROWS_FLOAT(ft_binary_xlogy)},
    [FT_BINARY_NEXTAFTER] = {FT_ROWS_FLOAT(ft_binary_nextafter)},
};

/* torch's kernel names, used in "not implemented for" errors. */
static const char *const ft_binary_names[] = {
    "add_cpu", "sub_cpu", "mul_cpu", "div_true_cpu",
    "div_trunc_cpu", "div_floor_cpu", "remainder_cpu", "fmod_cpu",
    "pow", "atan2_cpu", "maximum_cpu", "minimum_cpu", "fmax_cpu", "fmin_cpu",
    "eq_cpu", "ne_cpu", "lt_cpu", "le_cpu", "gt_cpu", "ge_cpu",
    "logical_and_cpu", "logical_or_cpu", "logical_xor_cpu",
    "bitwise_and_cpu", "bitwise_or_cpu", "bitwise_xor_cpu",
    "lshift_cpu", "rshift_cpu",
    "hypot_cpu", "copysign_cpu", "xlogy_cpu", "nextafter_cpu",
};
_Static_assert(sizeof ft_binary_names / sizeof ft_binary_names[0] == FT_BINARY_COUNT, "binary name table out of date");

static bool ft_binary_writes_bool(int op) {
    switch (op) {
    case FT_BINARY_EQ: case FT_BINARY_NE: case FT_BINARY_LT: case FT_BINARY_LE: case FT_BINARY_GT: case FT_BINARY_GE:
    case FT_BINARY_LOGICAL_AND: case FT_BINARY_LOGICAL_OR: case FT_BINARY_LOGICAL_XOR:
        return true;
    default:
        return false;
    }
}

static int ft_binary_select(int op, int out_dtype, int in_dtype, ft_binary_loop *loop) {
    if (op < 0 || op >= FT_BINARY_COUNT) return ft_set_error(FT_ERR_RUNTIME, "binary: invalid op code %d", op);
    *loop = ft_is_valid_dtype(in_dtype) ? ft_binary_loops[op][in_dtype] : NULL;
    return ft_check_loop(*loop != NULL, ft_binary_names[op], in_dtype, out_dtype,
                         ft_binary_writes_bool(op) ? FT_BOOL : in_dtype);
}

/* Ops that call out of line per element (libm, integer division) split across threads sooner. */
static int64_t ft_binary_grain(int op) {
    switch (op) {
    case FT_BINARY_DIV_FLOOR: case FT_BINARY_REMAINDER: case FT_BINARY_FMOD: case FT_BINARY_POW:
    case FT_BINARY_ATAN2: case FT_BINARY_HYPOT: case FT_BINARY_XLOGY: case FT_BINARY_NEXTAFTER:
        return FT_GRAIN_COSTLY;
    default:
        return FT_GRAIN_CHEAP;
    }
}

static int ft_binary_report(int zero_division) {
    return zero_division ? ft_set_error(FT_ERR_ZERO_DIVISION, "ZeroDivisionError") : FT_OK;
}

typedef struct {
    ft_binary_loop loop;
    double alpha_f;
    int64_t alpha_i;
} ft_binary_row_ctx;

static int ft_binary_row(void *ctx, int64_t n, char *const *ptrs, const int64_t *steps) {
    const ft_binary_row_ctx *row = ctx;
    return row->loop(n, ptrs[0], steps[0], ptrs[1], steps[1], ptrs[2], steps[2], row->alpha_f, row->alpha_i);
}

int ft_binary(int op, int out_dtype, int in_dtype, int ndim, const int64_t *sizes,
              intptr_t out, const int64_t *out_strides,
              intptr_t a, const int64_t *a_strides,
              intptr_t b, const int64_t *b_strides,
              double alpha_f, int64_t alpha_i) {
    ft_binary_loop loop = NULL;
    int rc = ft_binary_select(op, out_dtype, in_dtype, &loop);
    if (rc) return rc;
    ft_iter it;
    char *data[3] = {(char *)out, (char *)a, (char *)b};
    const int64_t *strides[3] = {out_strides, a_strides, b_strides};
    const size_t items[3] = {ft_itemsize(out_dtype), ft_itemsize(in_dtype), ft_itemsize(in_dtype)};
    rc = ft_iter_init(&it, 3, ndim, sizes, data, strides, items);
    if (rc) return rc;
    ft_binary_row_ctx row = {loop, alpha_f, alpha_i};
    return ft_binary_report(ft_elementwise_run(&it, ft_binary_grain(op), ft_binary_row, &row));
}

typedef struct {
    ft_binary_loop loop;
    char *out;
    const char *a, *b;
    int64_t out_step, a_step, b_step;
    double alpha_f;
    int64_t alpha_i;
    atomic_int zero_division;
} ft_binary_contig_job;

static void ft_binary_contig_range(void *ctx, int64_t begin, int64_t end) {
    ft_binary_contig_job *job = ctx;
    if (job->loop(end - begin, job->out + begin * job->out_step, job->out_step, job->a + begin * job->a_step,
                  job->a_step, job->b + begin * job->b_step, job->b_step, job->alpha_f, job->alpha_i))
        atomic_store(&job->zero_division, 1);
}

int ft_binary_contig(int op, int out_dtype, int in_dtype, int64_t n, intptr_t out,
                     intptr_t a, int64_t a_step, intptr_t b, int64_t b_step,
                     double alpha_f, int64_t alpha_i) {
    ft_binary_loop loop = NULL;
    int rc = ft_binary_select(op, out_dtype, in_dtype, &loop);
    if (rc) return rc;
    const int64_t item = (int64_t)ft_itemsize(in_dtype);
    const int64_t grain = ft_binary_grain(op);
    if (n <= grain)
        return ft_binary_report(loop(n, (char *)out, (int64_t)ft_itemsize(out_dtype), (const char *)a, a_step * item,
                                     (const char *)b, b_step * item, alpha_f, alpha_i));
    ft_binary_contig_job job = {loop, (char *)out, (const char *)a, (const char *)b, (int64_t)ft_itemsize(out_dtype),
                                a_step * item, b_step * item, alpha_f, alpha_i, 0};
    ft_parallel_for(n, grain, ft_binary_contig_range, &job);
    return ft_binary_report(atomic_load(&job.zero_division));
}
