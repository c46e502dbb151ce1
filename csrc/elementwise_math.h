/* Vectorised transcendentals for the unary kernels: exp, log, tanh, sigmoid,
 * erf and gelu over contiguous float32 and float64 arrays.
 *
 * Written once against a small ISA layer and compiled once per ISA: a file
 * that includes this header first defines the layer (vector types, lane
 * counts, and the vf_* / vd_* functions listed below) and FT_MATH_NAME(name)
 * for the names of its array kernels (elementwise_math_avx512.c,
 * elementwise_math_avx2.c). Every layer does the same IEEE operations in the
 * same order (FMA where the code says fma), so all ISAs give the same bits.
 *
 * Accuracy is torch's (SLEEF's u10 functions, MKL VML's HA mode). Largest
 * errors seen over every 331st float32 bit pattern: exp 1.0, log 0.9, tanh 1.5,
 * erf 1.9, sigmoid 2.2 ULP (torch's formula on this exp), gelu 1.6 ULP for
 * x > 0 and 1.1e-7 absolute in Phi; over random float64: exp 1.0, log 0.8,
 * tanh 2.5, sigmoid 2.2 ULP. Each function reduces its argument exactly
 * (Cody-Waite with a split ln 2), evaluates a polynomial fitted by
 * ftorch_cli/tools/fit_math_polynomials.py
 * (Chebyshev fits in mpmath; coefficients rounded by the compiler from the
 * hex literals), and rebuilds the result; special values (NaN, +-inf, +-0,
 * denormals) are settled by selects at the end, not by branches.
 *
 * Lanes are independent and a tail shorter than a vector runs through the
 * same code from a padded buffer, so an element's result never depends on
 * its position, the array length or how threads split the array.
 *
 * The layer, for float (vf, mask vfm, int32 lanes vfi) and double (vd, vdm):
 *   set load store add sub mul div fma(a,b,c)=a*b+c fnma(a,b,c)=c-a*b
 *   round (to nearest even) min max (x86: the second operand when either is NaN)
 *   fms(a,b,c)=a*b-c floor abs sign (the sign bit alone) or xor
 *   lt gt eq isnan -> mask; select(mask, if_true, if_false)
 *   float only: table16(t, k) = t[k] per lane for k = floor_index(f), an integral f in [0, 16)
 *   scale(p, q) = p * 2^q for integral q with |q| <= 2200 (one rounding, like scalef)
 *   float only: exponent/mantissa split for log: vf_log_split(x, &n) -> m in [2/3, 4/3), x = m 2^n
 *   double only: vd_log_split likewise.
 */
#ifndef FT_MATH_NAME
#error "include elementwise_math.h from an ISA file that defines the layer"
#endif

/* ---- float32 ---- */

/* ln 2 in two parts: q * LN2_HI is exact for |q| < 2^8 (float) / 2^11 (double). */
#define FT_LN2_HI_F32 0x1.62e400p-1f
#define FT_LN2_LO_F32 0x1.7f7d1cf79abcap-20f
#define FT_LOG2E_F32 0x1.715476p+0f

/* expm1(r) - r = r^2 P(r) on |r| <= ln2/2: P ~ (e^r - 1 - r) / r^2, error 7e-8 */
static inline vf ft_exp_poly_f32(vf r) {
    vf p = vf_set(0x1.6d1605bc8521fp-10f);
    p = vf_fma(p, r, vf_set(0x1.12106ba17fc04p-7f));
    p = vf_fma(p, r, vf_set(0x1.555516c1f2f08p-5f));
    p = vf_fma(p, r, vf_set(0x1.5554d820ee8e6p-3f));
    p = vf_fma(p, r, vf_set(0x1.0p-1f));
    return vf_fma(vf_mul(r, r), p, r);
}

