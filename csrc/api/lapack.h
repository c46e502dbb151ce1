/* LAPACK through the OpenBLAS of the scipy-openblas32 wheel (lapack.c), loaded at run time.
 *
 * Every routine works on a batch of column-major (Fortran) matrices stored back to back, in
 * place, float32 or float64; info (int32, one per matrix) gets LAPACK's info. The caller lays the
 * matrices out and turns info into torch's errors. Workspace is queried and allocated here.
 */
#ifndef FT_API_LAPACK_H
#define FT_API_LAPACK_H

#include "../ft.h"

/* dlopen path and resolve the scipy_-prefixed (or plain) LAPACK symbols; 1 when loaded. */
int ft_lapack_load(const char *path);
int ft_lapack_loaded(void);

/* LU with partial pivoting: a is m x n, ipiv int32 batch x min(m, n) (1-based, as LAPACK). */
int ft_lapack_getrf(int dtype, int64_t batch, int64_t m, int64_t n, intptr_t a, intptr_t ipiv, intptr_t info);
/* Inverse from the LU of getrf (n x n). */
int ft_lapack_getri(int dtype, int64_t batch, int64_t n, intptr_t a, intptr_t ipiv, intptr_t info);
/* Solves A X = B from the LU of getrf; b is n x nrhs per matrix. */
int ft_lapack_getrs(int dtype, int64_t batch, int64_t n, int64_t nrhs, intptr_t a, intptr_t ipiv, intptr_t b,
                    intptr_t info);
/* Cholesky: upper != 0 computes U (A = U^H U), else L; the other triangle is left as it was. */
int ft_lapack_potrf(int dtype, int64_t batch, int64_t n, int upper, intptr_t a, intptr_t info);
/* QR: geqrf leaves R and the reflectors in a (m x n), tau batch x min(m, n). */
int ft_lapack_geqrf(int dtype, int64_t batch, int64_t m, int64_t n, intptr_t a, intptr_t tau, intptr_t info);
/* Q (m x ncols, ncols <= m) from k reflectors of geqrf; a is m x ncols with them in its first k columns. */
int ft_lapack_orgqr(int dtype, int64_t batch, int64_t m, int64_t ncols, int64_t k, intptr_t a, intptr_t tau,
                    intptr_t info);
/* Symmetric eigen-decomposition (divide and conquer): w gets ascending eigenvalues (batch x n),
 * a the eigenvectors as columns when vectors != 0; upper picks the triangle read. */
int ft_lapack_syevd(int dtype, int64_t batch, int64_t n, int upper, int vectors, intptr_t a, intptr_t w,
                    intptr_t info);
/* SVD (divide and conquer): job 'A' (full), 'S' (reduced) or 'N' (values only); s batch x min(m, n);
 * u m x (m or k), vt (n or k) x n per matrix (unused for 'N'). a is destroyed. */
int ft_lapack_gesdd(int dtype, int64_t batch, int64_t m, int64_t n, int job, intptr_t a, intptr_t s, intptr_t u,
                    intptr_t vt, intptr_t info);

/* Least squares (complete orthogonal factorisation): a m x n, b max(m, n) x nrhs (the solution in its
 * first n rows), rank int64 per matrix; rcond as LAPACK's. */
int ft_lapack_gelsy(int dtype, int64_t batch, int64_t m, int64_t n, int64_t nrhs, intptr_t a, intptr_t b,
                    double rcond, intptr_t rank, intptr_t info);

#endif /* FT_API_LAPACK_H */
