/* Special functions of the unary kernels (digamma, erfinv, i0, sinc), ported from
 * torch's aten/src/ATen/native/Math.h so the engine computes what torch computes,
 * in the same precision and order of operations. lgamma is libm's, as in torch.
 *
 * digamma and i0 are derived from the Cephes Math Library (Copyright (c) 2018,
 * Steven Moshier, 3-clause BSD licence, as noted in torch's Math.h); erfinv is
 * Gary L. Pavlis's rational approximation with two Newton steps, as in torch.
 */
#ifndef FT_SPECIAL_MATH_H
#define FT_SPECIAL_MATH_H

#include <math.h>

#define FT_PI 3.14159265358979323846

/* ---- digamma (calc_digamma): reflection for x < 0, recurrence up to 10, asymptotic series ---- */
static inline double ft_polevl_f64(double x, const double *a, int len) {
    double result = 0;
    for (int i = 0; i <= len; i++) result = result * x + a[i];
    return result;
}

static inline float ft_polevl_f32(float x, const float *a, int len) {
    float result = 0;
    for (int i = 0; i <= len; i++) result = result * x + a[i];
    return result;
}

static inline double ft_digamma_f64(double x) {
    static const double psi_10 = 2.25175258906672110764;
    static const double a[] = {8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
                               -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
                               8.33333333333333333333E-2};
    if (x == 0) return copysign(INFINITY, -x);
    if (x < 0) {
        if (x == trunc(x)) return NAN;
        double q, r = modf(x, &q);
        return ft_digamma_f64(1 - x) - FT_PI / tan(FT_PI * r); /* 1 - x > 1: one level deep */
    }
    double result = 0;
    while (x < 10) {
        result -= 1 / x;
        x += 1;
    }
    if (x == 10) return result + psi_10;
    double y = 0;
    if (x < 1.0e17) {
        double z = 1.0 / (x * x);
        y = z * ft_polevl_f64(z, a, 6);
    }
    return result + log(x) - (0.5 / x) - y;
}

static inline float ft_digamma_positive_f32(float x) {
    static const float psi_10 = 2.25175258906672110764f;
    static const float a[] = {8.33333333333333333333E-2f, -2.10927960927960927961E-2f, 7.57575757575757575758E-3f,
                              -4.16666666666666666667E-3f, 3.96825396825396825397E-3f, -8.33333333333333333333E-3f,
                              8.33333333333333333333E-2f};
    float result = 0;
    while (x < 10) {
        result -= 1 / x;
        x += 1;
    }
    if (x == 10) return result + psi_10;
    float y = 0;
    if (x < 1.0e17f) {
        float z = 1 / (x * x);
        y = z * ft_polevl_f32(z, a, 6);
    }
    return result + logf(x) - (0.5f / x) - y;
}

static inline float ft_digamma_f32(float x) {
    if (x == 0) return copysignf(INFINITY, -x);
    if (x < 0) {
        if (x == truncf(x)) return NAN;
        double q, r = modf((double)x, &q);
        float pi_over_tan_pi_x = (float)(FT_PI / tan(FT_PI * r));
        return ft_digamma_positive_f32(1 - x) - pi_over_tan_pi_x;
    }
    return ft_digamma_positive_f32(x);
}

/* ---- trigamma (digamma's derivative, polygamma(1, x)): reflection below 0.5, six recurrence steps,
 * asymptotic series; as torch's, sign * result after the reflection ---- */
#define FT_TRIGAMMA(T, SFX, SIN)                                                                        \
    static inline T ft_trigamma_##SFX(T x) {                                                            \
        const T pi = (T)FT_PI;                                                                          \
        T sign = +1, result = 0;                                                                        \
        if (x < (T)0.5) {                                                                               \
            sign = -1;                                                                                  \
            const T sin_pi_x = SIN(pi * x);                                                             \
            result -= (pi * pi) / (sin_pi_x * sin_pi_x);                                                \
            x = 1 - x;                                                                                  \
        }                                                                                               \
        for (int i = 0; i < 6; ++i) {                                                                   \
            result += 1 / (x * x);                                                                      \
            x += 1;                                                                                     \
        }                                                                                               \
        const T ixx = 1 / (x * x);                                                                      \
        result += (1 + 1 / (2 * x) + ixx * ((T)1 / 6 - ixx * ((T)1 / 30 - ixx * ((T)1 / 42)))) / x;     \
        return sign * result;                                                                           \
    }
FT_TRIGAMMA(float, f32, sinf)
FT_TRIGAMMA(double, f64, sin)