/* x = q ln2 + r, |r| <= ln2/2 (q integral, as a float). */
static inline vf ft_exp_reduce_f32(vf x, vf *q) {
    *q = vf_round(vf_mul(x, vf_set(FT_LOG2E_F32)));
    vf r = vf_fnma(*q, vf_set(FT_LN2_HI_F32), x);
    return vf_fnma(*q, vf_set(FT_LN2_LO_F32), r);
}

static inline vf ft_vexp_f32(vf x) {
    /* Outside [-104, 89] the result is 0 or inf anyway; clamping keeps 2^q in range.
     * NaN passes through max/min (they return their second operand for NaN). */
    x = vf_min(vf_set(89.0f), vf_max(vf_set(-104.0f), x));
    vf q;
    vf r = ft_exp_reduce_f32(x, &q);
    return vf_scale(vf_add(vf_set(1.0f), ft_exp_poly_f32(r)), q);
}

/* torch's formula, 1 / (1 + e^-x): 0 for x -> -inf, 1 for x -> inf. e^-x is ft_vexp_f32(-x) with
 * the negation folded in: q = round(-x log2e) and r' = x + q ln2 = -r exactly, so the polynomial
 * runs on r' with its odd coefficients negated; every rounding is the mirror image of exp's,
 * which gives the same bits as ft_vexp_f32(-x) one operation cheaper. */
static inline vf ft_vsigmoid_f32(vf x) {
    x = vf_min(vf_set(104.0f), vf_max(vf_set(-89.0f), x));
    vf q = vf_round(vf_mul(x, vf_set(-FT_LOG2E_F32)));
    vf r = vf_fma(q, vf_set(FT_LN2_HI_F32), x);
    r = vf_fma(q, vf_set(FT_LN2_LO_F32), r);
    vf p = vf_set(0x1.6d1605bc8521fp-10f);
    p = vf_fma(p, r, vf_set(-0x1.12106ba17fc04p-7f));
    p = vf_fma(p, r, vf_set(0x1.555516c1f2f08p-5f));
    p = vf_fma(p, r, vf_set(-0x1.5554d820ee8e6p-3f));
    p = vf_fma(p, r, vf_set(0x1.0p-1f));
    vf e = vf_scale(vf_add(vf_set(1.0f), vf_fms(vf_mul(r, r), p, r)), q);
    return vf_div(vf_set(1.0f), vf_add(vf_set(1.0f), e));
}

static inline vf ft_vlog_f32(vf x) {
    vf n;
    vf m = vf_log_split(x, &n); /* x = m 2^n, m in [2/3, 4/3); denormals handled */
    vf r = vf_sub(m, vf_set(1.0f));
    /* log1p(r) = r + r^2 P(r), |r| <= 1/3, P fitted to error 3e-8 */
    vf p = vf_set(-0x1.fd814807ac56fp-4f);
    p = vf_fma(p, r, vf_set(0x1.19f0f31d37d15p-3f));
    p = vf_fma(p, r, vf_set(-0x1.f73b1c3d3afdcp-4f));
    p = vf_fma(p, r, vf_set(0x1.1fccec0971b38p-3f));
    p = vf_fma(p, r, vf_set(-0x1.5578e06c8d5d1p-3f));
    p = vf_fma(p, r, vf_set(0x1.99c04430d66a9p-3f));
    p = vf_fma(p, r, vf_set(-0x1.ffffb329f4114p-3f));
    p = vf_fma(p, r, vf_set(0x1.55552b8b17559p-2f));
    p = vf_fma(p, r, vf_set(-0x1.0p-1f));
    vf y = vf_fma(vf_mul(r, r), p, r);
    y = vf_fma(n, vf_set(FT_LN2_LO_F32), y);
    y = vf_fma(n, vf_set(FT_LN2_HI_F32), y);
    /* log(+-0) = -inf, log(x < 0) = NaN, log(inf) = inf, NaN stays NaN */
    y = vf_select(vf_eq(x, vf_set(0.0f)), vf_set(-INFINITY), y);
    y = vf_select(vf_lt(x, vf_set(0.0f)), vf_set(NAN), y);
    y = vf_select(vf_eq(x, vf_set(INFINITY)), x, y);
    return vf_select(vf_isnan(x), x, y);
}

