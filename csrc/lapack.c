/* LAPACK from the OpenBLAS of the scipy-openblas32 wheel, loaded at run time (dlopen), the way
 * matmul.c loads its BLAS: the Python side passes the library path once. The wheel is LP64
 * (32-bit integers) and prefixes its symbols with scipy_; plain names are tried too.
 * Character arguments get gfortran's hidden length arguments (1) at the end. */
#include "ft_internal.h"
#include "api/lapack.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

typedef void (*ft_getrf_fn)(const int *, const int *, void *, const int *, int *, int *);
typedef void (*ft_getri_fn)(const int *, void *, const int *, const int *, void *, const int *, int *);
typedef void (*ft_getrs_fn)(const char *, const int *, const int *, const void *, const int *, const int *, void *,
                            const int *, int *, size_t);
typedef void (*ft_potrf_fn)(const char *, const int *, void *, const int *, int *, size_t);
typedef void (*ft_geqrf_fn)(const int *, const int *, void *, const int *, void *, void *, const int *, int *);
typedef void (*ft_orgqr_fn)(const int *, const int *, const int *, void *, const int *, const void *, void *,
                            const int *, int *);
typedef void (*ft_syevd_fn)(const char *, const char *, const int *, void *, const int *, void *, void *, const int *,
                            int *, const int *, int *, size_t, size_t);
typedef void (*ft_gesdd_fn)(const char *, const int *, const int *, void *, const int *, void *, void *, const int *,
                            void *, const int *, void *, const int *, int *, int *, size_t);

typedef void (*ft_gelsy_fn)(const int *, const int *, const int *, void *, const int *, void *, const int *, int *,
                            const void *, int *, void *, const int *, int *);

typedef struct {
    void *getrf, *getri, *getrs, *potrf, *geqrf, *orgqr, *syevd, *gesdd, *gelsy;
} ft_lapack_set;

static ft_lapack_set ft_lapack[2]; /* [0] float32 (s), [1] float64 (d) */
static void *ft_lapack_handle;
static int ft_lapack_ok;

static void *ft_lapack_symbol(void *handle, char kind, const char *name) {
    static const char *const prefixes[] = {"scipy_", ""};
    char full[64];
    for (int i = 0; i < 2; i++) {
        snprintf(full, sizeof full, "%s%c%s_", prefixes[i], kind, name);
        void *p = dlsym(handle, full);
        if (p) return p;
    }
    return NULL;
}

int ft_lapack_load(const char *path) {
    if (ft_lapack_ok) return FT_OK;
    if (!path || !*path) return ft_set_error(FT_ERR_RUNTIME, "no LAPACK library path given");
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) return ft_set_error(FT_ERR_RUNTIME, "cannot load LAPACK from %s: %s", path, dlerror());
    ft_lapack_set sets[2];
    for (int k = 0; k < 2; k++) {
        const char kind = k ? 'd' : 's';
        ft_lapack_set *s = &sets[k];
        s->getrf = ft_lapack_symbol(handle, kind, "getrf");
        s->getri = ft_lapack_symbol(handle, kind, "getri");
        s->getrs = ft_lapack_symbol(handle, kind, "getrs");
        s->potrf = ft_lapack_symbol(handle, kind, "potrf");
        s->geqrf = ft_lapack_symbol(handle, kind, "geqrf");
        s->orgqr = ft_lapack_symbol(handle, kind, "orgqr");
        s->syevd = ft_lapack_symbol(handle, kind, "syevd");
        s->gesdd = ft_lapack_symbol(handle, kind, "gesdd");
        s->gelsy = ft_lapack_symbol(handle, kind, "gelsy");
        if (!(s->getrf && s->getri && s->getrs && s->potrf && s->geqrf && s->orgqr && s->syevd && s->gesdd &&
              s->gelsy)) {
            dlclose(handle);
            return ft_set_error(FT_ERR_RUNTIME, "the library at %s lacks LAPACK routines", path);
        }
    }
    /* one BLAS thread unless the environment says otherwise (the caller sets it before loading) */
    ft_lapack[0] = sets[0];
    ft_lapack[1] = sets[1];
    ft_lapack_handle = handle;
    ft_lapack_ok = 1;
    return FT_OK;
}

int ft_lapack_loaded(void) { return ft_lapack_ok; }

