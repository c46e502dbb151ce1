/* Pointwise activations with parameters, over a dense run of float32/float64 elements.
 *
 * The formulas are torch's scalar kernels (aten/src/ATen/native/cpu/Activation.cpp and
 * UnaryOpsKernel.cpp), evaluated in the element type (float32 math in float, as torch's
 * vectorised float path does) so results agree within a few ulps. Runs of more than
 * FT_ACT_GRAIN elements are split across the thread pool. */
#include "ft_internal.h"
#include "api/activation.h"

#include <math.h>

#define FT_ACT_GRAIN 32768

#define FT_DEFINE_ACT(T, SUFFIX, EXP, EXPM1, LOG1P, TANH)                                              \
    static void ft_act_##SUFFIX(int op, int64_t n, T *out, const T *x, T p0, T p1, T p2) {            \
        switch (op) {                                                                                  \
        case FT_ACT_LEAKY_RELU:                                                                        \
            for (int64_t i = 0; i < n; i++) { T v = x[i]; out[i] = v > 0 ? v : v * p0; }               \
            break;                                                                                     \
        case FT_ACT_ELU:                                                                               \
            for (int64_t i = 0; i < n; i++) {                                                          \
                T v = x[i];                                                                            \
                out[i] = v <= 0 ? EXPM1(v * p2) * p0 * p1 : v * p1;                                    \
            }                                                                                          \
            break;                                                                                     \
        case FT_ACT_SILU:                                                                              \
            for (int64_t i = 0; i < n; i++) { T v = x[i]; out[i] = v / ((T)1 + EXP(-v)); }             \
            break;                                                                                     \
        case FT_ACT_MISH:                                                                              \
            for (int64_t i = 0; i < n; i++) { T v = x[i]; out[i] = v * TANH(LOG1P(EXP(v))); }          \
            break;                                                                                     \
        case FT_ACT_HARDTANH:                                                                          \
            for (int64_t i = 0; i < n; i++) {                                                          \
                T v = x[i];                                                                            \
                out[i] = v != v ? v : (v < p0 ? p0 : (v > p1 ? p1 : v));                               \
            }                                                                                          \
            break;                                                                                     \
        case FT_ACT_HARDSWISH:                                                                         \
            for (int64_t i = 0; i < n; i++) {                                                          \
                T v = x[i];                                                                            \
                T r = v + (T)3;                                                                        \
                r = r > (T)0 ? r : (T)0;                                                               \
                r = r < (T)6 ? r : (T)6;                                                               \
                out[i] = v != v ? v : v * r / (T)6;                                                    \
            }                                                                                          \
            break;                                                                                     \
        case FT_ACT_HARDSIGMOID:                                                                       \
            for (int64_t i = 0; i < n; i++) {                                                          \
                T v = x[i];                                                                            \
                T r = v + (T)3;                                                                        \
                r = r > (T)0 ? r : (T)0;                                                               \
                r = r < (T)6 ? r : (T)6;                                                               \
                out[i] = v != v ? v : r / (T)6;                                                        \
            }                                                                                          \
            break;                                                                                     \
        case FT_ACT_SOFTPLUS:                                                                          \
            for (int64_t i = 0; i < n; i++) {                                                          \
                T v = x[i];                                                                            \
                out[i] = (v * p0) > p1 ? v : LOG1P(EXP(v * p0)) / p0;                                  \
            }                                                                                          \
            break;                                                                                     \
        case FT_ACT_SOFTSHRINK:                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                          \
                T v = x[i];                                                                            \
                out[i] = v > p0 ? v - p0 : (v < -p0 ? v + p0 : v * (T)0);                              \
            }                                                                                          \
            break;                                                                                     \
        case FT_ACT_HARDSHRINK:                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                          \
                T v = x[i];                                                                            \
                out[i] = (v >= -p0 && v <= p0) ? (T)0 : v;                                             \
            }                                                                                          \
            break;                                                                                     \
        case FT_ACT_LOGSIGMOID:                                                                        \
            for (int64_t i = 0; i < n; i++) {                                                          \
                T v = x[i];                                                                            \
                T m = v < (T)0 ? v : (T)0;                                                             \
                T a = v < (T)0 ? -v : v;                                                               \
                out[i] = v != v ? v : m - LOG1P(EXP(-a));                                              \
            }                                                                                          \
            break;                                                                                     \
        case FT_ACT_THRESHOLD:                                                                         \
            for (int64_t i = 0; i < n; i++) { T v = x[i]; out[i] = v <= p0 ? p1 : v; }                 \
            break;                                                                                     \
        default:                                                                                       \
            break;                                                                                     \
        }                                                                                              \
    }

FT_DEFINE_ACT(float, f32, expf, expm1f, log1pf, tanhf)
FT_DEFINE_ACT(double, f64, exp, expm1, log1p, tanh)

typedef struct {
    int op, dtype;
    char *out;
    const char *x;
    double p0, p1, p2;
} ft_act_job;

static void ft_act_range(const ft_act_job *job, int64_t begin, int64_t end) {
    if (job->dtype == FT_FLOAT32) {
        ft_act_f32(job->op, end - begin, (float *)job->out + begin, (const float *)job->x + begin,
                   (float)job->p0, (float)job->p1, (float)job->p2);
    } else {
        ft_act_f64(job->op, end - begin, (double *)job->out + begin, (const double *)job->x + begin,
                   job->p0, job->p1, job->p2);
    }
}

static void ft_act_task(void *arg, int64_t begin, int64_t end) { ft_act_range((const ft_act_job *)arg, begin, end); }

int ft_activation_contig(int op, int dtype, int64_t n, intptr_t out, intptr_t x, double p0, double p1, double p2) {
    if (op < 0 || op >= FT_ACT_COUNT) return ft_set_error(FT_ERR_VALUE, "unknown activation op %d", op);
    if (dtype != FT_FLOAT32 && dtype != FT_FLOAT64)
        return ft_set_error(FT_ERR_UNSUPPORTED, "activation kernel not implemented for '%s'", ft_dtype_name(dtype));
    if (n < 0) return ft_set_error(FT_ERR_VALUE, "negative element count %lld", (long long)n);
    if (n == 0) return FT_OK;
    if (!out || !x) return ft_set_error(FT_ERR_VALUE, "null data pointer");
    ft_act_job job = {op, dtype, (char *)out, (const char *)x, p0, p1, p2};
    if (n > FT_ACT_GRAIN) {
        return ft_parallel_for(n, FT_ACT_GRAIN, ft_act_task, &job);
    } else {
        ft_act_range(&job, 0, n);
    }
    return FT_OK;
}