/* tanh(x) = x + x^3 P(x^2) for |x| < 0.625 (P fitted to 1.6e-9); above, sign(x) e / (e + 2) with
 * e = expm1(2|x|), which rounds to 1 beyond |x| = 9.01. */
static inline vf ft_vtanh_f32(vf x) {
    vf a = vf_abs(x);
    vf s = vf_mul(x, x);
    vf p = vf_set(0x1.2c83c001d2709p-9f);
    p = vf_fma(p, s, vf_set(-0x1.116a168e18e77p-7f));
    p = vf_fma(p, s, vf_set(0x1.64a9766b3a952p-6f));
    p = vf_fma(p, s, vf_set(-0x1.ba08c4e66a3c8p-5f));
    p = vf_fma(p, s, vf_set(0x1.1110e919f7ad3p-3f));
    p = vf_fma(p, s, vf_set(-0x1.55555539a3fddp-2f));
    vf small = vf_fma(vf_mul(x, s), p, x);
    vf z = vf_min(vf_set(20.0f), vf_add(a, a)); /* NaN passes */
    vf q;
    vf r = ft_exp_reduce_f32(z, &q);
    vf scale = vf_scale(vf_set(1.0f), q);                                  /* 2^q, q in [0, 29] */
    vf e = vf_fma(scale, ft_exp_poly_f32(r), vf_sub(scale, vf_set(1.0f))); /* 2^q expm1(r) + 2^q - 1 */
    vf large = vf_or(vf_div(e, vf_add(e, vf_set(2.0f))), vf_sign(x));
    return vf_select(vf_lt(a, vf_set(0.625f)), small, large);
}

/* erf(z) = z P(z^2) for |z| < 0.921875; 1 - e^Q(|z|) above, Q ~ log(erfc(a)) (error 1.3e-8) fitted
 * on [0.921875, 4] in t = a - 2.5; erf rounds to +-1 from 3.92 on. */
#define FT_ERF_SMALL_F32 0.921875f
/* P(s) - 1 (fitted error 4e-10): erf(z) = z + z (P - 1) keeps the rounding of 2/sqrt(pi) out */
static inline vf ft_erf_small_poly_f32(vf s) {
    vf p = vf_set(0x1.5fcd12b59fa1ap-14f);
    p = vf_fma(p, s, vf_set(-0x1.ab25e53bbc502p-11f));
    p = vf_fma(p, s, vf_set(0x1.54e22217eb8a3p-8f));
    p = vf_fma(p, s, vf_set(-0x1.b8114ba3bc69cp-6f));
    p = vf_fma(p, s, vf_set(0x1.ce2e2a01d0f5cp-4f));
    p = vf_fma(p, s, vf_set(-0x1.8127436ab2587p-2f));
    return vf_fma(p, s, vf_set(0x1.06eba812cabf4p-3f));
}

/* erfc(a) for a >= 0.921875 (a <= 4: the caller clamps). */
static inline vf ft_erfc_tail_f32(vf a) {
    vf t = vf_sub(a, vf_set(2.5f));
    vf p = vf_set(-0x1.bfb1938b841a7p-25f);
    p = vf_fma(p, t, vf_set(0x1.ac9aacccbddd4p-20f));
    p = vf_fma(p, t, vf_set(-0x1.b558213423caep-17f));
    p = vf_fma(p, t, vf_set(0x1.44ea054c22ec9p-14f));
    p = vf_fma(p, t, vf_set(-0x1.b9106616d4df6p-12f));
    p = vf_fma(p, t, vf_set(0x1.1bc7bf78265c8p-9f));
    p = vf_fma(p, t, vf_set(-0x1.63cd2977bed80p-7f));
    p = vf_fma(p, t, vf_set(-0x1.e34605d288155p-1f));
    p = vf_fma(p, t, vf_set(-0x1.5692523abcf93p+2f));
    p = vf_fma(p, t, vf_set(-0x1.f3a2dc8d4bf7bp+2f));
    return ft_vexp_f32(p);
}