static int ft_lapack_check(int dtype, int64_t batch, const int64_t *dims, int ndims) {
    if (!ft_lapack_ok) return ft_set_error(FT_ERR_RUNTIME, "LAPACK is not loaded");
    if (dtype != FT_FLOAT32 && dtype != FT_FLOAT64)
        return ft_set_error(FT_ERR_UNSUPPORTED, "LAPACK routines need float32 or float64, got %s", ft_dtype_name(dtype));
    if (batch < 0) return ft_set_error(FT_ERR_VALUE, "negative batch");
    for (int i = 0; i < ndims; i++)
        if (dims[i] < 0 || dims[i] > INT_MAX / 2)
            return ft_set_error(FT_ERR_VALUE, "matrix dimension %lld is out of LAPACK's 32-bit range", (long long)dims[i]);
    return FT_OK;
}

static inline size_t ft_esize(int dtype) { return dtype == FT_FLOAT64 ? 8 : 4; }

static int ft_work_size(int dtype, const void *w) {
    const double v = dtype == FT_FLOAT64 ? *(const double *)w : (double)*(const float *)w;
    return v < 1 ? 1 : (int)(v + 0.5);
}

static inline int ft_max1(int64_t x) { return x < 1 ? 1 : (int)x; }

int ft_lapack_getrf(int dtype, int64_t batch, int64_t m, int64_t n, intptr_t a, intptr_t ipiv, intptr_t info) {
    const int64_t dims[] = {m, n};
    int st = ft_lapack_check(dtype, batch, dims, 2);
    if (st) return st;
    ft_getrf_fn f = (ft_getrf_fn)ft_lapack[dtype == FT_FLOAT64].getrf;
    const int im = (int)m, in = (int)n, lda = ft_max1(m);
    const int64_t k = m < n ? m : n;
    for (int64_t b = 0; b < batch; b++)
        f(&im, &in, (char *)a + (size_t)(b * m * n) * ft_esize(dtype), &lda, (int *)ipiv + b * k, (int *)info + b);
    return FT_OK;
}

int ft_lapack_getri(int dtype, int64_t batch, int64_t n, intptr_t a, intptr_t ipiv, intptr_t info) {
    const int64_t dims[] = {n};
    int st = ft_lapack_check(dtype, batch, dims, 1);
    if (st) return st;
    ft_getri_fn f = (ft_getri_fn)ft_lapack[dtype == FT_FLOAT64].getri;
    const int in = (int)n, lda = ft_max1(n);
    double query[2];
    int lwork = -1, qinfo = 0;
    f(&in, (void *)a, &lda, (int *)ipiv, query, &lwork, &qinfo);
    lwork = ft_work_size(dtype, query);
    void *work = malloc((size_t)lwork * ft_esize(dtype));
    if (!work) return ft_set_error(FT_ERR_NOMEM, "getri: out of memory");
    for (int64_t b = 0; b < batch; b++)
        f(&in, (char *)a + (size_t)(b * n * n) * ft_esize(dtype), &lda, (int *)ipiv + b * n, work, &lwork,
          (int *)info + b);
    free(work);
    return FT_OK;
}

int ft_lapack_getrs(int dtype, int64_t batch, int64_t n, int64_t nrhs, intptr_t a, intptr_t ipiv, intptr_t b_,
                    intptr_t info) {
    const int64_t dims[] = {n, nrhs};
    int st = ft_lapack_check(dtype, batch, dims, 2);
    if (st) return st;
    ft_getrs_fn f = (ft_getrs_fn)ft_lapack[dtype == FT_FLOAT64].getrs;
    const int in = (int)n, inrhs = (int)nrhs, lda = ft_max1(n);
    for (int64_t b = 0; b < batch; b++)
        f("N", &in, &inrhs, (char *)a + (size_t)(b * n * n) * ft_esize(dtype), &lda, (int *)ipiv + b * n,
          (char *)b_ + (size_t)(b * n * nrhs) * ft_esize(dtype), &lda, (int *)info + b, 1);
    return FT_OK;
}

int ft_lapack_potrf(int dtype, int64_t batch, int64_t n, int upper, intptr_t a, intptr_t info) {
    const int64_t dims[] = {n};
    int st = ft_lapack_check(dtype, batch, dims, 1);
    if (st) return st;
    ft_potrf_fn f = (ft_potrf_fn)ft_lapack[dtype == FT_FLOAT64].potrf;
    const int in = (int)n, lda = ft_max1(n);
    for (int64_t b = 0; b < batch; b++)
        f(upper ? "U" : "L", &in, (char *)a + (size_t)(b * n * n) * ft_esize(dtype), &lda, (int *)info + b, 1);
    return FT_OK;
}

