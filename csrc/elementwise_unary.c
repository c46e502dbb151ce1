/* Unary elementwise kernels: out = op(a) (ft_unary, ft_unary_contig).
 *
 * One typed loop per (op, compute dtype) in ft_unary_loops; an empty slot
 * means torch has no kernel for that dtype either, and the call fails with
 * torch's NotImplementedError text. Floating ops run in the tensor's own
 * precision (float32 in float, like torch's CPU kernels); integer ops wrap
 * through unsigned arithmetic. exp, log, tanh, sigmoid, erf and gelu run the
 * vectorised kernels of elementwise_math.h where the CPU has AVX2 or AVX-512
 * (ft_simd_level), other transcendentals call libm per element.
 *
 * Calls above a grain of elements are split over the thread pool; every element
 * is computed by the same code whatever the split, so results do not depend on
 * the thread count.
 */
#include <tgmath.h>

#include "elementwise.h"
#include "special_math.h"

typedef int (*ft_unary_loop)(int64_t n, char *out, int64_t out_step, const char *in, int64_t in_step);

/* Defines ft_unary_<op>_<suffix>: one row of out[i] = (TO)(expr of x); steps in bytes.
 * Contiguous rows go to ft_unary_<op>_<suffix>_dense, the loop worth a vector clone. */
#define FT_UNARY_LOOP(sfx, ...) FT_UNARY_LOOP_WITH(FT_CLONES_##sfx, sfx, __VA_ARGS__)
/* For bodies that call libm per element: no vector clone to gain (yet). */
#define FT_UNARY_SCALAR_LOOP(sfx, ...) FT_UNARY_LOOP_WITH(, sfx, __VA_ARGS__)
#define FT_UNARY_LOOP_WITH(ATTRIBUTES, sfx, TI, UI, op, TO, ...)                                       \
    ATTRIBUTES static void ft_unary_##op##_##sfx##_dense(int64_t n, char *out, const char *in) {        \
        typedef TI T;                                                                                   \
        typedef UI U;                                                                                   \
        (void)sizeof(U);                                                                                \
        TO *restrict o = (TO *)out;                                                                     \
        const T *restrict a = (const T *)in;                                                            \
        for (int64_t i = 0; i < n; i++) {                                                               \
            const T x = a[i];                                                                           \
            o[i] = (TO)(__VA_ARGS__);                                                                   \
        }                                                                                               \
    }                                                                                                   \
    static int ft_unary_##op##_##sfx(int64_t n, char *out, int64_t os, const char *in, int64_t is) {   \
        typedef TI T;                                                                                   \
        typedef UI U;                                                                                   \
        (void)sizeof(U);                                                                                \
        if (os == (int64_t)sizeof(TO) && is == (int64_t)sizeof(T)) {                                    \
            ft_unary_##op##_##sfx##_dense(n, out, in);                                                  \
        } else {                                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                           \
                const T x = *(const T *)(in + i * is);                                                  \
                *(TO *)(out + i * os) = (TO)(__VA_ARGS__);                                              \
            }                                                                                           \
        }                                                                                               \
        return FT_OK;                                                                                   \
    }

/* ---- sign and magnitude ---- */
FT_EACH_INT(FT_UNARY_LOOP, neg, T, (U)0 - (U)x)
FT_EACH_FLOAT(FT_UNARY_LOOP, neg, T, -x)
FT_EACH_INT(FT_UNARY_LOOP, abs, T, x < 0 ? (U)0 - (U)x : (U)x)
FT_EACH_FLOAT(FT_UNARY_LOOP, abs, T, fabs(x))
/* sign(-0.0) is +0.0 and sign(NaN) is 0, as torch's (0 < x) - (x < 0). */
FT_EACH_BOOL(FT_UNARY_LOOP, sign, T, x)
FT_EACH_INT(FT_UNARY_LOOP, sign, T, (x > 0) - (x < 0))
FT_EACH_FLOAT(FT_UNARY_LOOP, sign, T, (T)(x > 0) - (T)(x < 0))
/* relu keeps NaN and -0.0, as torch's clamp_min(x, 0). */
FT_EACH_INT(FT_UNARY_LOOP, relu, T, x < 0 ? 0 : x)
FT_EACH_FLOAT(FT_UNARY_LOOP, relu, T, x < 0 ? (T)0 : x)
FT_EACH_INT(FT_UNARY_LOOP, square, T, (U)x * (U)x)
FT_EACH_FLOAT(FT_UNARY_LOOP, square, T, x * x)