static inline vf ft_verf_f32(vf z) {
    vf a = vf_abs(z);
    vf small = vf_fma(z, ft_erf_small_poly_f32(vf_mul(z, z)), z);
    vf tail = vf_sub(vf_set(1.0f), ft_erfc_tail_f32(vf_min(vf_set(4.0f), a))); /* NaN passes */
    tail = vf_or(tail, vf_sign(z));
    return vf_select(vf_lt(a, vf_set(FT_ERF_SMALL_F32)), small, tail);
}

/* gelu(x) = x Phi(x) with Phi the standard normal CDF, from a table of polynomials: Phi(a) - 1/2
 * for a = |x| in [0, 6) is one degree-5 polynomial per interval of 0.375 (fitted to 4.3e-9), picked
 * per lane by a table lookup; Phi(x) = 1/2 +- that. Past 6, Phi rounds to 0 or 1, as in torch, which
 * also makes gelu(-inf) NaN like torch's (-inf * 0). No exp and no division: a fraction of the
 * cost of erf, at torch's accuracy (its float gelu uses an erf with error 1.5e-7). */
static const float ft_gelu_c5[16] = {0x1.28df966b703b7p-7f, 0x1.bdf7b8409348cp-9f, -0x1.a0ac5655bbcbdp-9f, -0x1.8f8d7204e6decp-8f, -0x1.38980d4d7e153p-8f, -0x1.ce4bdc0d9b1bdp-10f, 0x1.cadc364dceeffp-12f, 0x1.2c329a34cf3c4p-10f, 0x1.e9ef69d11c409p-11f, 0x1.0d8b852aac545p-11f, 0x1.c5a7a4fae52acp-13f, 0x1.322b2dae18d0ap-14f, 0x1.537077e3c135dp-16f, 0x1.397611e519e7dp-18f, 0x1.e69fc07a86bdbp-21f, 0x1.3f7d66ce97512p-23f};
static const float ft_gelu_c4[16] = {0x1.0a1758b719d79p-11f, 0x1.27f60a8508516p-6f, 0x1.8bcaf4fc87d58p-6f, 0x1.1e665824ad91cp-6f, 0x1.6ca48d338a54cp-8f, -0x1.be1574216b8b4p-9f, -0x1.a92031bf30237p-8f, -0x1.666590d21b523p-8f, -0x1.a9591dfbe9c2fp-9f, -0x1.889f09d6a63dfp-10f, -0x1.25644f15b30a7p-11f, -0x1.6a64939238f66p-13f, -0x1.768731d3835fap-15f, -0x1.467958503efb0p-17f, -0x1.e2c0ffa3b4386p-20f, -0x1.2ff6ba3b879f0p-22f};
static const float ft_gelu_c3[16] = {-0x1.10cb2fd1a3494p-4f, -0x1.b6a59047d752bp-5f, -0x1.6b8c237896a5fp-6f, 0x1.31ff6aa69f456p-7f, 0x1.bbc33eaa8d0bdp-6f, 0x1.da8327cd629f9p-6f, 0x1.612b17e3069bbp-6f, 0x1.99a1bd83e4f29p-7f, 0x1.823a581e5689dp-8f, 0x1.2e48c49dfaa96p-9f, 0x1.8d861338722dfp-11f, 0x1.ba8e623b58278p-13f, 0x1.a341b1859f5b1p-15f, 0x1.533c940af8404p-17f, 0x1.d62c723d2ff4ep-20f, 0x1.17a3b3a484f1cp-22f};
static const float ft_gelu_c2[16] = {0x1.541a055cbbc61p-17f, -0x1.1d7b41a52976cp-4f, -0x1.ce7708edc6ee9p-4f, -0x1.e826795d9256bp-4f, -0x1.8dea60fb93829p-4f, -0x1.082ed5042fd7bp-4f, -0x1.248f01df904f5p-5f, -0x1.11a1cfe9abcb6p-6f, -0x1.b3938d5a0bc5ap-8f, -0x1.2872acff74c62p-9f, -0x1.5a304a42c6cb8p-11f, -0x1.5ba77b31810b9p-13f, -0x1.2cbfbcc9d1424p-15f, -0x1.c0d4990e9db7dp-18f, -0x1.212d5a66ffe85p-20f, -0x1.420099be05543p-23f};
static const float ft_gelu_c1[16] = {0x1.98843cdbb9b2cp-2f, 0x1.7cc75e6b63c35p-2f, 0x1.345d34070c017p-2f, 0x1.b1ec548bf9139p-3f, 0x1.0940ad3da2978p-3f, 0x1.19bffefff39bfp-4f, 0x1.04033faac6c2ap-5f, 0x1.a0f258cb40506p-7f, 0x1.227150d7a7c20p-8f, 0x1.5f8de9820c2cfp-10f, 0x1.71b23577a0e08p-12f, 0x1.51c407efa181fp-14f, 0x1.0c1a79edc5ffbp-16f, 0x1.71c55fb21bee2p-19f, 0x1.bb12857775677p-22f, 0x1.cd3d005935387p-25f};
static const float ft_gelu_c0[16] = {0x1.df89437de81a3p-30f, 0x1.2b5b0e8d93d27p-3f, 0x1.17ef000dd6210p-2f, 0x1.7a9413011361cp-2f, 0x1.bb96e48311db1p-2f, 0x1.e0dfc692a9835p-2f, 0x1.f37b6d7701521p-2f, 0x1.fb90464e0743dp-2f, 0x1.fe9e21e479944p-2f, 0x1.ff9f3f9480c3fp-2f, 0x1.ffe8d26ced73dp-2f, 0x1.fffb24063c137p-2f, 0x1.ffff1bfcbc406p-2f, 0x1.ffffdb7d82189p-2f, 0x1.fffffae57ef39p-2f, 0x1.ffffff60a7364p-2f};

