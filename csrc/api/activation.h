/* Pointwise activations with parameters (csrc/activation.c): torch.nn.functional's
 * leaky_relu, elu/selu/celu, silu, mish, hardtanh, hardswish, hardsigmoid, softplus,
 * softshrink, hardshrink, logsigmoid, threshold. */
#include "../ft.h"

typedef enum {
    FT_ACT_LEAKY_RELU = 0, /* p0 = negative_slope */
    FT_ACT_ELU,            /* p0 = alpha, p1 = scale, p2 = input_scale */
    FT_ACT_SILU,
    FT_ACT_MISH,
    FT_ACT_HARDTANH,       /* p0 = min_val, p1 = max_val */
    FT_ACT_HARDSWISH,
    FT_ACT_HARDSIGMOID,
    FT_ACT_SOFTPLUS,       /* p0 = beta, p1 = threshold */
    FT_ACT_SOFTSHRINK,     /* p0 = lambd */
    FT_ACT_HARDSHRINK,     /* p0 = lambd */
    FT_ACT_LOGSIGMOID,
    FT_ACT_THRESHOLD,      /* p0 = threshold, p1 = value */
    FT_ACT_COUNT
} ft_activation_op;

/* out[i] = op(x[i]) for i < n, float32 or float64 (out may be x). Both are dense runs of n elements. */
int ft_activation_contig(int op, int dtype, int64_t n, intptr_t out, intptr_t x, double p0, double p1, double p2);