int ft_lapack_geqrf(int dtype, int64_t batch, int64_t m, int64_t n, intptr_t a, intptr_t tau, intptr_t info) {
    const int64_t dims[] = {m, n};
    int st = ft_lapack_check(dtype, batch, dims, 2);
    if (st) return st;
    ft_geqrf_fn f = (ft_geqrf_fn)ft_lapack[dtype == FT_FLOAT64].geqrf;
    const int im = (int)m, in = (int)n, lda = ft_max1(m);
    const int64_t k = m < n ? m : n;
    double query[2];
    int lwork = -1, qinfo = 0;
    f(&im, &in, (void *)a, &lda, (void *)tau, query, &lwork, &qinfo);
    lwork = ft_work_size(dtype, query);
    void *work = malloc((size_t)lwork * ft_esize(dtype));
    if (!work) return ft_set_error(FT_ERR_NOMEM, "geqrf: out of memory");
    for (int64_t b = 0; b < batch; b++)
        f(&im, &in, (char *)a + (size_t)(b * m * n) * ft_esize(dtype), &lda,
          (char *)tau + (size_t)(b * k) * ft_esize(dtype), work, &lwork, (int *)info + b);
    free(work);
    return FT_OK;
}

int ft_lapack_orgqr(int dtype, int64_t batch, int64_t m, int64_t ncols, int64_t k, intptr_t a, intptr_t tau,
                    intptr_t info) {
    const int64_t dims[] = {m, ncols, k};
    int st = ft_lapack_check(dtype, batch, dims, 3);
    if (st) return st;
    if (ncols > m || k > ncols) return ft_set_error(FT_ERR_VALUE, "orgqr: need k <= ncols <= m");
    ft_orgqr_fn f = (ft_orgqr_fn)ft_lapack[dtype == FT_FLOAT64].orgqr;
    const int im = (int)m, in = (int)ncols, ik = (int)k, lda = ft_max1(m);
    double query[2];
    int lwork = -1, qinfo = 0;
    f(&im, &in, &ik, (void *)a, &lda, (void *)tau, query, &lwork, &qinfo);
    lwork = ft_work_size(dtype, query);
    void *work = malloc((size_t)lwork * ft_esize(dtype));
    if (!work) return ft_set_error(FT_ERR_NOMEM, "orgqr: out of memory");
    for (int64_t b = 0; b < batch; b++)
        f(&im, &in, &ik, (char *)a + (size_t)(b * m * ncols) * ft_esize(dtype), &lda,
          (char *)tau + (size_t)(b * k) * ft_esize(dtype), work, &lwork, (int *)info + b);
    free(work);
    return FT_OK;
}

int ft_lapack_syevd(int dtype, int64_t batch, int64_t n, int upper, int vectors, intptr_t a, intptr_t w,
                    intptr_t info) {
    const int64_t dims[] = {n};
    int st = ft_lapack_check(dtype, batch, dims, 1);
    if (st) return st;
    ft_syevd_fn f = (ft_syevd_fn)ft_lapack[dtype == FT_FLOAT64].syevd;
    const int in = (int)n, lda = ft_max1(n);
    const char *jobz = vectors ? "V" : "N", *uplo = upper ? "U" : "L";
    double query[2];
    int lwork = -1, liwork = -1, iquery = 0, qinfo = 0;
    f(jobz, uplo, &in, (void *)a, &lda, (void *)w, query, &lwork, &iquery, &liwork, &qinfo, 1, 1);
    lwork = ft_work_size(dtype, query);
    liwork = iquery < 1 ? 1 : iquery;
    void *work = malloc((size_t)lwork * ft_esize(dtype));
    int *iwork = malloc((size_t)liwork * sizeof(int));
    if (!work || !iwork) {
        free(work);
        free(iwork);
        return ft_set_error(FT_ERR_NOMEM, "syevd: out of memory");
    }
    for (int64_t b = 0; b < batch; b++)
        f(jobz, uplo, &in, (char *)a + (size_t)(b * n * n) * ft_esize(dtype), &lda,
          (char *)w + (size_t)(b * n) * ft_esize(dtype), work, &lwork, iwork, &liwork, (int *)info + b, 1, 1);
    free(work);
    free(iwork);
    return FT_OK;
}