static inline vf ft_vgelu_f32(vf x) {
    vf a = vf_min(vf_set(0x1.7ffffep+2f), vf_abs(x)); /* below 6; NaN passes */
    vf k = vf_floor(vf_mul(a, vf_set(1.0f / 0.375f)));
    vfi index = vf_floor_index(k);
    vf u = vf_fnma(k, vf_set(0.375f), a);
    vf p = vf_table16(ft_gelu_c5, index);
    p = vf_fma(p, u, vf_table16(ft_gelu_c4, index));
    p = vf_fma(p, u, vf_table16(ft_gelu_c3, index));
    p = vf_fma(p, u, vf_table16(ft_gelu_c2, index));
    p = vf_fma(p, u, vf_table16(ft_gelu_c1, index));
    p = vf_fma(p, u, vf_table16(ft_gelu_c0, index));
    vf phi = vf_add(vf_set(0.5f), vf_xor(p, vf_sign(x)));
    return vf_mul(x, phi);
}

/* gelu(x, approximate='tanh') = x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3),
 * written x / (1 + e^-2u) (the same number, without the cancellation of 1 + tanh(u) for u < 0). */
static inline vf ft_vgelu_tanh_f32(vf x) {
    vf cube = vf_mul(vf_mul(x, x), x);
    vf u = vf_mul(vf_set(0x1.9884533d43651p-1f), vf_fma(vf_set(0.044715f), cube, x));
    vf e = ft_vexp_f32(vf_mul(vf_set(-2.0f), u));
    return vf_div(x, vf_add(vf_set(1.0f), e));
}

/* ---- float64 ---- */

#define FT_LN2_HI_F64 0x1.62e42fee00000p-1
#define FT_LN2_LO_F64 0x1.a39ef35793c76p-33
#define FT_LOG2E_F64 0x1.71547652b82fep+0

