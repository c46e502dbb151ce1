/* The vectorised math kernels (elementwise_math.h) compiled for AVX-512 (F and DQ):
 * 16 floats or 8 doubles a vector, masks in k registers, scalef for 2^q.
 * Only called after the CPU check in elementwise.c (ft_math_kernels_active). */
#include "elementwise.h"

#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC target("avx512f,avx512dq,avx2,fma")
#include <immintrin.h>

/* ---- the layer: float ---- */
typedef __m512 vf;
typedef __mmask16 vfm;
#define FT_VF_LANES 16
static inline vf vf_set(float x) { return _mm512_set1_ps(x); }
static inline vf vf_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void vf_store(float *p, vf x) { _mm512_storeu_ps(p, x); }
static inline vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vf_div(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf vf_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vf_fnma(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }
static inline vf vf_fms(vf a, vf b, vf c) { return _mm512_fmsub_ps(a, b, c); }
static inline vf vf_floor(vf x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
static inline vf vf_round(vf x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static inline vf vf_min(vf a, vf b) { return _mm512_min_ps(a, b); }
static inline vf vf_max(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vf_abs(vf x) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff))); }
static inline vf vf_sign(vf x) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u))); }
static inline vf vf_or(vf a, vf b) { return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b))); }
static inline vf vf_xor(vf a, vf b) { return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_castps_si512(b))); }
typedef __m512i vfi;
static inline vfi vf_floor_index(vf k) { return _mm512_cvttps_epi32(k); }
static inline vf vf_table16(const float *table, vfi index) { return _mm512_permutexvar_ps(index, _mm512_loadu_ps(table)); }
static inline vfm vf_lt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
static inline vfm vf_gt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
static inline vfm vf_eq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
static inline vfm vf_isnan(vf x) { return _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q); }
static inline vf vf_select(vfm m, vf if_true, vf if_false) { return _mm512_mask_blend_ps(m, if_false, if_true); }
static inline vf vf_scale(vf p, vf q) { return _mm512_scalef_ps(p, q); }
static inline vf vf_log_split(vf x, vf *n) {
    const vfm tiny = vf_lt(x, vf_set(0x1p-126f)); /* denormals (and values log rejects anyway) */
    x = _mm512_mask_mul_ps(x, tiny, x, vf_set(0x1p23f));
    const __m512i u = _mm512_sub_epi32(_mm512_castps_si512(x), _mm512_set1_epi32(0x3f2aaaab)); /* bits of 2/3 */
    const vf e = _mm512_cvtepi32_ps(_mm512_srai_epi32(u, 23));
    *n = _mm512_mask_sub_ps(e, tiny, e, vf_set(23.0f));
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_and_si512(u, _mm512_set1_epi32(0x007fffff)), _mm512_set1_epi32(0x3f2aaaab)));
}

/* ---- the layer: double ---- */
typedef __m512d vd;
typedef __mmask8 vdm;
#define FT_VD_LANES 8
static inline vd vd_set(double x) { return _mm512_set1_pd(x); }
static inline vd vd_load(const double *p) { return _mm512_loadu_pd(p); }
static inline void vd_store(double *p, vd x) { _mm512_storeu_pd(p, x); }
static inline vd vd_add(vd a, vd b) { return _mm512_add_pd(a, b); }
static inline vd vd_sub(vd a, vd b) { return _mm512_sub_pd(a, b); }
static inline vd vd_mul(vd a, vd b) { return _mm512_mul_pd(a, b); }
static inline vd vd_div(vd a, vd b) { return _mm512_div_pd(a, b); }
static inline vd vd_fma(vd a, vd b, vd c) { return _mm512_fmadd_pd(a, b, c); }
static inline vd vd_fnma(vd a, vd b, vd c) { return _mm512_fnmadd_pd(a, b, c); }
static inline vd vd_round(vd x) { return _mm512_roundscale_pd(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static inline vd vd_min(vd a, vd b) { return _mm512_min_pd(a, b); }
static inline vd vd_max(vd a, vd b) { return _mm512_max_pd(a, b); }
static inline vd vd_abs(vd x) { return _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(x), _mm512_set1_epi64(0x7fffffffffffffffLL))); }
static inline vd vd_sign(vd x) { return _mm512_castsi512_pd(_mm512_and_si512(_mm512_castpd_si512(x), _mm512_set1_epi64((long long)0x8000000000000000ULL))); }
static inline vd vd_or(vd a, vd b) { return _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(a), _mm512_castpd_si512(b))); }
static inline vdm vd_lt(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
static inline vdm vd_eq(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ); }
static inline vdm vd_isnan(vd x) { return _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q); }
static inline vd vd_select(vdm m, vd if_true, vd if_false) { return _mm512_mask_blend_pd(m, if_false, if_true); }
static inline vd vd_scale(vd p, vd q) { return _mm512_scalef_pd(p, q); }
static inline vd vd_log_split(vd x, vd *n) {
    const vdm tiny = vd_lt(x, vd_set(0x1p-1022));
    x = _mm512_mask_mul_pd(x, tiny, x, vd_set(0x1p54));
    const __m512i u = _mm512_sub_epi64(_mm512_castpd_si512(x), _mm512_set1_epi64(0x3fe5555555555555LL)); /* 2/3 */
    /* n + 1023 = (u + (1023 << 52)) >> 52, turned into a double through the 2^52 mantissa trick */
    const __m512i biased = _mm512_srli_epi64(_mm512_add_epi64(u, _mm512_set1_epi64(0x3ff0000000000000LL)), 52);
    const vd e = vd_sub(_mm512_castsi512_pd(_mm512_or_si512(biased, _mm512_set1_epi64(0x4330000000000000LL))),
                        vd_set(0x1p52 + 1023.0));
    *n = _mm512_mask_sub_pd(e, tiny, e, vd_set(54.0));
    return _mm512_castsi512_pd(_mm512_add_epi64(_mm512_and_si512(u, _mm512_set1_epi64(0x000fffffffffffffLL)),
                                                _mm512_set1_epi64(0x3fe5555555555555LL)));
}

#define FT_MATH_NAME(name) ft_math_avx512_##name
#include "elementwise_math.h"

const ft_math_kernels ft_math_avx512 = FT_MATH_TABLE;
#endif