/* ---- erfinv (calc_erfinv) ---- */
#define FT_ERFINV(T, SFX, ABS, SQRT, LOG, COPYSIGN, ERF, EXP)                                            \
    static inline T ft_erfinv_##SFX(T y) {                                                              \
        static const T a[4] = {(T)0.886226899, (T)-1.645349621, (T)0.914624893, (T)-0.140543331};       \
        static const T b[4] = {(T)-2.118377725, (T)1.442710462, (T)-0.329097515, (T)0.012229801};       \
        static const T c[4] = {(T)-1.970840454, (T)-1.624906493, (T)3.429567803, (T)1.641345311};       \
        static const T d[2] = {(T)3.543889200, (T)1.637067800};                                         \
        const T two_over_sqrt_pi = (T)2.0 * (T)0.564189583547756286948;                                 \
        T x, z, num, dem;                                                                               \
        T y_abs = ABS(y);                                                                               \
        if (y_abs > (T)1.0) return (T)NAN;                                                              \
        if (y_abs == (T)1.0) return COPYSIGN((T)INFINITY, y);                                           \
        if (y_abs <= (T)0.7) {                                                                          \
            z = y * y;                                                                                  \
            num = (((a[3] * z + a[2]) * z + a[1]) * z + a[0]);                                          \
            dem = ((((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + (T)1.0);                           \
            x = y * num / dem;                                                                          \
        } else {                                                                                        \
            z = SQRT(-LOG(((T)1.0 - y_abs) / (T)2.0));                                                  \
            num = ((c[3] * z + c[2]) * z + c[1]) * z + c[0];                                            \
            dem = (d[1] * z + d[0]) * z + (T)1.0;                                                       \
            x = COPYSIGN(num, y) / dem;                                                                 \
        }                                                                                               \
        x = x - (ERF(x) - y) / (two_over_sqrt_pi * EXP(-x * x));                                        \
        x = x - (ERF(x) - y) / (two_over_sqrt_pi * EXP(-x * x));                                        \
        return x;                                                                                       \
    }
FT_ERFINV(float, f32, fabsf, sqrtf, logf, copysignf, erff, expf)
FT_ERFINV(double, f64, fabs, sqrt, log, copysign, erf, exp)

/* ---- i0 (calc_i0): Chebyshev series of exp(-x) I0(x) on [0, 8] and exp(-x) sqrt(x) I0(x) above ---- */
static const double ft_i0e_a[30] = {
    -4.41534164647933937950E-18, 3.33079451882223809783E-17, -2.43127984654795469359E-16, 1.71539128555513303061E-15,
    -1.16853328779934516808E-14, 7.67618549860493561688E-14, -4.85644678311192946090E-13, 2.95505266312963983461E-12,
    -1.72682629144155570723E-11, 9.67580903537323691224E-11, -5.18979560163526290666E-10, 2.65982372468238665035E-9,
    -1.30002500998624804212E-8, 6.04699502254191894932E-8, -2.67079385394061173391E-7, 1.11738753912010371815E-6,
    -4.41673835845875056359E-6, 1.64484480707288970893E-5, -5.75419501008210370398E-5, 1.88502885095841655729E-4,
    -5.76375574538582365885E-4, 1.63947561694133579842E-3, -4.32430999505057594430E-3, 1.05464603945949983183E-2,
    -2.37374148058994688156E-2, 4.93052842396707084878E-2, -9.49010970480476444210E-2, 1.71620901522208775349E-1,
    -3.04682672343198398683E-1, 6.76795274409476084995E-1};
static const double ft_i0e_b[25] = {
    -7.23318048787475395456E-18, -4.83050448594418207126E-18, 4.46562142029675999901E-17, 3.46122286769746109310E-17,
    -2.82762398051658348494E-16, -3.42548561967721913462E-16, 1.77256013305652638360E-15, 3.81168066935262242075E-15,
    -9.55484669882830764870E-15, -4.15056934728722208663E-14, 1.54008621752140982691E-14, 3.85277838274214270114E-13,
    7.18012445138366623367E-13, -1.79417853150680611778E-12, -1.32158118404477131188E-11, -3.14991652796324136454E-11,
    1.18891471078464383424E-11, 4.94060238822496958910E-10, 3.39623202570838634515E-9, 2.26666899049817806459E-8,
    2.04891858946906374183E-7, 2.89137052083475648297E-6, 6.88975834691682398426E-5, 3.36911647825569408990E-3,
    8.04490411014108831608E-1};

/* torch's float tables are the double literals rounded to float (the same `static const T coeff[]`). */
#define FT_I0(T, SFX, ABS, EXP, SQRT)                                                                   \
    static inline T ft_chbevl_##SFX(T x, const double *array, int len) {                                \
        T b0 = (T)array[0], b1 = 0, b2 = 0;                                                             \
        for (int i = 1; i < len; ++i) {                                                                 \
            b2 = b1;                                                                                    \
            b1 = b0;                                                                                    \
            b0 = x * b1 - b2 + (T)array[i];                                                             \
        }                                                                                               \
        return (T)0.5 * (b0 - b2);                                                                      \
    }                                                                                                   \
    static inline T ft_i0_##SFX(T x_in) {                                                               \
        T x = ABS(x_in);                                                                                \
        if (x <= (T)8.0) return EXP(x) * ft_chbevl_##SFX(x / (T)2.0 - (T)2.0, ft_i0e_a, 30);            \
        return EXP(x) * ft_chbevl_##SFX((T)32.0 / x - (T)2.0, ft_i0e_b, 25) / SQRT(x);                  \
    }