/* expm1(r) - r = r^2 P(r) on |r| <= ln2/2, error 2e-18 */
static inline vd ft_exp_poly_f64(vd r) {
    vd p = vd_set(0x1.1f7861ab0e5c1p-29);
    p = vd_fma(p, r, vd_set(0x1.af574f448311ap-26));
    p = vd_fma(p, r, vd_set(0x1.27e4d8c2b2e6cp-22));
    p = vd_fma(p, r, vd_set(0x1.71ddfd9647581p-19));
    p = vd_fma(p, r, vd_set(0x1.a01a01a7b14bbp-16));
    p = vd_fma(p, r, vd_set(0x1.a01a01ad6369dp-13));
    p = vd_fma(p, r, vd_set(0x1.6c16c16c1613fp-10));
    p = vd_fma(p, r, vd_set(0x1.111111110fe17p-7));
    p = vd_fma(p, r, vd_set(0x1.5555555555556p-5));
    p = vd_fma(p, r, vd_set(0x1.5555555555557p-3));
    p = vd_fma(p, r, vd_set(0x1.0p-1));
    return vd_fma(vd_mul(r, r), p, r);
}

static inline vd ft_exp_reduce_f64(vd x, vd *q) {
    *q = vd_round(vd_mul(x, vd_set(FT_LOG2E_F64)));
    vd r = vd_fnma(*q, vd_set(FT_LN2_HI_F64), x);
    return vd_fnma(*q, vd_set(FT_LN2_LO_F64), r);
}

static inline vd ft_vexp_f64(vd x) {
    x = vd_min(vd_set(710.0), vd_max(vd_set(-746.0), x));
    vd q;
    vd r = ft_exp_reduce_f64(x, &q);
    return vd_scale(vd_add(vd_set(1.0), ft_exp_poly_f64(r)), q);
}

static inline vd ft_vsigmoid_f64(vd x) {
    vd e = ft_vexp_f64(vd_sub(vd_set(0.0), x));
    return vd_div(vd_set(1.0), vd_add(vd_set(1.0), e));
}

/* log1p(f) = f - f^2/2 + s (f^2/2 + s^2 T(s^2)) with s = f / (2 + f) (2 atanh s), |s| <= 0.2. */
static inline vd ft_vlog_f64(vd x) {
    vd n;
    vd m = vd_log_split(x, &n);
    vd f = vd_sub(m, vd_set(1.0));
    vd s = vd_div(f, vd_add(vd_set(2.0), f));
    vd z = vd_mul(s, s);
    vd t = vd_set(0x1.16b68338bd78bp-3);
    t = vd_fma(t, z, vd_set(0x1.0e88ea4725d3dp-3));
    t = vd_fma(t, z, vd_set(0x1.3b29fcbbce66dp-3));
    t = vd_fma(t, z, vd_set(0x1.745cab2727663p-3));
    t = vd_fma(t, z, vd_set(0x1.c71c72e2f78d5p-3));
    t = vd_fma(t, z, vd_set(0x1.24924923dba6ap-2));
    t = vd_fma(t, z, vd_set(0x1.9999999999f30p-2));
    t = vd_fma(t, z, vd_set(0x1.5555555555555p-1));
    vd hfsq = vd_mul(vd_set(0.5), vd_mul(f, f));
    vd low = vd_fma(s, vd_fma(z, t, hfsq), vd_mul(n, vd_set(FT_LN2_LO_F64))); /* s (hfsq + R) + n ln2_lo */
    vd y = vd_add(vd_mul(n, vd_set(FT_LN2_HI_F64)), vd_sub(f, vd_sub(hfsq, low)));
    y = vd_select(vd_eq(x, vd_set(0.0)), vd_set(-INFINITY), y);
    y = vd_select(vd_lt(x, vd_set(0.0)), vd_set(NAN), y);
    y = vd_select(vd_eq(x, vd_set(INFINITY)), x, y);
    return vd_select(vd_isnan(x), x, y);
}

