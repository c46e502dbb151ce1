/* The vectorised math kernels (elementwise_math.h) compiled for AVX2 with FMA
 * (x86-64-v3): 8 floats or 4 doubles a vector, masks as vectors, and 2^q built
 * from exponent bits in two exact steps, which rounds exactly like AVX-512's scalef.
 * Only called after the CPU check in elementwise.c (ft_math_kernels_active). */
#include "elementwise.h"

#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC target("avx2,fma")
#include <immintrin.h>

/* ---- the layer: float ---- */
typedef __m256 vf;
typedef __m256 vfm;
#define FT_VF_LANES 8
static inline vf vf_set(float x) { return _mm256_set1_ps(x); }
static inline vf vf_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void vf_store(float *p, vf x) { _mm256_storeu_ps(p, x); }
static inline vf vf_add(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vf_div(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf vf_fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf vf_fnma(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }
static inline vf vf_fms(vf a, vf b, vf c) { return _mm256_fmsub_ps(a, b, c); }
static inline vf vf_floor(vf x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
static inline vf vf_round(vf x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static inline vf vf_min(vf a, vf b) { return _mm256_min_ps(a, b); }
static inline vf vf_max(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf vf_abs(vf x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
static inline vf vf_sign(vf x) { return _mm256_and_ps(_mm256_set1_ps(-0.0f), x); }
static inline vf vf_or(vf a, vf b) { return _mm256_or_ps(a, b); }
static inline vf vf_xor(vf a, vf b) { return _mm256_xor_ps(a, b); }
typedef __m256i vfi;
static inline vfi vf_floor_index(vf k) { return _mm256_cvttps_epi32(k); }
/* two 8-entry permutes, the upper half's where bit 3 of the index is set */
static inline vf vf_table16(const float *table, vfi index) {
    const vf low = _mm256_permutevar8x32_ps(_mm256_loadu_ps(table), index);
    const vf high = _mm256_permutevar8x32_ps(_mm256_loadu_ps(table + 8), index);
    return _mm256_blendv_ps(low, high, _mm256_castsi256_ps(_mm256_slli_epi32(index, 28)));
}
static inline vfm vf_lt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
static inline vfm vf_gt(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
static inline vfm vf_eq(vf a, vf b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
static inline vfm vf_isnan(vf x) { return _mm256_cmp_ps(x, x, _CMP_UNORD_Q); }
static inline vf vf_select(vfm m, vf if_true, vf if_false) { return _mm256_blendv_ps(if_false, if_true, m); }
/* 2^k for integral k in [-126, 127] */
static inline vf vf_pow2i(__m256i k) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23)); }
static inline vf vf_scale(vf p, vf q) {
    const __m256i k = _mm256_cvtps_epi32(q);
    const __m256i half = _mm256_srai_epi32(k, 1);
    return vf_mul(vf_mul(p, vf_pow2i(half)), vf_pow2i(_mm256_sub_epi32(k, half)));
}
static inline vf vf_log_split(vf x, vf *n) {
    const vfm tiny = vf_lt(x, vf_set(0x1p-126f));
    x = vf_select(tiny, vf_mul(x, vf_set(0x1p23f)), x);
    const __m256i u = _mm256_sub_epi32(_mm256_castps_si256(x), _mm256_set1_epi32(0x3f2aaaab));
    const vf e = _mm256_cvtepi32_ps(_mm256_srai_epi32(u, 23));
    *n = vf_select(tiny, vf_sub(e, vf_set(23.0f)), e);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f2aaaab)));
}

/* ---- the layer: double ---- */
typedef __m256d vd;
typedef __m256d vdm;
#define FT_VD_LANES 4
static inline vd vd_set(double x) { return _mm256_set1_pd(x); }
static inline vd vd_load(const double *p) { return _mm256_loadu_pd(p); }
static inline void vd_store(double *p, vd x) { _mm256_storeu_pd(p, x); }
static inline vd vd_add(vd a, vd b) { return _mm256_add_pd(a, b); }
static inline vd vd_sub(vd a, vd b) { return _mm256_sub_pd(a, b); }
static inline vd vd_mul(vd a, vd b) { return _mm256_mul_pd(a, b); }
static inline vd vd_div(vd a, vd b) { return _mm256_div_pd(a, b); }
static inline vd vd_fma(vd a, vd b, vd c) { return _mm256_fmadd_pd(a, b, c); }
static inline vd vd_fnma(vd a, vd b, vd c) { return _mm256_fnmadd_pd(a, b, c); }
static inline vd vd_round(vd x) { return _mm256_round_pd(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static inline vd vd_min(vd a, vd b) { return _mm256_min_pd(a, b); }
static inline vd vd_max(vd a, vd b) { return _mm256_max_pd(a, b); }
static inline vd vd_abs(vd x) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), x); }
static inline vd vd_sign(vd x) { return _mm256_and_pd(_mm256_set1_pd(-0.0), x); }
static inline vd vd_or(vd a, vd b) { return _mm256_or_pd(a, b); }
static inline vdm vd_lt(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
static inline vdm vd_eq(vd a, vd b) { return _mm256_cmp_pd(a, b, _CMP_EQ_OQ); }
static inline vdm vd_isnan(vd x) { return _mm256_cmp_pd(x, x, _CMP_UNORD_Q); }
static inline vd vd_select(vdm m, vd if_true, vd if_false) { return _mm256_blendv_pd(if_false, if_true, m); }
/* 2^k for integral k (a double) in [-1022, 1023]: k's bits through the 1.5 * 2^52 trick */
static inline vd vd_pow2(vd k) {
    const __m256i bits = _mm256_sub_epi64(_mm256_castpd_si256(vd_add(k, vd_set(0x1.8p52))), _mm256_castpd_si256(vd_set(0x1.8p52)));
    return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(bits, _mm256_set1_epi64x(1023)), 52));
}
static inline vd vd_scale(vd p, vd q) {
    const vd half = _mm256_floor_pd(vd_mul(q, vd_set(0.5)));
    return vd_mul(vd_mul(p, vd_pow2(half)), vd_pow2(vd_sub(q, half)));
}
static inline vd vd_log_split(vd x, vd *n) {
    const vdm tiny = vd_lt(x, vd_set(0x1p-1022));
    x = vd_select(tiny, vd_mul(x, vd_set(0x1p54)), x);
    const __m256i u = _mm256_sub_epi64(_mm256_castpd_si256(x), _mm256_set1_epi64x(0x3fe5555555555555LL));
    const __m256i biased = _mm256_srli_epi64(_mm256_add_epi64(u, _mm256_set1_epi64x(0x3ff0000000000000LL)), 52);
    const vd e = vd_sub(_mm256_castsi256_pd(_mm256_or_si256(biased, _mm256_set1_epi64x(0x4330000000000000LL))),
                        vd_set(0x1p52 + 1023.0));
    *n = vd_select(tiny, vd_sub(e, vd_set(54.0)), e);
    return _mm256_castsi256_pd(_mm256_add_epi64(_mm256_and_si256(u, _mm256_set1_epi64x(0x000fffffffffffffLL)),
                                                _mm256_set1_epi64x(0x3fe5555555555555LL)));
}

#define FT_MATH_NAME(name) ft_math_avx2_##name
#include "elementwise_math.h"

const ft_math_kernels ft_math_avx2 = FT_MATH_TABLE;
#endif