int ft_lapack_gesdd(int dtype, int64_t batch, int64_t m, int64_t n, int job, intptr_t a, intptr_t s, intptr_t u,
                    intptr_t vt, intptr_t info) {
    const int64_t dims[] = {m, n};
    int st = ft_lapack_check(dtype, batch, dims, 2);
    if (st) return st;
    if (job != 'A' && job != 'S' && job != 'N') return ft_set_error(FT_ERR_VALUE, "gesdd: job must be A, S or N");
    ft_gesdd_fn f = (ft_gesdd_fn)ft_lapack[dtype == FT_FLOAT64].gesdd;
    const int64_t k = m < n ? m : n;
    const int im = (int)m, in = (int)n, lda = ft_max1(m);
    const int64_t ucols = job == 'A' ? m : (job == 'S' ? k : 0);
    const int64_t vtrows = job == 'A' ? n : (job == 'S' ? k : 0);
    const int ldu = ft_max1(m), ldvt = ft_max1(vtrows);
    const char jobz[2] = {(char)job, 0};
    double query[2], dummy[2] = {0, 0};
    int lwork = -1, qinfo = 0;
    int *iwork = malloc((size_t)(8 * (k > 0 ? k : 1)) * sizeof(int));
    if (!iwork) return ft_set_error(FT_ERR_NOMEM, "gesdd: out of memory");
    f(jobz, &im, &in, (void *)a, &lda, (void *)s, job == 'N' ? (void *)dummy : (void *)u, &ldu,
      job == 'N' ? (void *)dummy : (void *)vt, &ldvt, query, &lwork, iwork, &qinfo, 1);
    lwork = ft_work_size(dtype, query);
    void *work = malloc((size_t)lwork * ft_esize(dtype));
    if (!work) {
        free(iwork);
        return ft_set_error(FT_ERR_NOMEM, "gesdd: out of memory");
    }
    const size_t e = ft_esize(dtype);
    for (int64_t b = 0; b < batch; b++)
        f(jobz, &im, &in, (char *)a + (size_t)(b * m * n) * e, &lda, (char *)s + (size_t)(b * k) * e,
          job == 'N' ? (void *)dummy : (void *)((char *)u + (size_t)(b * m * ucols) * e), &ldu,
          job == 'N' ? (void *)dummy : (void *)((char *)vt + (size_t)(b * vtrows * n) * e), &ldvt, work, &lwork, iwork,
          (int *)info + b, 1);
    free(work);
    free(iwork);
    return FT_OK;
}

int ft_lapack_gelsy(int dtype, int64_t batch, int64_t m, int64_t n, int64_t nrhs, intptr_t a, intptr_t b,
                    double rcond, intptr_t rank, intptr_t info) {
    const int64_t dims[] = {m, n, nrhs};
    int st = ft_lapack_check(dtype, batch, dims, 3);
    if (st) return st;
    ft_gelsy_fn f = (ft_gelsy_fn)ft_lapack[dtype == FT_FLOAT64].gelsy;
    const int64_t ldb64 = m > n ? m : n;
    const int im = (int)m, in = (int)n, inrhs = (int)nrhs, lda = ft_max1(m), ldb = ft_max1(ldb64);
    const float rcond_f = (float)rcond;
    const void *rc = dtype == FT_FLOAT64 ? (const void *)&rcond : (const void *)&rcond_f;
    int *jpvt = malloc((size_t)ft_max1(n) * sizeof(int));
    if (!jpvt) return ft_set_error(FT_ERR_NOMEM, "gelsy: out of memory");
    double query[2];
    int lwork = -1, qinfo = 0, r = 0;
    f(&im, &in, &inrhs, (void *)a, &lda, (void *)b, &ldb, jpvt, rc, &r, query, &lwork, &qinfo);
    lwork = ft_work_size(dtype, query);
    void *work = malloc((size_t)lwork * ft_esize(dtype));
    if (!work) {
        free(jpvt);
        return ft_set_error(FT_ERR_NOMEM, "gelsy: out of memory");
    }
    const size_t e = ft_esize(dtype);
    for (int64_t k = 0; k < batch; k++) {
        for (int64_t j = 0; j < n; j++) jpvt[j] = 0; /* every column free to pivot */
        f(&im, &in, &inrhs, (char *)a + (size_t)(k * m * n) * e, &lda, (char *)b + (size_t)(k * ldb64 * nrhs) * e,
          &ldb, jpvt, rc, &r, work, &lwork, (int *)info + k);
        ((int64_t *)rank)[k] = r;
    }
    free(work);
    free(jpvt);
    return FT_OK;
}