static inline vd ft_vtanh_f64(vd x) {
    vd a = vd_abs(x);
    vd z = vd_min(vd_set(40.0), vd_add(a, a));
    vd q;
    vd r = ft_exp_reduce_f64(z, &q);
    vd scale = vd_scale(vd_set(1.0), q);
    vd e = vd_fma(scale, ft_exp_poly_f64(r), vd_sub(scale, vd_set(1.0)));
    vd t = vd_div(e, vd_add(e, vd_set(2.0)));
    return vd_or(t, vd_sign(x));
}

static inline vd ft_vgelu_tanh_f64(vd x) {
    vd cube = vd_mul(vd_mul(x, x), x);
    vd u = vd_mul(vd_set(0x1.9884533d43651p-1), vd_fma(vd_set(0.044715), cube, x));
    vd e = ft_vexp_f64(vd_mul(vd_set(-2.0), u));
    return vd_div(x, vd_add(vd_set(1.0), e));
}

/* ---- array kernels: out[i] = f(in[i]); out may be in ---- */
#define FT_MATH_ARRAY(fname, T, V, LANES, vload, vstore, vfun)                                         \
    static void FT_MATH_NAME(fname)(int64_t n, T *out, const T *in) {                                   \
        int64_t i = 0;                                                                                  \
        for (; i + LANES <= n; i += LANES) vstore(out + i, vfun(vload(in + i)));                         \
        if (i < n) { /* the tail through the same code, from a zero-padded buffer */                   \
            T buffer[LANES] = {0};                                                                      \
            memcpy(buffer, in + i, (size_t)(n - i) * sizeof(T));                                        \
            vstore(buffer, vfun(vload(buffer)));                                                        \
            memcpy(out + i, buffer, (size_t)(n - i) * sizeof(T));                                       \
        }                                                                                               \
    }
#define FT_MATH_F32(name) FT_MATH_ARRAY(name##_f32, float, vf, FT_VF_LANES, vf_load, vf_store, ft_v##name##_f32)
#define FT_MATH_F64(name) FT_MATH_ARRAY(name##_f64, double, vd, FT_VD_LANES, vd_load, vd_store, ft_v##name##_f64)

FT_MATH_F32(exp)
FT_MATH_F32(log)
FT_MATH_F32(tanh)
FT_MATH_F32(sigmoid)
FT_MATH_F32(erf)
FT_MATH_F32(gelu)
FT_MATH_F32(gelu_tanh)
FT_MATH_F64(exp)
FT_MATH_F64(log)
FT_MATH_F64(tanh)
FT_MATH_F64(sigmoid)
FT_MATH_F64(gelu_tanh)

/* float64 erf and gelu stay on libm (NULL here): no vector version yet. */
#define FT_MATH_TABLE                                                                                   \
    {                                                                                                   \
        .f32 = {[FT_MATH_EXP] = FT_MATH_NAME(exp_f32), [FT_MATH_LOG] = FT_MATH_NAME(log_f32),           \
                [FT_MATH_TANH] = FT_MATH_NAME(tanh_f32), [FT_MATH_SIGMOID] = FT_MATH_NAME(sigmoid_f32),  \
                [FT_MATH_ERF] = FT_MATH_NAME(erf_f32), [FT_MATH_GELU] = FT_MATH_NAME(gelu_f32),          \
                [FT_MATH_GELU_TANH] = FT_MATH_NAME(gelu_tanh_f32)},                                      \
        .f64 = {[FT_MATH_EXP] = FT_MATH_NAME(exp_f64), [FT_MATH_LOG] = FT_MATH_NAME(log_f64),           \
                [FT_MATH_TANH] = FT_MATH_NAME(tanh_f64), [FT_MATH_SIGMOID] = FT_MATH_NAME(sigmoid_f64),  \
                [FT_MATH_GELU_TANH] = FT_MATH_NAME(gelu_tanh_f64)},                                      \
    }
