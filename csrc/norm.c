/* Mean and biased variance per group (see api/norm.h): two passes in double (the mean, then the
 * centred squares), so the variance never goes negative; groups split across the thread pool. */
#include "ft_internal.h"
#include "api/norm.h"

typedef struct {
    int dtype;
    int64_t group_stride, outer, outer_stride, inner;
    const char *in;
    char *mean, *var;
} ft_moments_ctx;

#define FT_MOMENTS(T)                                                                                   \
    for (int64_t g = begin; g < end; g++) {                                                             \
        const T *base = (const T *)c->in + g * c->group_stride;                                         \
        double sum = 0;                                                                                 \
        for (int64_t a = 0; a < c->outer; a++) {                                                        \
            const T *row = base + a * c->outer_stride;                                                  \
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                                      \
            int64_t i = 0;                                                                              \
            for (; i + 4 <= c->inner; i += 4) {                                                         \
                s0 += row[i]; s1 += row[i + 1]; s2 += row[i + 2]; s3 += row[i + 3];                     \
            }                                                                                           \
            for (; i < c->inner; i++) s0 += row[i];                                                     \
            sum += (s0 + s1) + (s2 + s3);                                                               \
        }                                                                                               \
        const double n = (double)(c->outer * c->inner);                                                 \
        const double m = n > 0 ? sum / n : NAN;                                                         \
        double sq = 0;                                                                                  \
        for (int64_t a = 0; a < c->outer; a++) {                                                        \
            const T *row = base + a * c->outer_stride;                                                  \
            double s0 = 0, s1 = 0;                                                                      \
            int64_t i = 0;                                                                              \
            for (; i + 2 <= c->inner; i += 2) {                                                         \
                const double d0 = row[i] - m, d1 = row[i + 1] - m;                                      \
                s0 += d0 * d0; s1 += d1 * d1;                                                           \
            }                                                                                           \
            for (; i < c->inner; i++) { const double d = row[i] - m; s0 += d * d; }                    \
            sq += s0 + s1;                                                                              \
        }                                                                                               \
        ((T *)c->mean)[g] = (T)m;                                                                       \
        ((T *)c->var)[g] = (T)(n > 0 ? sq / n : NAN);                                                   \
    }

static void ft_moments_range(void *ctx, int64_t begin, int64_t end) {
    const ft_moments_ctx *c = ctx;
    if (c->dtype == FT_FLOAT32) { FT_MOMENTS(float) }
    else { FT_MOMENTS(double) }
}

int ft_moments(int dtype, int64_t groups, int64_t group_stride, int64_t outer, int64_t outer_stride, int64_t inner,
               intptr_t in, intptr_t mean, intptr_t var) {
    if (!ft_is_floating(dtype))
        return ft_set_error(FT_ERR_UNSUPPORTED, "moments: unsupported dtype %s", ft_dtype_name(dtype));
    if (groups < 0 || outer < 0 || inner < 0) return ft_set_error(FT_ERR_RUNTIME, "moments: invalid sizes");
    ft_moments_ctx c = {dtype, group_stride, outer, outer_stride, inner, (const char *)in, (char *)mean, (char *)var};
    if (groups == 0) return FT_OK;
    const int64_t work = outer * inner + 1;
    return ft_parallel_for(groups, work >= 16384 ? 1 : 16384 / work, ft_moments_range, &c);
}
