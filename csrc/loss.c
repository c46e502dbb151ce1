/* Index-driven kernels of torch.nn.functional: nll_loss (forward and backward) and
 * embedding (lookup, backward scatter-add, max_norm renormalisation).
 *
 * Every index is checked before anything is written, with torch's messages. */
#include "ft_internal.h"
#include "api/loss.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int ft_check_float(int dtype, const char *what) {
    if (dtype != FT_FLOAT32 && dtype != FT_FLOAT64)
        return ft_set_error(FT_ERR_UNSUPPORTED, "\"%s\" not implemented for '%s'", what, ft_dtype_name(dtype));
    return FT_OK;
}

static int ft_check_targets(const int64_t *t, int64_t count, int64_t c, int64_t ignore_index) {
    for (int64_t k = 0; k < count; k++) {
        if (t[k] != ignore_index && (t[k] < 0 || t[k] >= c))
            return ft_set_error(FT_ERR_INDEX, "Target %lld is out of bounds.", (long long)t[k]);
    }
    return FT_OK;
}

#define FT_NLL_FORWARD(T)                                                                            \
    do {                                                                                             \
        const T *x = (const T *)input, *w = (const T *)weight;                                       \
        T *l = (T *)loss, *wo = (T *)weight_out;                                                     \
        for (int64_t i = 0; i < n; i++) {                                                            \
            for (int64_t j = 0; j < d; j++) {                                                        \
                int64_t t = tg[i * d + j];                                                           \
                if (t == ignore_index) {                                                             \
                    l[i * d + j] = 0;                                                                \
                    wo[i * d + j] = 0;                                                               \
                    continue;                                                                        \
                }                                                                                    \
                T wt = w ? w[t] : (T)1;                                                              \
                l[i * d + j] = -x[(i * c + t) * d + j] * wt;                                         \
                wo[i * d + j] = wt;                                                                  \
            }                                                                                        \
        }                                                                                            \
    } while (0)

int ft_nll_loss(int dtype, int64_t n, int64_t c, int64_t d, intptr_t input, intptr_t target, intptr_t weight,
                int64_t ignore_index, intptr_t loss, intptr_t weight_out) {
    int st = ft_check_float(dtype, "nll_loss_out_frame");
    if (st) return st;
    if (n < 0 || c < 0 || d < 0) return ft_set_error(FT_ERR_VALUE, "negative size");
    const int64_t *tg = (const int64_t *)target;
    if ((st = ft_check_targets(tg, n * d, c, ignore_index))) return st;
    if (dtype == FT_FLOAT32) FT_NLL_FORWARD(float);
    else FT_NLL_FORWARD(double);
    return FT_OK;
}

#define FT_NLL_BACKWARD(T)                                                                           \
    do {                                                                                             \
        const T *w = (const T *)weight, *g = (const T *)grad;                                        \
        T *gi = (T *)grad_input;                                                                     \
        for (int64_t i = 0; i < n; i++) {                                                            \
            for (int64_t j = 0; j < d; j++) {                                                        \
                int64_t t = tg[i * d + j];                                                           \
                if (t == ignore_index) continue;                                                     \
                T wt = w ? w[t] : (T)1;                                                              \
                gi[(i * c + t) * d + j] = -wt * g[i * d + j];                                        \
            }                                                                                        \
        }                                                                                            \
    } while (0)

int ft_nll_loss_backward(int dtype, int64_t n, int64_t c, int64_t d, intptr_t target, intptr_t weight,
                         int64_t ignore_index, intptr_t grad, intptr_t grad_input) {
    int st = ft_check_float(dtype, "nll_loss_backward_out_frame");
    if (st) return st;
    if (n < 0 || c < 0 || d < 0) return ft_set_error(FT_ERR_VALUE, "negative size");
    const int64_t *tg = (const int64_t *)target;
    if ((st = ft_check_targets(tg, n * d, c, ignore_index))) return st;
    if (dtype == FT_FLOAT32) FT_NLL_BACKWARD(float);
    else FT_NLL_BACKWARD(double);
    return FT_OK;
}

static int ft_check_index(const int64_t *index, int64_t count, int64_t num) {
    for (int64_t k = 0; k < count; k++) {
        if (index[k] < 0 || index[k] >= num)
            return ft_set_error(FT_ERR_INDEX, "index out of range in self");
    }
    return FT_OK;
}