/* Transcendentals with a vector kernel (elementwise_math.h): the kernel of the SIMD level in
 * force where it has one, else the libm loop ft_unary_<op>_libm_<suffix>. Strided rows pass
 * through a buffer so every element takes the same path whatever the layout. */
#define FT_MATH_BUFFER 256
#define FT_UNARY_MATH_LOOP(sfx, TI, UI, op, math, ...)                                                 \
    FT_UNARY_LOOP_WITH(, sfx, TI, UI, op##_libm, TI, __VA_ARGS__)                                      \
    static int ft_unary_##op##_##sfx(int64_t n, char *out, int64_t os, const char *in, int64_t is) {   \
        typedef TI T;                                                                                   \
        const ft_math_kernels *kernels = ft_math_kernels_active();                                      \
        const ft_math_##sfx##_kernel kernel = kernels ? kernels->sfx[math] : NULL;                     \
        if (!kernel) return ft_unary_##op##_libm_##sfx(n, out, os, in, is);                             \
        if (os == (int64_t)sizeof(T) && is == (int64_t)sizeof(T)) {                                     \
            kernel(n, (T *)out, (const T *)in);                                                         \
            return FT_OK;                                                                               \
        }                                                                                               \
        T buffer[FT_MATH_BUFFER];                                                                       \
        for (int64_t start = 0; start < n; start += FT_MATH_BUFFER) {                                   \
            const int64_t m = n - start < FT_MATH_BUFFER ? n - start : FT_MATH_BUFFER;                  \
            for (int64_t i = 0; i < m; i++) buffer[i] = *(const T *)(in + (start + i) * is);            \
            kernel(m, buffer, buffer);                                                                  \
            for (int64_t i = 0; i < m; i++) *(T *)(out + (start + i) * os) = buffer[i];                 \
        }                                                                                               \
        return FT_OK;                                                                                   \
    }