FT_I0(float, f32, fabsf, expf, sqrtf)
FT_I0(double, f64, fabs, exp, sqrt)

/* ---- i1 (calc_i1, i0's derivative): the same scheme; torch's float tables are the tails of the
 * double ones (17 of 29 and 7 of 25 coefficients) ---- */
static const double ft_i1e_a[29] = {
    2.77791411276104639959E-18, -2.11142121435816608115E-17, 1.55363195773620046921E-16, -1.10559694773538630805E-15,
    7.60068429473540693410E-15, -5.04218550472791168711E-14, 3.22379336594557470981E-13, -1.98397439776494371520E-12,
    1.17361862988909016308E-11, -6.66348972350202774223E-11, 3.62559028155211703701E-10, -1.88724975172282928790E-9,
    9.38153738649577178388E-9, -4.44505912879632808065E-8, 2.00329475355213526229E-7, -8.56872026469545474066E-7,
    3.47025130813767847674E-6, -1.32731636560394358279E-5, 4.78156510755005422638E-5, -1.61760815825896745588E-4,
    5.12285956168575772895E-4, -1.51357245063125314899E-3, 4.15642294431288815669E-3, -1.05640848946261981558E-2,
    2.47264490306265168283E-2, -5.29459812080949914269E-2, 1.02643658689847095384E-1, -1.76416518357834055153E-1,
    2.52587186443633654823E-1};
static const double ft_i1e_b[25] = {
    7.51729631084210481353E-18, 4.41434832307170791151E-18, -4.65030536848935832153E-17, -3.20952592199342395980E-17,
    2.96262899764595013876E-16, 3.30820231092092828324E-16, -1.88035477551078244854E-15, -3.81440307243700780478E-15,
    1.04202769841288027642E-14, 4.27244001671195135429E-14, -2.10154184277266431302E-14, -4.08355111109219731823E-13,
    -7.19855177624590851209E-13, 2.03562854414708950722E-12, 1.41258074366137813316E-11, 3.25260358301548823856E-11,
    -1.89749581235054123450E-11, -5.58974346219658380687E-10, -3.83538038596423702205E-9, -2.63146884688951950684E-8,
    -2.51223623787020892529E-7, -3.88256480887769039346E-6, -1.10588938762623716291E-4, -9.76109749136146840777E-3,
    7.78576235018280120474E-1};

#define FT_I1(T, SFX, ABS, EXP, SQRT, A_FIRST, B_FIRST)                                                 \
    static inline T ft_i1_##SFX(T x_in) {                                                               \
        T x = ABS(x_in), out;                                                                           \
        if (x <= (T)8.0)                                                                                \
            out = EXP(x) * x * ft_chbevl_##SFX(x / (T)2.0 - (T)2.0, ft_i1e_a + A_FIRST, 29 - A_FIRST);  \
        else                                                                                            \
            out = (EXP(x) * ft_chbevl_##SFX((T)32.0 / x - (T)2.0, ft_i1e_b + B_FIRST, 25 - B_FIRST)) /  \
                  SQRT(x);                                                                              \
        return x_in < (T)0.0 ? -out : out;                                                              \
    }
FT_I1(float, f32, fabsf, expf, sqrtf, 12, 18)
FT_I1(double, f64, fabs, exp, sqrt, 0, 0)

/* ---- sinc: sin(pi x) / (pi x), 1 at 0 (torch's sinc kernel, in the input's precision) ---- */
static inline float ft_sinc_f32(float x) {
    if (x == 0) return 1.0f;
    float product = (float)FT_PI * x;
    return sinf(product) / product;
}

static inline double ft_sinc_f64(double x) {
    if (x == 0) return 1.0;
    double product = FT_PI * x;
    return sin(product) / product;
}

#endif