int ft_embedding(int dtype, int64_t num, int64_t dim, intptr_t weight, intptr_t index, int64_t count, intptr_t out) {
    if (dtype < 0 || dtype >= FT_DTYPE_COUNT) return ft_set_error(FT_ERR_VALUE, "bad dtype %d", dtype);
    if (num < 0 || dim < 0 || count < 0) return ft_set_error(FT_ERR_VALUE, "negative size");
    const int64_t *idx = (const int64_t *)index;
    int st = ft_check_index(idx, count, num);
    if (st) return st;
    size_t row = (size_t)dim * ft_dtype_size(dtype);
    if (row == 0) return FT_OK;
    for (int64_t k = 0; k < count; k++)
        memcpy((char *)out + (size_t)k * row, (const char *)weight + (size_t)idx[k] * row, row);
    return FT_OK;
}

#define FT_EMB_BACKWARD(T)                                                                           \
    do {                                                                                             \
        const T *g = (const T *)grad;                                                                \
        T *gw = (T *)grad_weight;                                                                    \
        for (int64_t k = 0; k < count; k++) {                                                        \
            if (idx[k] == padding_idx) continue;                                                     \
            T *dst = gw + idx[k] * dim;                                                              \
            const T *src = g + k * dim;                                                              \
            for (int64_t j = 0; j < dim; j++) dst[j] += src[j];                                      \
        }                                                                                            \
    } while (0)

int ft_embedding_backward(int dtype, int64_t num, int64_t dim, intptr_t index, int64_t count, intptr_t grad,
                          int64_t padding_idx, intptr_t grad_weight) {
    int st = ft_check_float(dtype, "embedding_backward");
    if (st) return st;
    if (num < 0 || dim < 0 || count < 0) return ft_set_error(FT_ERR_VALUE, "negative size");
    const int64_t *idx = (const int64_t *)index;
    if ((st = ft_check_index(idx, count, num))) return st;
    if (dtype == FT_FLOAT32) FT_EMB_BACKWARD(float);
    else FT_EMB_BACKWARD(double);
    return FT_OK;
}

#define FT_EMB_RENORM(T)                                                                             \
    do {                                                                                             \
        T *w = (T *)weight;                                                                          \
        for (int64_t k = 0; k < count; k++) {                                                        \
            int64_t r = idx[k];                                                                      \
            if (done[r]) continue;                                                                   \
            done[r] = 1;                                                                             \
            T *row = w + r * dim;                                                                    \
            double norm = 0;                                                                         \
            if (norm_type == 1) {                                                                    \
                for (int64_t j = 0; j < dim; j++) norm += fabs((double)row[j]);                      \
            } else if (norm_type == 2) {                                                             \
                for (int64_t j = 0; j < dim; j++) norm += (double)row[j] * (double)row[j];           \
                norm = sqrt(norm);                                                                   \
            } else if (isinf(norm_type)) {                                                           \
                for (int64_t j = 0; j < dim; j++) norm = fmax(norm, fabs((double)row[j]));           \
            } else {                                                                                 \
                for (int64_t j = 0; j < dim; j++) norm += pow(fabs((double)row[j]), norm_type);      \
                norm = pow(norm, 1.0 / norm_type);                                                   \
            }                                                                                        \
            if (norm > max_norm) {                                                                   \
                T scale = (T)(max_norm / (norm + 1e-7));                                             \
                for (int64_t j = 0; j < dim; j++) row[j] *= scale;                                   \
            }                                                                                        \
        }                                                                                            \
    } while (0)

int ft_embedding_renorm(int dtype, int64_t num, int64_t dim, intptr_t weight, intptr_t index, int64_t count,
                        double max_norm, double norm_type) {
    int st = ft_check_float(dtype, "embedding_renorm_cpu_");
    if (st) return st;
    if (num < 0 || dim < 0 || count < 0) return ft_set_error(FT_ERR_VALUE, "negative size");
    const int64_t *idx = (const int64_t *)index;
    if ((st = ft_check_index(idx, count, num))) return st;
    unsigned char *done = calloc((size_t)num + 1, 1);
    if (!done) return ft_set_error(FT_ERR_NOMEM, "out of memory");
    if (dtype == FT_FLOAT32) FT_EMB_RENORM(float);
    else FT_EMB_RENORM(double);
    free(done);
    return FT_OK;
}