/* ---- exponentials, logarithms, powers ---- */
FT_EACH_FLOAT(FT_UNARY_MATH_LOOP, exp, FT_MATH_EXP, exp(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, exp2, T, exp2(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, expm1, T, expm1(x))
FT_EACH_FLOAT(FT_UNARY_MATH_LOOP, log, FT_MATH_LOG, log(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, log2, T, log2(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, log10, T, log10(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, log1p, T, log1p(x))
FT_EACH_FLOAT(FT_UNARY_LOOP, sqrt, T, sqrt(x))
FT_EACH_FLOAT(FT_UNARY_LOOP, rsqrt, T, (T)1 / sqrt(x))
FT_EACH_FLOAT(FT_UNARY_LOOP, reciprocal, T, (T)1 / x)
/* torch's formula: exp(-x) overflows to inf for very negative x and the result is 0. */
FT_EACH_FLOAT(FT_UNARY_MATH_LOOP, sigmoid, FT_MATH_SIGMOID, (T)1 / ((T)1 + exp(-x)))

/* ---- trigonometric and hyperbolic ---- */
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, sin, T, sin(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, cos, T, cos(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, tan, T, tan(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, asin, T, asin(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, acos, T, acos(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, atan, T, atan(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, sinh, T, sinh(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, cosh, T, cosh(x))
FT_EACH_FLOAT(FT_UNARY_MATH_LOOP, tanh, FT_MATH_TANH, tanh(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, asinh, T, asinh(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, acosh, T, acosh(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, atanh, T, atanh(x))
FT_EACH_FLOAT(FT_UNARY_MATH_LOOP, erf, FT_MATH_ERF, erf(x))
FT_EACH_FLOAT(FT_UNARY_SCALAR_LOOP, erfc, T, erfc(x))

/* ---- special functions (special_math.h: torch's Math.h ports; lgamma is libm's, as torch's) ---- */
FT_UNARY_SCALAR_LOOP(f32, float, uint32_t, lgamma, float, lgammaf(x))
FT_UNARY_SCALAR_LOOP(f64, double, uint64_t, lgamma, double, lgamma(x))
FT_UNARY_SCALAR_LOOP(f32, float, uint32_t, digamma, float, ft_digamma_f32(x))
FT_UNARY_SCALAR_LOOP(f64, double, uint64_t, digamma, double, ft_digamma_f64(x))
FT_UNARY_SCALAR_LOOP(f32, float, uint32_t, trigamma, float, ft_trigamma_f32(x))
FT_UNARY_SCALAR_LOOP(f64, double, uint64_t, trigamma, double, ft_trigamma_f64(x))
FT_UNARY_SCALAR_LOOP(f32, float, uint32_t, erfinv, float, ft_erfinv_f32(x))
FT_UNARY_SCALAR_LOOP(f64, double, uint64_t, erfinv, double, ft_erfinv_f64(x))
FT_UNARY_SCALAR_LOOP(f32, float, uint32_t, i0, float, ft_i0_f32(x))
FT_UNARY_SCALAR_LOOP(f64, double, uint64_t, i0, double, ft_i0_f64(x))
FT_UNARY_SCALAR_LOOP(f32, float, uint32_t, i1, float, ft_i1_f32(x))
FT_UNARY_SCALAR_LOOP(f64, double, uint64_t, i1, double, ft_i1_f64(x))
FT_UNARY_SCALAR_LOOP(f32, float, uint32_t, sinc, float, ft_sinc_f32(x))
FT_UNARY_SCALAR_LOOP(f64, double, uint64_t, sinc, double, ft_sinc_f64(x))
/* angle of a real number: pi for negatives, 0 otherwise, NaN kept */
FT_EACH_FLOAT(FT_UNARY_LOOP, angle, T, x != x ? x : (x < 0 ? (T)FT_PI : (T)0))

/* ---- activations ----
 * gelu: x Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2, which keeps the digits of the negative tail;
 * gelu tanh: x (1 + tanh(u)) / 2, u = sqrt(2/pi) (x + 0.044715 x^3), written x / (1 + e^-2u). */
#define FT_GELU(x) ((x) * ((T)0.5 * erfc(-(x) * (T)0x1.6a09e667f3bcdp-1)))
#define FT_GELU_TANH(x) ((x) / ((T)1 + exp((T)-2 * ((T)0x1.9884533d43651p-1 * ((x) + (T)0.044715 * ((x) * (x) * (x)))))))
FT_EACH_FLOAT(FT_UNARY_MATH_LOOP, gelu, FT_MATH_GELU, FT_GELU(x))
FT_EACH_FLOAT(FT_UNARY_MATH_LOOP, gelu_tanh, FT_MATH_GELU_TANH, FT_GELU_TANH(x))

/* ---- rounding: integers are already whole, so those loops copy ---- */
FT_EACH_INT(FT_UNARY_LOOP, identity, T, x)
FT_EACH_FLOAT(FT_UNARY_LOOP, floor, T, floor(x))
FT_EACH_FLOAT(FT_UNARY_LOOP, ceil, T, ceil(x))
FT_EACH_FLOAT(FT_UNARY_LOOP, round, T, nearbyint(x)) /* half to even */
FT_EACH_FLOAT(FT_UNARY_LOOP, trunc, T, trunc(x))
FT_EACH_FLOAT(FT_UNARY_LOOP, frac, T, x - trunc(x))

/* ---- logical and bitwise ---- */
FT_EACH_BOOL(FT_UNARY_LOOP, logical_not, uint8_t, x == 0)
FT_EACH_INT(FT_UNARY_LOOP, logical_not, uint8_t, x == 0)
FT_EACH_FLOAT(FT_UNARY_LOOP, logical_not, uint8_t, x == 0)
FT_EACH_BOOL(FT_UNARY_LOOP, bitwise_not, T, !x)
FT_EACH_INT(FT_UNARY_LOOP, bitwise_not, T, ~(U)x)

/* ---- predicates (bool results); integers and bool are always finite ---- */
FT_EACH_BOOL(FT_UNARY_LOOP, always_false, uint8_t, 0 * x)
FT_EACH_INT(FT_UNARY_LOOP, always_false, uint8_t, 0 * x)
FT_EACH_BOOL(FT_UNARY_LOOP, always_true, uint8_t, 1 + 0 * x)
FT_EACH_INT(FT_UNARY_LOOP, always_true, uint8_t, 1 + 0 * x)
FT_EACH_FLOAT(FT_UNARY_LOOP, isnan, uint8_t, x != x)
FT_EACH_FLOAT(FT_UNARY_LOOP, isinf, uint8_t, fabs(x) == (T)INFINITY)
FT_EACH_FLOAT(FT_UNARY_LOOP, isfinite, uint8_t, fabs(x) < (T)INFINITY)
FT_EACH_FLOAT(FT_UNARY_LOOP, isposinf, uint8_t, x == (T)INFINITY)
FT_EACH_FLOAT(FT_UNARY_LOOP, isneginf, uint8_t, x == -(T)INFINITY)
FT_EACH_INT(FT_UNARY_LOOP, signbit, uint8_t, x < 0)
FT_EACH_FLOAT(FT_UNARY_LOOP, signbit, uint8_t, signbit(x) != 0)

#define FT_ROWS_REAL(fn) FT_ROWS_INT(fn), FT_ROWS_FLOAT(fn)
#define FT_ROWS_ALL(fn) FT_ROWS_BOOL(fn), FT_ROWS_INT(fn), FT_ROWS_FLOAT(fn)

static const ft_unary_loop ft_unary_loops[FT_UNARY_COUNT][FT_DTYPE_COUNT] = {
    [FT_UNARY_NEG] = {FT_ROWS_REAL(ft_unary_neg)},
    [FT_UNARY_ABS] = {FT_ROWS_REAL(ft_unary_abs)},
    [FT_UNARY_SIGN] = {FT_ROWS_ALL(ft_unary_sign)},
    [FT_UNARY_SGN] = {FT_ROWS_ALL(ft_unary_sign)},
    [FT_UNARY_EXP] = {FT_ROWS_FLOAT(ft_unary_exp)},
    [FT_UNARY_EXP2] = {FT_ROWS_FLOAT(ft_unary_exp2)},
    [FT_UNARY_EXPM1] = {FT_ROWS_FLOAT(ft_unary_expm1)},
    [FT_UNARY_LOG] = {FT_ROWS_FLOAT(ft_unary_log)},
    [FT_UNARY_LOG2] = {FT_ROWS_FLOAT(ft_unary_log2)},
    [FT_UNARY_LOG10] = {FT_ROWS_FLOAT(ft_unary_log10)},
    [FT_UNARY_LOG1P] = {FT_ROWS_FLOAT(ft_unary_log1p)},
    [FT_UNARY_SQRT] = {FT_ROWS_FLOAT(ft_unary_sqrt)},
    [FT_UNARY_RSQRT] = {FT_ROWS_FLOAT(ft_unary_rsqrt)},
    [FT_UNARY_RECIPROCAL] = {FT_ROWS_FLOAT(ft_unary_reciprocal)},
    [FT_UNARY_SIN] = {FT_ROWS_FLOAT(ft_unary_sin)},
    [FT_UNARY_COS] = {FT_ROWS_FLOAT(ft_unary_cos)},
    [FT_UNARY_TAN] = {FT_ROWS_FLOAT(ft_unary_tan)},
    [FT_UNARY_ASIN] = {FT_ROWS_FLOAT(ft_unary_asin)},
    [FT_UNARY_ACOS] = {FT_ROWS_FLOAT(ft_unary_acos)},
    [FT_UNARY_ATAN] = {FT_ROWS_FLOAT(ft_unary_atan)},
    [FT_UNARY_SINH] = {FT_ROWS_FLOAT(ft_unary_sinh)},
    [FT_UNARY_COSH] = {FT_ROWS_FLOAT(ft_unary_cosh)},
    [FT_UNARY_TANH] = {FT_ROWS_FLOAT(ft_unary_tanh)},
    [FT_UNARY_ASINH] = {FT_ROWS_FLOAT(ft_unary_asinh)},
    [FT_UNARY_ACOSH] = {FT_ROWS_FLOAT(ft_unary_acosh)},
    [FT_UNARY_ATANH] = {FT_ROWS_FLOAT(ft_unary_atanh)},
    [FT_UNARY_SIGMOID] = {FT_ROWS_FLOAT(ft_unary_sigmoid)},
    [FT_UNARY_ERF] = {FT_ROWS_FLOAT(ft_unary_erf)},
    [FT_UNARY_ERFC] = {FT_ROWS_FLOAT(ft_unary_erfc)},
    [FT_UNARY_FLOOR] = {FT_ROWS_INT(ft_unary_identity), FT_ROWS_FLOAT(ft_unary_floor)},
    [FT_UNARY_CEIL] = {FT_ROWS_INT(ft_unary_identity), FT_ROWS_FLOAT(ft_unary_ceil)},
    [FT_UNARY_ROUND] = {FT_ROWS_INT(ft_unary_identity), FT_ROWS_FLOAT(ft_unary_round)},
    [FT_UNARY_TRUNC] = {FT_ROWS_INT(ft_unary_identity), FT_ROWS_FLOAT(ft_unary_trunc)},
    [FT_UNARY_FRAC] = {FT_ROWS_FLOAT(ft_unary_frac)},
    [FT_UNARY_RELU] = {FT_ROWS_REAL(ft_unary_relu)},
    [FT_UNARY_SQUARE] = {FT_ROWS_REAL(ft_unary_square)},
    [FT_UNARY_LOGICAL_NOT] = {FT_ROWS_ALL(ft_unary_logical_not)},
    [FT_UNARY_BITWISE_NOT] = {FT_ROWS_BOOL(ft_unary_bitwise_not), FT_ROWS_INT(ft_unary_bitwise_not)},
    [FT_UNARY_ISNAN] = {FT_ROWS_BOOL(ft_unary_always_false), FT_ROWS_INT(ft_unary_always_false), FT_ROWS_FLOAT(ft_unary_isnan)},
    [FT_UNARY_ISINF] = {FT_ROWS_BOOL(ft_unary_always_false), FT_ROWS_INT(ft_unary_always_false), FT_ROWS_FLOAT(ft_unary_isinf)},
    [FT_UNARY_ISFINITE] = {FT_ROWS_BOOL(ft_unary_always_true), FT_ROWS_INT(ft_unary_always_true), FT_ROWS_FLOAT(ft_unary_isfinite)},
    [FT_UNARY_ISPOSINF] = {FT_ROWS_BOOL(ft_unary_always_false), FT_ROWS_INT(ft_unary_always_false), FT_ROWS_FLOAT(ft_unary_isposinf)},
    [FT_UNARY_ISNEGINF] = {FT_ROWS_BOOL(ft_unary_always_false), FT_ROWS_INT(ft_unary_always_false), FT_ROWS_FLOAT(ft_unary_isneginf)},
    [FT_UNARY_SIGNBIT] = {FT_ROWS_BOOL(ft_unary_always_false), FT_ROWS_INT(ft_unary_signbit), FT_ROWS_FLOAT(ft_unary_signbit)},
    [FT_UNARY_GELU] = {FT_ROWS_FLOAT(ft_unary_gelu)},
    [FT_UNARY_GELU_TANH] = {FT_ROWS_FLOAT(ft_unary_gelu_tanh)},
    [FT_UNARY_LGAMMA] = {FT_ROWS_FLOAT(ft_unary_lgamma)},
    [FT_UNARY_DIGAMMA] = {FT_ROWS_FLOAT(ft_unary_digamma)},
    [FT_UNARY_ERFINV] = {FT_ROWS_FLOAT(ft_unary_erfinv)},
    [FT_UNARY_I0] = {FT_ROWS_FLOAT(ft_unary_i0)},
    [FT_UNARY_SINC] = {FT_ROWS_FLOAT(ft_unary_sinc)},
    [FT_UNARY_ANGLE] = {FT_ROWS_FLOAT(ft_unary_angle)},
    [FT_UNARY_TRIGAMMA] = {FT_ROWS_FLOAT(ft_unary_trigamma)},
    [FT_UNARY_I1] = {FT_ROWS_FLOAT(ft_unary_i1)},
};

/* torch's kernel names, used in "not implemented for" errors. */
static const char *const ft_unary_names[] = {
    "neg_cpu", "abs_cpu", "sign_cpu", "sgn_cpu",
    "exp_vml_cpu", "exp2_vml_cpu", "expm1_vml_cpu",
    "log_vml_cpu", "log2_vml_cpu", "log10_vml_cpu", "log1p_vml_cpu",
    "sqrt_vml_cpu", "rsqrt_cpu", "reciprocal_cpu",
    "sin_vml_cpu", "cos_vml_cpu", "tan_vml_cpu", "asin_vml_cpu", "acos_vml_cpu", "atan_vml_cpu",
    "sinh_vml_cpu", "cosh_vml_cpu", "tanh_vml_cpu", "asinh_cpu", "acosh_cpu", "atanh_cpu",
    "sigmoid_cpu", "erf_vml_cpu", "erfc_vml_cpu",
    "floor_vml_cpu", "ceil_vml_cpu", "round_vml_cpu", "trunc_vml_cpu", "frac_cpu",
    "clamp_min_scalar_cpu", "square_cpu",
    "logical_not_cpu", "bitwise_not_cpu",
    "isnan_cpu", "isinf_cpu", "isfinite_cpu", "isposinf_cpu", "isneginf_cpu", "signbit_cpu",
    "GeluKernelImpl", "GeluKernelImpl",
    "lgamma_vml_cpu", "digamma", "erfinv_vml_cpu", "i0_vml_cpu", "sinc_cpu", "angle_cpu", "polygamma", "i1_cpu",
};
_Static_assert(sizeof ft_unary_names / sizeof ft_unary_names[0] == FT_UNARY_COUNT, "unary name table out of date");

static bool ft_unary_writes_bool(int op) {
    switch (op) {
    case FT_UNARY_LOGICAL_NOT: case FT_UNARY_ISNAN: case FT_UNARY_ISINF: case FT_UNARY_ISFINITE:
    case FT_UNARY_ISPOSINF: case FT_UNARY_ISNEGINF: case FT_UNARY_SIGNBIT:
        return true;
    default:
        return false;
    }
}

static int ft_unary_select(int op, int out_dtype, int in_dtype, ft_unary_loop *loop) {
    if (op < 0 || op >= FT_UNARY_COUNT) return ft_set_error(FT_ERR_RUNTIME, "unary: invalid op code %d", op);
    *loop = ft_is_valid_dtype(in_dtype) ? ft_unary_loops[op][in_dtype] : NULL;
    return ft_check_loop(*loop != NULL, ft_unary_names[op], in_dtype, out_dtype,
                         ft_unary_writes_bool(op) ? FT_BOOL : in_dtype);
}

/* Ops whose loops cost far more than their memory traffic split across threads sooner. */
static int64_t ft_unary_grain(int op) {
    switch (op) {
    case FT_UNARY_EXP: case FT_UNARY_EXP2: case FT_UNARY_EXPM1: case FT_UNARY_LOG: case FT_UNARY_LOG2:
    case FT_UNARY_LOG10: case FT_UNARY_LOG1P: case FT_UNARY_SIN: case FT_UNARY_COS: case FT_UNARY_TAN:
    case FT_UNARY_ASIN: case FT_UNARY_ACOS: case FT_UNARY_ATAN: case FT_UNARY_SINH: case FT_UNARY_COSH:
    case FT_UNARY_TANH: case FT_UNARY_ASINH: case FT_UNARY_ACOSH: case FT_UNARY_ATANH: case FT_UNARY_SIGMOID:
    case FT_UNARY_ERF: case FT_UNARY_ERFC: case FT_UNARY_GELU: case FT_UNARY_GELU_TANH:
    case FT_UNARY_LGAMMA: case FT_UNARY_DIGAMMA: case FT_UNARY_ERFINV: case FT_UNARY_I0: case FT_UNARY_SINC: case FT_UNARY_TRIGAMMA: case FT_UNARY_I1:
        return FT_GRAIN_COSTLY;
    default:
        return FT_GRAIN_CHEAP;
    }
}

static int ft_unary_row(void *ctx, int64_t n, char *const *ptrs, const int64_t *steps) {
    return (*(const ft_unary_loop *)ctx)(n, ptrs[0], steps[0], ptrs[1], steps[1]);
}

int ft_unary(int op, int out_dtype, int in_dtype, int ndim, const int64_t *sizes,
             intptr_t out, const int64_t *out_strides, intptr_t a, const int64_t *a_strides) {
    ft_unary_loop loop = NULL;
    int rc = ft_unary_select(op, out_dtype, in_dtype, &loop);
    if (rc) return rc;
    ft_iter it;
    char *data[2] = {(char *)out, (char *)a};
    const int64_t *strides[2] = {out_strides, a_strides};
    const size_t items[2] = {ft_itemsize(out_dtype), ft_itemsize(in_dtype)};
    rc = ft_iter_init(&it, 2, ndim, sizes, data, strides, items);
    if (rc) return rc;
    ft_elementwise_run(&it, ft_unary_grain(op), ft_unary_row, &loop);
    return FT_OK;
}

typedef struct {
    ft_unary_loop loop;
    char *out;
    const char *in;
    int64_t out_step, in_step;
} ft_unary_contig_job;

static void ft_unary_contig_range(void *ctx, int64_t begin, int64_t end) {
    const ft_unary_contig_job *job = ctx;
    job->loop(end - begin, job->out + begin * job->out_step, job->out_step, job->in + begin * job->in_step,
              job->in_step);
}

int ft_unary_contig(int op, int out_dtype, int in_dtype, int64_t n, intptr_t out, intptr_t a) {
    ft_unary_loop loop = NULL;
    int rc = ft_unary_select(op, out_dtype, in_dtype, &loop);
    if (rc) return rc;
    ft_unary_contig_job job = {loop, (char *)out, (const char *)a, (int64_t)ft_itemsize(out_dtype),
                               (int64_t)ft_itemsize(in_dtype)};
    const int64_t grain = ft_unary_grain(op);
    if (n <= grain) return loop(n, job.out, job.out_step, job.in, job.in_step);
    return ft_parallel_for(n, grain, ft_unary_contig_range, &job);
}