/* ---- pdist: distances accumulated in double, per pair in row-major (i < j) order ---- */
static double ft_pdist_pair(double p, const double *a, const double *b, int64_t m, double *work) {
    (void)work;
    double acc = 0;
    if (p == 0) {
        for (int64_t k = 0; k < m; k++) acc += (a[k] != b[k]);
        return acc;
    }
    if (isinf(p)) {
        for (int64_t k = 0; k < m; k++) acc = fmax(acc, fabs(a[k] - b[k]));
        return acc;
    }
    if (p == 1) {
        for (int64_t k = 0; k < m; k++) acc += fabs(a[k] - b[k]);
        return acc;
    }
    if (p == 2) {
        for (int64_t k = 0; k < m; k++) { double d = a[k] - b[k]; acc += d * d; }
        return sqrt(acc);
    }
    for (int64_t k = 0; k < m; k++) acc += pow(fabs(a[k] - b[k]), p);
    return pow(acc, 1.0 / p);
}

/* x as doubles (float32 widened once) */
static double *ft_pdist_widen(int dtype, const void *x, int64_t count) {
    double *w = malloc((size_t)(count > 0 ? count : 1) * sizeof(double));
    if (!w) return NULL;
    for (int64_t k = 0; k < count; k++)
        w[k] = dtype == FT_FLOAT32 ? (double)((const float *)x)[k] : ((const double *)x)[k];
    return w;
}

int ft_pdist(int dtype, int64_t n, int64_t m, intptr_t x, double p, intptr_t out) {
    int st = ft_check_float(dtype, "pdist");
    if (st) return st;
    if (n < 0 || m < 0) return ft_set_error(FT_ERR_VALUE, "negative size");
    if (!(p >= 0)) return ft_set_error(FT_ERR_RUNTIME, "pdist only supports non-negative p values");
    double *w = ft_pdist_widen(dtype, (const void *)x, n * m);
    if (!w) return ft_set_error(FT_ERR_NOMEM, "out of memory");
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = i + 1; j < n; j++, k++) {
            double d = ft_pdist_pair(p, w + i * m, w + j * m, m, NULL);
            if (dtype == FT_FLOAT32) ((float *)out)[k] = (float)d;
            else ((double *)out)[k] = d;
        }
    }
    free(w);
    return FT_OK;
}

static double ft_sign(double v) { return (v > 0) - (v < 0); }

int ft_pdist_backward(int dtype, int64_t n, int64_t m, intptr_t x, double p, intptr_t dist, intptr_t grad,
                      intptr_t grad_x) {
    int st = ft_check_float(dtype, "pdist_backward");
    if (st) return st;
    if (n < 0 || m < 0) return ft_set_error(FT_ERR_VALUE, "negative size");
    int64_t pairs = n > 1 ? n * (n - 1) / 2 : 0;
    double *w = ft_pdist_widen(dtype, (const void *)x, n * m);
    double *dd = ft_pdist_widen(dtype, (const void *)dist, pairs);
    double *gg = ft_pdist_widen(dtype, (const void *)grad, pairs);
    double *acc = calloc((size_t)(n * m > 0 ? n * m : 1), sizeof(double));
    if (!w || !dd || !gg || !acc) {
        free(w); free(dd); free(gg); free(acc);
        return ft_set_error(FT_ERR_NOMEM, "out of memory");
    }
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = i + 1; j < n; j++, k++) {
            const double *a = w + i * m, *b = w + j * m;
            double d = dd[k], g = gg[k];
            for (int64_t c = 0; c < m; c++) {
                double diff = a[c] - b[c], v;
                if (p == 0) v = 0;
                else if (p == 1) v = ft_sign(diff) * g;
                else if (isinf(p)) v = (fabs(diff) == d) ? ft_sign(diff) * g : 0;
                else if (d == 0) v = 0;
                else if (p == 2) v = g * diff / d;
                else if (p < 2) v = (diff == 0 && p < 1) ? 0 : ft_sign(diff) * pow(fabs(diff), p - 1) * g / pow(d, p - 1);
                else v = diff * pow(fabs(diff), p - 2) * g / pow(d, p - 1);
                acc[i * m + c] += v;
                acc[j * m + c] -= v;
            }
        }
    }
    for (int64_t q = 0; q < n * m; q++) {
        if (dtype == FT_FLOAT32) ((float *)grad_x)[q] = (float)acc[q];
        else ((double *)grad_x)[q] = acc[q];
    }
    free(w); free(dd); free(gg); free(acc);
    return FT_OK;
}
