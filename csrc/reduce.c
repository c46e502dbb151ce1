/* Reductions: sum, prod, mean, extremes (with indices), all/any, counts,
 * var/std, logsumexp and vector norms over an outer/inner box (see ft.h).
 *
 * Every reduction is built from folds. A value fold maps each element and
 * combines with an associative operation (+, *, max, min) into FT_LANES
 * independent lanes, so the compiler vectorises without reassociating a
 * single accumulator. An index fold (argmax/argmin) keeps a (value, index)
 * pair per lane. Each (fold, dtype) pair is a small table of typed kernels
 * (ft_fold_ops, ft_arg_ops); one generic walker drives them in two strategies:
 *
 *  - per output ("one"): for each output, walk its inner box row by row; the
 *    lanes take consecutive elements (element k of a block goes to lane
 *    k % FT_LANES) and are merged pairwise at the end. Used when the reduced
 *    dims are the ones nearest in memory, e.g. sum over the last dim.
 *  - across outputs ("lanes"): when an outer (kept) dim is nearer in memory
 *    than every reduced dim, or the reduced box is tiny, each lane is one
 *    output and a step of the inner walk combines a whole vector of
 *    neighbouring inputs, e.g. sum(dim=0) of a row-major matrix adds rows.
 *
 * Sums are pairwise (cascade) summation: blocks of FT_BLOCK elements (or
 * FT_BLOCK_ROWS lane steps) are summed in lanes, then the block totals are
 * combined as a binary counter, so the rounding error grows with log(n).
 * float32 sums accumulate in double (each lane adds FT_SUB floats in float
 * first, so the loop runs at float speed): torch's own float32 cascade is off
 * the exact sum by up to a few torch.testing tolerances at 1e5+ elements, and
 * an accurate sum keeps our distance to torch no larger than torch's own error.
 *
 * Index folds start every lane at the first element, replace only on strictly
 * better values (NaN beats any number) and merge lanes by value, then by the
 * smaller index: the first extreme (or the first NaN) wins, as in torch.
 * Indices are row-major positions in the inner box in the caller's dim order.
 *
 * The commonest float reductions (sum, mean, amax/amin, max/min, argmax/argmin of
 * a whole contiguous tensor or over its last dim) skip the folds for a fast path
 * of explicit vector kernels split across the thread pool (ft_reduce_fast, below).
 */
#include "ft_internal.h"

#include <stdatomic.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

/* The hot loops are compiled for AVX-512, AVX2 and the x86-64 baseline; the loader
 * picks one for the running CPU (GCC function multiversioning). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FT_HOT_LOOP __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FT_HOT_LOOP
#endif

#define FT_ONE_ISA /* folds that are rarely hot: one build for the baseline ISA */

#define FT_LANES 32
#define FT_LANE_MASK (FT_LANES - 1)
#define FT_BLOCK 2048      /* per-output strategy: elements summed in lanes before a pairwise flush */
#define FT_BLOCK_ROWS 64   /* across-outputs strategy: lane steps summed before a pairwise flush */
#define FT_LEVELS 56       /* binary-counter levels: enough for 2^56 blocks */
#define FT_MAX_ACC 8       /* bytes of the widest accumulator */
#define FT_SUB 8           /* steps combined in the narrow type B before widening */

_Static_assert((FT_LANES & FT_LANE_MASK) == 0, "FT_LANES must be a power of two");
_Static_assert(FT_BLOCK % FT_LANES == 0, "a block must hold whole lane rounds");

/* The inner box after normalisation: innermost dim first, byte strides. */
typedef struct {
    int n_inner;
    int64_t sizes[FT_MAX_DIMS];
    int64_t strides[FT_MAX_DIMS];
    int64_t numel;       /* elements reduced into each output */
    int64_t rows;        /* numel / sizes[0] (0 for an empty box) */
    bool across;         /* strategy: lanes are neighbouring outputs */
    int64_t lane_stride; /* across: bytes between neighbouring outputs' inputs */
} ft_fold_plan;

/* Finished values of up to FT_LANES outputs, as doubles (is_float) or integers. */
typedef struct {
    bool is_float;
    double f[FT_LANES];
    int64_t i[FT_LANES];
    int64_t index[FT_LANES];
} ft_values;

/* Walks the rows of the inner box: `row` is the address of the current row's first element. */
typedef struct {
    int64_t counter[FT_MAX_DIMS];
    const char *row;
} ft_row_walk;

static inline void ft_row_walk_begin(const ft_fold_plan *pl, ft_row_walk *w, const char *base) {
    for (int d = 1; d < pl->n_inner; d++) w->counter[d] = 0;
    w->row = base;
}

/* Advance over inner dims first..n_inner-1 (first = 1 walks rows, 2 walks planes of rows). */
static inline void ft_row_walk_next_from(const ft_fold_plan *pl, ft_row_walk *w, int first) {
    for (int d = first; d < pl->n_inner; d++) {
        w->row += pl->strides[d];
        if (++w->counter[d] < pl->sizes[d]) return;
        w->row -= pl->strides[d] * pl->sizes[d];
        w->counter[d] = 0;
    }
}

static inline void ft_row_walk_next(const ft_fold_plan *pl, ft_row_walk *w) { ft_row_walk_next_from(pl, w, 1); }

/* ---- value folds ---- */
typedef struct {
    size_t in_size, acc_size;
    bool cascade;  /* pairwise flushing (sums) */
    bool is_float; /* results are handed over as doubles */
    /* lanes[j] = IDENTITY for j < count */
    void (*identity)(void *lanes, int count);
    /* `rows` contiguous rows of count (a multiple of FT_LANES) elements, row_stride bytes apart:
     * element k of a row goes to lane k % FT_LANES */
    void (*run)(void *lanes, const char *xs, int64_t count, int64_t rows, int64_t row_stride, double c, double p);
    /* strided: element k (at xp + k*stride) goes to lane (lane0 + k) % FT_LANES */
    void (*strided)(void *lanes, int lane0, const char *xp, int64_t count, int64_t stride, double c, double p);
    /* lanes are outputs: step i adds the FT_LANES contiguous elements at xp + i*step */
    void (*steps)(void *lanes, const char *xp, int64_t steps, int64_t step, const double *cs, double p);
    /* lanes are outputs, w of them lane_stride bytes apart (any strides) */
    void (*gather)(void *lanes, const char *xp, int64_t steps, int64_t step, int64_t w, int64_t lane_stride,
                   const double *cs, double p);
    /* dst[j] = COMBINE(dst[j], src[j]) for j < count */
    void (*merge)(void *dst, const void *src, int count);
    /* lanes[0] = all FT_LANES lanes combined pairwise */
    void (*total)(void *lanes);
    /* hand w accumulators to out (f or i) at position at */
    void (*emit)(const void *acc, int64_t w, ft_values *out, int64_t at);
    /* *result = the fold of one contiguous row of n <= FT_BLOCK elements */
    void (*row)(void *result, const char *xs, int64_t n, double c, double p);
} ft_fold_ops;

/* One step of a hot loop: lane j takes x = LOAD (an expression of j) mapped with centre CENTRE;
 * every FT_SUB steps the narrow partials (part, type B) widen into the accumulators (acc, type A).
 * Expects part, acc, sub and p in scope. */
#define FT_LANE_STEP(T, A, B, IDENTITY, MAP, COMBINE, LOAD, CENTRE)                                          \
    do {                                                                                                     \
        for (int j = 0; j < FT_LANES; j++) {                                                                 \
            const T x = LOAD;                                                                                \
            part[j] = COMBINE(part[j], MAP(x, CENTRE, p));                                                   \
        }                                                                                                    \
        if (++sub == FT_SUB) {                                                                               \
            sub = 0;                                                                                         \
            for (int j = 0; j < FT_LANES; j++) {                                                             \
                acc[j] = COMBINE(acc[j], (A)part[j]);                                                        \
                part[j] = (B)(IDENTITY);                                                                     \
            }                                                                                                \
        }                                                                                                    \
    } while (0)

/* FT_DEFINE_FOLD(NAME, T, A, B, IDENTITY, MAP, COMBINE, CASCADE, IS_FLOAT, TARGETS) defines the kernels of
 * one (fold, dtype) pair and its table NAME. MAP(x, c, p) maps an element x (type T) with a
 * centre c (var, logsumexp) and a parameter p (norms); COMBINE(a, b) is associative with IDENTITY.
 * Lanes accumulate in A; the hot loops first combine FT_SUB steps in B (a narrower type, e.g.
 * float for float32 sums) and widen once, which keeps double accuracy at float speed.
 * TARGETS is FT_HOT_LOOP for folds worth a build per ISA, else empty (FT_ONE_ISA). */
#define FT_DEFINE_FOLD(NAME, T, A, B, IDENTITY, MAP, COMBINE, CASCADE, IS_FLOAT, TARGETS)                    \
    static void NAME##_identity(void *lanes, int count) {                                                    \
        for (int j = 0; j < count; j++) ((A *)lanes)[j] = (IDENTITY);                                        \
    }                                                                                                        \
    TARGETS static void NAME##_run(void *lanes_, const char *xs_, int64_t count, int64_t rows,               \
                                   int64_t row_stride, double c, double p) {                                 \
        (void)c; (void)p;                                                                                    \
        A *restrict lanes = (A *)lanes_;                                                                     \
        A acc[FT_LANES];                                                                                     \
        B part[FT_LANES];                                                                                    \
        for (int j = 0; j < FT_LANES; j++) { acc[j] = lanes[j]; part[j] = (B)(IDENTITY); }                   \
        int sub = 0;                                                                                         \
        for (int64_t r = 0; r < rows; r++) {                                                                 \
            const T *restrict xs = (const T *)(xs_ + r * row_stride);                                        \
            for (int64_t k = 0; k < count; k += FT_LANES)                                                    \
                FT_LANE_STEP(T, A, B, IDENTITY, MAP, COMBINE, xs[k + j], c);                                 \
        }                                                                                                    \
        for (int j = 0; j < FT_LANES; j++) lanes[j] = COMBINE(acc[j], (A)part[j]);                           \
    }                                                                                                        \
    static void NAME##_strided(void *lanes_, int lane0, const char *xp, int64_t count, int64_t stride,       \
                               double c, double p) {                                                         \
        (void)c; (void)p;                                                                                    \
        A *lanes = (A *)lanes_;                                                                              \
        for (int64_t k = 0; k < count; k++) {                                                                \
            const T x = *(const T *)(xp + k * stride);                                                       \
            A *lane = &lanes[(lane0 + k) & FT_LANE_MASK];                                                    \
            *lane = COMBINE(*lane, MAP(x, c, p));                                                            \
        }                                                                                                    \
    }                                                                                                        \
    TARGETS static void NAME##_steps(void *lanes_, const char *xp, int64_t steps, int64_t step,              \
                                     const double *cs, double p) {                                           \
        (void)cs; (void)p;                                                                                   \
        A *restrict lanes = (A *)lanes_;                                                                     \
        A acc[FT_LANES];                                                                                     \
        B part[FT_LANES];                                                                                    \
        for (int j = 0; j < FT_LANES; j++) { acc[j] = lanes[j]; part[j] = (B)(IDENTITY); }                   \
        int sub = 0;                                                                                         \
        for (int64_t i = 0; i < steps; i++) {                                                                \
            const T *restrict xs = (const T *)(xp + i * step);                                               \
            FT_LANE_STEP(T, A, B, IDENTITY, MAP, COMBINE, xs[j], cs[j]);                                     \
        }                                                                                                    \
        for (int j = 0; j < FT_LANES; j++) lanes[j] = COMBINE(acc[j], (A)part[j]);                           \
    }                                                                                                        \
    static void NAME##_gather(void *lanes_, const char *xp, int64_t steps, int64_t step, int64_t w,          \
                              int64_t lane_stride, const double *cs, double p) {                             \
        (void)cs; (void)p;                                                                                   \
        A *lanes = (A *)lanes_;                                                                              \
        for (int64_t i = 0; i < steps; i++)                                                                  \
            for (int64_t j = 0; j < w; j++) {                                                                \
                const T x = *(const T *)(xp + i * step + j * lane_stride);                                   \
                lanes[j] = COMBINE(lanes[j], MAP(x, cs[j], p));                                              \
            }                                                                                                \
    }                                                                                                        \
    static void NAME##_merge(void *dst_, const void *src_, int count) {                                      \
        A *dst = (A *)dst_;                                                                                  \
        const A *src = (const A *)src_;                                                                      \
        for (int j = 0; j < count; j++) dst[j] = COMBINE(dst[j], src[j]);                                    \
    }                                                                                                        \
    static void NAME##_total(void *lanes_) {                                                                 \
        A v[FT_LANES];                                                                                       \
        memcpy(v, lanes_, sizeof v);                                                                         \
        for (int h = FT_LANES / 2; h > 0; h /= 2)                                                            \
            for (int j = 0; j < h; j++) v[j] = COMBINE(v[j], v[j + h]);                                      \
        *(A *)lanes_ = v[0];                                                                                 \
    }                                                                                                        \
    static void NAME##_emit(const void *acc_, int64_t w, ft_values *out, int64_t at) {                       \
        const A *restrict acc = (const A *)acc_;                                                             \
        double *restrict f = out->f + at;                                                                    \
        int64_t *restrict i = out->i + at;                                                                   \
        if (IS_FLOAT) for (int64_t k = 0; k < w; k++) f[k] = (double)acc[k];                                 \
        else for (int64_t k = 0; k < w; k++) i[k] = (int64_t)acc[k];                                         \
    }                                                                                                        \
    /* one contiguous row of n <= FT_BLOCK elements, folded to *result in registers */                       \
    TARGETS static void NAME##_row(void *result, const char *xs_, int64_t n, double c, double p) {           \
        (void)c; (void)p;                                                                                    \
        const T *restrict xs = (const T *)xs_;                                                               \
        A acc[FT_LANES];                                                                                     \
        B part[FT_LANES];                                                                                    \
        for (int j = 0; j < FT_LANES; j++) { acc[j] = (IDENTITY); part[j] = (B)(IDENTITY); }                 \
        int sub = 0;                                                                                         \
        int64_t k = 0;                                                                                       \
        for (; k + FT_LANES <= n; k += FT_LANES) FT_LANE_STEP(T, A, B, IDENTITY, MAP, COMBINE, xs[k + j], c); \
        for (int j = 0; k + j < n; j++) {                                                                    \
            const T x = xs[k + j];                                                                           \
            part[j] = COMBINE(part[j], MAP(x, c, p));                                                        \
        }                                                                                                    \
        for (int j = 0; j < FT_LANES; j++) acc[j] = COMBINE(acc[j], (A)part[j]);                             \
        for (int h = FT_LANES / 2; h > 0; h /= 2)                                                            \
            for (int j = 0; j < h; j++) acc[j] = COMBINE(acc[j], acc[j + h]);                                \
        memcpy(result, acc, sizeof(A));                                                                      \
    }                                                                                                        \
    static const ft_fold_ops NAME = {sizeof(T), sizeof(A), CASCADE, IS_FLOAT, NAME##_identity, NAME##_run,   \
                                     NAME##_strided, NAME##_steps, NAME##_gather, NAME##_merge, NAME##_total, \
                                     NAME##_emit, NAME##_row};

/* Maps and combines. Integer sums and products wrap, so they run on uint64_t. */
#define FT_MAP_WRAP(x, c, p) ((uint64_t)(int64_t)(x))
#define FT_MAP_SELF(x, c, p) (x)
#define FT_MAP_NONZERO(x, c, p) ((int64_t)((x) != 0))
#define FT_MAP_NOT_NAN(x, c, p) ((int64_t)((x) == (x)))
#define FT_MAP_NAN_TO_ZERO(x, c, p) ((x) != (x) ? 0 : (x))
#define FT_MAP_SQUARED_DEVIATION(x, c, p) (((double)(x) - (c)) * ((double)(x) - (c)))
#define FT_MAP_ABS(x, c, p) fabs((double)(x))
#define FT_MAP_SQUARE(x, c, p) ((double)(x) * (double)(x))
#define FT_MAP_ABS_POW(x, c, p) pow(fabs((double)(x)), (p))
#define FT_MAP_ABS_SAME(x, c, p) _Generic((x), float: fabsf, default: fabs)(x)
/* exp(x - c) in the input's precision, as torch computes logsumexp's terms */
#define FT_MAP_EXP_SHIFTED(x, c, p) ((double)_Generic((x), float: expf, default: exp)((x) - (__typeof__(x))(c)))

#define FT_ADD(a, b) ((a) + (b))
#define FT_MUL(a, b) ((a) * (b))
/* NaN-propagating max/min: b replaces a when better or NaN (a NaN a is never replaced). */
#define FT_MAX_NAN(a, b) (((b) > (a) || (b) != (b)) ? (b) : (a))
#define FT_MIN_NAN(a, b) (((b) < (a) || (b) != (b)) ? (b) : (a))

/* Folds of integer dtypes (bool is read as uint8: 0/1 gives every fold the right answer).
 * TARGETS: int8/int16 are rare enough to build for one ISA only. */
#define FT_DEFINE_INTEGER_FOLDS(SUFFIX, T, TMIN, TMAX, TARGETS)                                              \
    FT_DEFINE_FOLD(fold_sum_##SUFFIX, T, uint64_t, uint64_t, 0, FT_MAP_WRAP, FT_ADD, 0, 0, TARGETS)          \
    FT_DEFINE_FOLD(fold_prod_##SUFFIX, T, uint64_t, uint64_t, 1, FT_MAP_WRAP, FT_MUL, 0, 0, FT_ONE_ISA)      \
    FT_DEFINE_FOLD(fold_amax_##SUFFIX, T, T, T, TMIN, FT_MAP_SELF, FT_MAX_NAN, 0, 0, TARGETS)                \
    FT_DEFINE_FOLD(fold_amin_##SUFFIX, T, T, T, TMAX, FT_MAP_SELF, FT_MIN_NAN, 0, 0, TARGETS)                \
    FT_DEFINE_FOLD(fold_nonzero_##SUFFIX, T, int64_t, int64_t, 0, FT_MAP_NONZERO, FT_ADD, 0, 0, TARGETS)

/* Folds of floating dtypes. Sums accumulate in double (in T over FT_SUB steps); products stay
 * in T (float32 products overflow where torch's do); extremes stay in T. */
#define FT_DEFINE_FLOATING_FOLDS(SUFFIX, T)                                                                  \
    FT_DEFINE_FOLD(fold_sum_##SUFFIX, T, double, T, 0, FT_MAP_SELF, FT_ADD, 1, 1, FT_HOT_LOOP)               \
    FT_DEFINE_FOLD(fold_prod_##SUFFIX, T, T, T, 1, FT_MAP_SELF, FT_MUL, 0, 1, FT_ONE_ISA)                    \
    FT_DEFINE_FOLD(fold_amax_##SUFFIX, T, T, T, -INFINITY, FT_MAP_SELF, FT_MAX_NAN, 0, 1, FT_HOT_LOOP)       \
    FT_DEFINE_FOLD(fold_amin_##SUFFIX, T, T, T, INFINITY, FT_MAP_SELF, FT_MIN_NAN, 0, 1, FT_HOT_LOOP)        \
    FT_DEFINE_FOLD(fold_nonzero_##SUFFIX, T, int64_t, int64_t, 0, FT_MAP_NONZERO, FT_ADD, 0, 0, FT_HOT_LOOP) \
    FT_DEFINE_FOLD(fold_nansum_##SUFFIX, T, double, T, 0, FT_MAP_NAN_TO_ZERO, FT_ADD, 1, 1, FT_HOT_LOOP)     \
    FT_DEFINE_FOLD(fold_notnan_##SUFFIX, T, int64_t, int64_t, 0, FT_MAP_NOT_NAN, FT_ADD, 0, 0, FT_ONE_ISA)   \
    FT_DEFINE_FOLD(fold_sqdev_##SUFFIX, T, double, double, 0, FT_MAP_SQUARED_DEVIATION, FT_ADD, 1, 1, FT_HOT_LOOP) \
    FT_DEFINE_FOLD(fold_expsum_##SUFFIX, T, double, double, 0, FT_MAP_EXP_SHIFTED, FT_ADD, 1, 1, FT_ONE_ISA) \
    FT_DEFINE_FOLD(fold_abssum_##SUFFIX, T, double, double, 0, FT_MAP_ABS, FT_ADD, 1, 1, FT_ONE_ISA)         \
    FT_DEFINE_FOLD(fold_sqsum_##SUFFIX, T, double, double, 0, FT_MAP_SQUARE, FT_ADD, 1, 1, FT_HOT_LOOP)      \
    FT_DEFINE_FOLD(fold_powsum_##SUFFIX, T, double, double, 0, FT_MAP_ABS_POW, FT_ADD, 1, 1, FT_ONE_ISA)     \
    FT_DEFINE_FOLD(fold_absmax_##SUFFIX, T, T, T, 0, FT_MAP_ABS_SAME, FT_MAX_NAN, 0, 1, FT_ONE_ISA)          \
    FT_DEFINE_FOLD(fold_absmin_##SUFFIX, T, T, T, INFINITY, FT_MAP_ABS_SAME, FT_MIN_NAN, 0, 1, FT_ONE_ISA)

FT_DEFINE_INTEGER_FOLDS(u8, uint8_t, 0, UINT8_MAX, FT_HOT_LOOP)
FT_DEFINE_INTEGER_FOLDS(i8, int8_t, INT8_MIN, INT8_MAX, FT_ONE_ISA)
FT_DEFINE_INTEGER_FOLDS(i16, int16_t, INT16_MIN, INT16_MAX, FT_ONE_ISA)
FT_DEFINE_INTEGER_FOLDS(i32, int32_t, INT32_MIN, INT32_MAX, FT_HOT_LOOP)
FT_DEFINE_INTEGER_FOLDS(i64, int64_t, INT64_MIN, INT64_MAX, FT_HOT_LOOP)
FT_DEFINE_FLOATING_FOLDS(f32, float)
FT_DEFINE_FLOATING_FOLDS(f64, double)

typedef enum {
    FOLD_SUM = 0, FOLD_PROD, FOLD_AMAX, FOLD_AMIN, FOLD_NONZERO,
    FOLD_NANSUM, FOLD_NOTNAN, FOLD_SQDEV, FOLD_EXPSUM, FOLD_ABSSUM, FOLD_SQSUM, FOLD_POWSUM, FOLD_ABSMAX, FOLD_ABSMIN,
    FOLD_COUNT
} ft_fold_kind;

#define FT_INTEGER_FOLD_ROW(S) {&fold_sum_##S, &fold_prod_##S, &fold_amax_##S, &fold_amin_##S, &fold_nonzero_##S}
#define FT_FLOATING_FOLD_ROW(S)                                                                              \
    {&fold_sum_##S, &fold_prod_##S, &fold_amax_##S, &fold_amin_##S, &fold_nonzero_##S, &fold_nansum_##S,     \
     &fold_notnan_##S, &fold_sqdev_##S, &fold_expsum_##S, &fold_abssum_##S, &fold_sqsum_##S, &fold_powsum_##S, \
     &fold_absmax_##S, &fold_absmin_##S}

/* [dtype][fold]; NULL where the fold needs a floating dtype. */
static const ft_fold_ops *const ft_folds[FT_DTYPE_COUNT][FOLD_COUNT] = {
    [FT_BOOL] = FT_INTEGER_FOLD_ROW(u8),
    [FT_UINT8] = FT_INTEGER_FOLD_ROW(u8),
    [FT_INT8] = FT_INTEGER_FOLD_ROW(i8),
    [FT_INT16] = FT_INTEGER_FOLD_ROW(i16),
    [FT_INT32] = FT_INTEGER_FOLD_ROW(i32),
    [FT_INT64] = FT_INTEGER_FOLD_ROW(i64),
    [FT_FLOAT32] = FT_FLOATING_FOLD_ROW(f32),
    [FT_FLOAT64] = FT_FLOATING_FOLD_ROW(f64),
};

/* Push one block total into the binary counter of pairwise partial sums. */
static void ft_cascade_push(const ft_fold_ops *ops, unsigned char *levels, uint64_t *filled, void *total, int width) {
    const size_t bytes = ops->acc_size * (size_t)width;
    int level = 0;
    for (uint64_t bits = *filled; bits & 1; bits >>= 1, level++)
        ops->merge(total, levels + (size_t)level * bytes, width);
    memcpy(levels + (size_t)level * bytes, total, bytes);
    (*filled)++;
}

static void ft_cascade_finish(const ft_fold_ops *ops, const unsigned char *levels, uint64_t filled, void *total,
                              int width) {
    const size_t bytes = ops->acc_size * (size_t)width;
    for (int level = 0; filled; level++, filled >>= 1)
        if (filled & 1) ops->merge(total, levels + (size_t)level * bytes, width);
}

/* Fold one output's inner box at base; the result is written to out at position k_out.
 * Elements are counted in blocks of FT_BLOCK (pos); element k of a block goes to lane
 * k % FT_LANES. Contiguous rows whose length is a multiple of FT_LANES are folded a
 * plane (many rows) per kernel call. */
static void ft_fold_one(const ft_fold_ops *ops, const ft_fold_plan *pl, const char *base, double c, double p,
                        ft_values *out, int64_t k_out) {
    _Alignas(64) unsigned char lanes[FT_LANES * FT_MAX_ACC];
    _Alignas(64) unsigned char levels[FT_LEVELS * FT_MAX_ACC];
    uint64_t filled = 0;
    int64_t pos = 0;
    const int64_t n = pl->sizes[0], s = pl->strides[0];
    const int64_t rows = pl->n_inner > 1 ? pl->sizes[1] : 1, row_stride = pl->n_inner > 1 ? pl->strides[1] : 0;
    const int64_t planes = pl->numel == 0 ? 0 : pl->rows / rows;
    const bool contiguous = s == (int64_t)ops->in_size;
    const bool whole_rows = contiguous && n % FT_LANES == 0 && n <= FT_BLOCK;
    if (pl->rows == 1 && contiguous && n <= FT_BLOCK) { /* the common case: one short contiguous row */
        ops->row(lanes, base, n, c, p);
        ops->emit(lanes, 1, out, k_out);
        return;
    }
    ops->identity(lanes, FT_LANES);
    ft_row_walk walk;
    ft_row_walk_begin(pl, &walk, base);
    for (int64_t plane = 0; plane < planes; plane++, ft_row_walk_next_from(pl, &walk, 2)) {
        for (int64_t r = 0; r < rows;) {
            const char *row = walk.row + r * row_stride;
            int64_t batch = whole_rows ? (FT_BLOCK - pos) / n : 0;
            if (batch > rows - r) batch = rows - r;
            if (batch > 0) {
                ops->run(lanes, row, n, batch, row_stride, c, p);
                r += batch;
                pos += batch * n;
            } else {
                /* one row, split at block boundaries */
                for (int64_t i = 0; i < n;) {
                    const int64_t m = n - i < FT_BLOCK - pos ? n - i : FT_BLOCK - pos;
                    const char *xp = row + i * s;
                    int64_t k = 0;
                    if (contiguous && m >= 2 * FT_LANES) {
                        k = (FT_LANES - (pos & FT_LANE_MASK)) & FT_LANE_MASK; /* realign to lane 0 */
                        ops->strided(lanes, (int)(pos & FT_LANE_MASK), xp, k, s, c, p);
                        const int64_t whole = (m - k) & ~(int64_t)FT_LANE_MASK;
                        ops->run(lanes, xp + k * s, whole, 1, 0, c, p);
                        k += whole;
                    }
                    if (k < m) ops->strided(lanes, (int)((pos + k) & FT_LANE_MASK), xp + k * s, m - k, s, c, p);
                    i += m;
                    pos += m;
                    if (pos == FT_BLOCK && i < n) {
                        pos = 0;
                        if (ops->cascade) {
                            ops->total(lanes);
                            ft_cascade_push(ops, levels, &filled, lanes, 1);
                            ops->identity(lanes, FT_LANES);
                        }
                    }
                }
                r++;
            }
            if (pos == FT_BLOCK) {
                pos = 0;
                if (ops->cascade) {
                    ops->total(lanes);
                    ft_cascade_push(ops, levels, &filled, lanes, 1);
                    ops->identity(lanes, FT_LANES);
                }
            }
        }
    }
    ops->total(lanes);
    ft_cascade_finish(ops, levels, filled, lanes, 1);
    ops->emit(lanes, 1, out, k_out);
}

/* Fold w outputs whose inputs are lane_stride bytes apart, one lane each. */
static void ft_fold_lanes(const ft_fold_ops *ops, const ft_fold_plan *pl, const char *base, int64_t w,
                          const double *centre, double p, ft_values *out) {
    _Alignas(64) unsigned char lanes[FT_LANES * FT_MAX_ACC];
    _Alignas(64) unsigned char levels[FT_LEVELS * FT_LANES * FT_MAX_ACC];
    static const double no_centre[FT_LANES];
    const double *cs = centre ? centre : no_centre; /* read for lanes < w, or all FT_LANES when w == FT_LANES */
    uint64_t filled = 0;
    int64_t steps = 0;
    const int64_t n = pl->sizes[0], s = pl->strides[0], ls = pl->lane_stride;
    const bool dense = ls == (int64_t)ops->in_size && w == FT_LANES;
    ops->identity(lanes, FT_LANES);
    ft_row_walk walk;
    ft_row_walk_begin(pl, &walk, base);
    for (int64_t r = 0; r < pl->rows; r++, ft_row_walk_next(pl, &walk)) {
        for (int64_t i = 0; i < n;) {
            int64_t m = n - i;
            if (ops->cascade && m > FT_BLOCK_ROWS - steps) m = FT_BLOCK_ROWS - steps;
            const char *xp = walk.row + i * s;
            if (dense) ops->steps(lanes, xp, m, s, cs, p);
            else ops->gather(lanes, xp, m, s, w, ls, cs, p);
            i += m;
            if (ops->cascade && (steps += m) == FT_BLOCK_ROWS) {
                steps = 0;
                ft_cascade_push(ops, levels, &filled, lanes, FT_LANES);
                ops->identity(lanes, FT_LANES);
            }
        }
    }
    ft_cascade_finish(ops, levels, filled, lanes, FT_LANES);
    ops->emit(lanes, w, out, 0);
}

/* ---- index folds (argmax, argmin; values too for max/min) ---- */
typedef struct {
    size_t in_size;
    bool is_float;
    /* every lane takes value *x at index 0 */
    void (*start)(void *best, int64_t *at, const char *x, int64_t w, int64_t lane_stride);
    /* contiguous: element k goes to lane k % FT_LANES with index index0 + k; count is a multiple of FT_LANES */
    void (*run)(void *best, int64_t *at, const char *xs, int64_t count, int64_t index0);
    /* strided: element k (at xp + k*stride) goes to lane k % FT_LANES with index index0 + k */
    void (*strided)(void *best, int64_t *at, const char *xp, int64_t count, int64_t stride, int64_t index0);
    /* lanes are outputs: step i takes the FT_LANES contiguous elements at xp + i*step, index position0 + i */
    void (*steps)(void *best, int64_t *at, const char *xp, int64_t steps, int64_t step, int64_t position0);
    /* lanes are outputs, w of them lane_stride bytes apart */
    void (*gather)(void *best, int64_t *at, const char *xp, int64_t steps, int64_t step, int64_t w,
                   int64_t lane_stride, int64_t position0);
    /* merge FT_LANES lanes into out[k] (value and index) */
    void (*pick)(const void *best, const int64_t *at, ft_values *out, int64_t k);
    /* hand w lanes to out */
    void (*emit)(const void *best, const int64_t *at, int64_t w, ft_values *out);
} ft_arg_ops;

/* BETTER(x, v): x strictly beats v (a NaN beats every number, never another NaN). */
#define FT_BETTER_MAX(x, v) ((x) > (v) || ((x) != (x) && (v) == (v)))
#define FT_BETTER_MIN(x, v) ((x) < (v) || ((x) != (x) && (v) == (v)))

#define FT_DEFINE_ARG_FOLD(NAME, T, BETTER, IS_FLOAT, TARGETS)                                               \
    static void NAME##_start(void *best_, int64_t *at, const char *x, int64_t w, int64_t lane_stride) {      \
        T *best = (T *)best_;                                                                                \
        for (int64_t j = 0; j < w; j++) { best[j] = *(const T *)(x + j * lane_stride); at[j] = 0; }          \
    }                                                                                                        \
    TARGETS static void NAME##_run(void *best_, int64_t *restrict at, const char *xs_, int64_t count,        \
                                       int64_t index0) {                                                     \
        T *restrict best = (T *)best_;                                                                       \
        const T *restrict xs = (const T *)xs_;                                                               \
        for (int64_t k = 0; k < count; k += FT_LANES)                                                        \
            for (int j = 0; j < FT_LANES; j++) {                                                             \
                const T x = xs[k + j];                                                                       \
                const bool better = BETTER(x, best[j]);                                                      \
                best[j] = better ? x : best[j];                                                              \
                at[j] = better ? index0 + k + j : at[j];                                                     \
            }                                                                                                \
    }                                                                                                        \
    static void NAME##_strided(void *best_, int64_t *at, const char *xp, int64_t count, int64_t stride,      \
                               int64_t index0) {                                                             \
        T *best = (T *)best_;                                                                                \
        for (int64_t k = 0; k < count; k++) {                                                                \
            const T x = *(const T *)(xp + k * stride);                                                       \
            const int j = (int)(k & FT_LANE_MASK);                                                           \
            if (BETTER(x, best[j])) { best[j] = x; at[j] = index0 + k; }                                     \
        }                                                                                                    \
    }                                                                                                        \
    TARGETS static void NAME##_steps(void *best_, int64_t *restrict at, const char *xp, int64_t steps,       \
                                         int64_t step, int64_t position0) {                                  \
        T *restrict best = (T *)best_;                                                                       \
        for (int64_t i = 0; i < steps; i++) {                                                                \
            const T *restrict xs = (const T *)(xp + i * step);                                               \
            for (int j = 0; j < FT_LANES; j++) {                                                             \
                const T x = xs[j];                                                                           \
                const bool better = BETTER(x, best[j]);                                                      \
                best[j] = better ? x : best[j];                                                              \
                at[j] = better ? position0 + i : at[j];                                                      \
            }                                                                                                \
        }                                                                                                    \
    }                                                                                                        \
    static void NAME##_gather(void *best_, int64_t *at, const char *xp, int64_t steps, int64_t step,         \
                              int64_t w, int64_t lane_stride, int64_t position0) {                           \
        T *best = (T *)best_;                                                                                \
        for (int64_t i = 0; i < steps; i++)                                                                  \
            for (int64_t j = 0; j < w; j++) {                                                                \
                const T x = *(const T *)(xp + i * step + j * lane_stride);                                   \
                if (BETTER(x, best[j])) { best[j] = x; at[j] = position0 + i; }                              \
            }                                                                                                \
    }                                                                                                        \
    static void NAME##_pick(const void *best_, const int64_t *at, ft_values *out, int64_t k) {               \
        const T *best = (const T *)best_;                                                                    \
        T v = best[0];                                                                                       \
        int64_t idx = at[0];                                                                                 \
        for (int j = 1; j < FT_LANES; j++)                                                                   \
            if (BETTER(best[j], v) || (!BETTER(v, best[j]) && at[j] < idx)) { v = best[j]; idx = at[j]; }    \
        if (IS_FLOAT) out->f[k] = (double)v; else out->i[k] = (int64_t)v;                                    \
        out->index[k] = idx;                                                                                 \
    }                                                                                                        \
    static void NAME##_emit(const void *best_, const int64_t *at, int64_t w, ft_values *out) {               \
        const T *best = (const T *)best_;                                                                    \
        for (int64_t k = 0; k < w; k++) {                                                                    \
            if (IS_FLOAT) out->f[k] = (double)best[k]; else out->i[k] = (int64_t)best[k];                    \
            out->index[k] = at[k];                                                                           \
        }                                                                                                    \
    }                                                                                                        \
    static const ft_arg_ops NAME = {sizeof(T), IS_FLOAT, NAME##_start, NAME##_run, NAME##_strided,           \
                                    NAME##_steps, NAME##_gather, NAME##_pick, NAME##_emit};

#define FT_DEFINE_ARG_FOLDS(SUFFIX, T, IS_FLOAT, TARGETS)                                                    \
    FT_DEFINE_ARG_FOLD(arg_max_##SUFFIX, T, FT_BETTER_MAX, IS_FLOAT, TARGETS)                                \
    FT_DEFINE_ARG_FOLD(arg_min_##SUFFIX, T, FT_BETTER_MIN, IS_FLOAT, TARGETS)

FT_DEFINE_ARG_FOLDS(u8, uint8_t, 0, FT_ONE_ISA)
FT_DEFINE_ARG_FOLDS(i8, int8_t, 0, FT_ONE_ISA)
FT_DEFINE_ARG_FOLDS(i16, int16_t, 0, FT_ONE_ISA)
FT_DEFINE_ARG_FOLDS(i32, int32_t, 0, FT_HOT_LOOP)
FT_DEFINE_ARG_FOLDS(i64, int64_t, 0, FT_HOT_LOOP)
FT_DEFINE_ARG_FOLDS(f32, float, 1, FT_HOT_LOOP)
FT_DEFINE_ARG_FOLDS(f64, double, 1, FT_HOT_LOOP)

/* [dtype][0 = max, 1 = min] */
static const ft_arg_ops *const ft_arg_folds[FT_DTYPE_COUNT][2] = {
    [FT_BOOL] = {&arg_max_u8, &arg_min_u8},
    [FT_UINT8] = {&arg_max_u8, &arg_min_u8},
    [FT_INT8] = {&arg_max_i8, &arg_min_i8},
    [FT_INT16] = {&arg_max_i16, &arg_min_i16},
    [FT_INT32] = {&arg_max_i32, &arg_min_i32},
    [FT_INT64] = {&arg_max_i64, &arg_min_i64},
    [FT_FLOAT32] = {&arg_max_f32, &arg_min_f32},
    [FT_FLOAT64] = {&arg_max_f64, &arg_min_f64},
};

static void ft_arg_fold_one(const ft_arg_ops *ops, const ft_fold_plan *pl, const char *base, ft_values *out,
                            int64_t k_out) {
    _Alignas(64) unsigned char best[FT_LANES * FT_MAX_ACC];
    int64_t at[FT_LANES];
    const int64_t n = pl->sizes[0], s = pl->strides[0];
    ops->start(best, at, base, FT_LANES, 0);
    ft_row_walk walk;
    ft_row_walk_begin(pl, &walk, base);
    for (int64_t r = 0; r < pl->rows; r++, ft_row_walk_next(pl, &walk)) {
        int64_t k = 0;
        if (s == (int64_t)ops->in_size) {
            k = n & ~(int64_t)FT_LANE_MASK;
            ops->run(best, at, walk.row, k, r * n);
        }
        ops->strided(best, at, walk.row + k * s, n - k, s, r * n + k);
    }
    ops->pick(best, at, out, k_out);
}

static void ft_arg_fold_lanes(const ft_arg_ops *ops, const ft_fold_plan *pl, const char *base, int64_t w,
                              ft_values *out) {
    _Alignas(64) unsigned char best[FT_LANES * FT_MAX_ACC];
    int64_t at[FT_LANES];
    const int64_t n = pl->sizes[0], s = pl->strides[0], ls = pl->lane_stride;
    const bool dense = ls == (int64_t)ops->in_size && w == FT_LANES;
    ops->start(best, at, base, w, ls);
    ft_row_walk walk;
    ft_row_walk_begin(pl, &walk, base);
    for (int64_t r = 0; r < pl->rows; r++, ft_row_walk_next(pl, &walk)) {
        if (dense) ops->steps(best, at, walk.row, n, s, r * n);
        else ops->gather(best, at, walk.row, n, s, w, ls, r * n);
    }
    ops->emit(best, at, w, out);
}

/* ---- ops from folds ----
 * A chunk is w <= FT_LANES outputs whose inputs start at base + k*step (strategy "one")
 * or base + k*lane_stride (strategy "across"). */
typedef struct {
    int op;
    int dtype; /* input dtype */
    double param;
    const ft_fold_plan *plan;
    const char *base;
    int64_t w, step;
} ft_chunk;

static void ft_fold(const ft_chunk *ch, int kind, const double *centre, ft_values *out) {
    const ft_fold_ops *ops = ft_folds[ch->dtype][kind];
    out->is_float = ops->is_float;
    if (ch->plan->across) {
        ft_fold_lanes(ops, ch->plan, ch->base, ch->w, centre, ch->param, out);
    } else {
        for (int64_t k = 0; k < ch->w; k++)
            ft_fold_one(ops, ch->plan, ch->base + k * ch->step, centre ? centre[k] : 0.0, ch->param, out, k);
    }
}

static void ft_arg_fold(const ft_chunk *ch, int which, ft_values *out) {
    const ft_arg_ops *ops = ft_arg_folds[ch->dtype][which];
    out->is_float = ops->is_float;
    if (ch->plan->across) {
        ft_arg_fold_lanes(ops, ch->plan, ch->base, ch->w, out);
    } else {
        for (int64_t k = 0; k < ch->w; k++) ft_arg_fold_one(ops, ch->plan, ch->base + k * ch->step, out, k);
    }
}

/* a / b in the input's floating precision, as torch's sum(...).div_(n) computes it */
static inline double ft_div_in(int dtype, double a, double b) {
    return dtype == FT_FLOAT32 ? (double)((float)a / (float)b) : a / b;
}

static void ft_reduce_chunk(const ft_chunk *ch, ft_values *res) {
    const int64_t w = ch->w, n = ch->plan->numel;
    const bool floating = ft_is_floating(ch->dtype);
    ft_values aux;
    double centre[FT_LANES];
    switch (ch->op) {
    case FT_REDUCE_SUM: ft_fold(ch, FOLD_SUM, NULL, res); break;
    case FT_REDUCE_NANSUM: ft_fold(ch, floating ? FOLD_NANSUM : FOLD_SUM, NULL, res); break;
    case FT_REDUCE_PROD: ft_fold(ch, FOLD_PROD, NULL, res); break;
    case FT_REDUCE_AMAX: ft_fold(ch, FOLD_AMAX, NULL, res); break;
    case FT_REDUCE_AMIN: ft_fold(ch, FOLD_AMIN, NULL, res); break;
    case FT_REDUCE_COUNT_NONZERO: ft_fold(ch, FOLD_NONZERO, NULL, res); break;
    case FT_REDUCE_ALL:
    case FT_REDUCE_ANY:
        ft_fold(ch, FOLD_NONZERO, NULL, res);
        for (int64_t k = 0; k < w; k++) res->i[k] = ch->op == FT_REDUCE_ALL ? res->i[k] == n : res->i[k] > 0;
        break;
    case FT_REDUCE_MAX: case FT_REDUCE_ARGMAX: ft_arg_fold(ch, 0, res); break;
    case FT_REDUCE_MIN: case FT_REDUCE_ARGMIN: ft_arg_fold(ch, 1, res); break;
    case FT_REDUCE_MEAN:
        ft_fold(ch, FOLD_SUM, NULL, res);
        for (int64_t k = 0; k < w; k++) res->f[k] = ft_div_in(ch->dtype, res->f[k], (double)n);
        break;
    case FT_REDUCE_NANMEAN:
        ft_fold(ch, FOLD_NANSUM, NULL, res);
        ft_fold(ch, FOLD_NOTNAN, NULL, &aux);
        for (int64_t k = 0; k < w; k++) res->f[k] = ft_div_in(ch->dtype, res->f[k], (double)aux.i[k]);
        break;
    case FT_REDUCE_VAR:
    case FT_REDUCE_STD: {
        /* two passes in double: the mean, then squared deviations from it; divisor max(n - correction, 0) */
        const double divisor = (double)n > ch->param ? (double)n - ch->param : 0.0;
        ft_fold(ch, FOLD_SUM, NULL, &aux);
        for (int64_t k = 0; k < w; k++) centre[k] = aux.f[k] / (double)n;
        ft_fold(ch, FOLD_SQDEV, centre, res);
        for (int64_t k = 0; k < w; k++) {
            const double var = res->f[k] / divisor;
            res->f[k] = ch->op == FT_REDUCE_STD ? sqrt(var) : var;
        }
        break;
    }
    case FT_REDUCE_LOGSUMEXP:
        /* torch: m = amax (0 where infinite); log(sum(exp(x - m))) + m; an empty box gives log(0) = -inf */
        if (n == 0) {
            res->is_float = true;
            for (int64_t k = 0; k < w; k++) res->f[k] = -INFINITY;
            break;
        }
        ft_fold(ch, FOLD_AMAX, NULL, &aux);
        for (int64_t k = 0; k < w; k++) centre[k] = isinf(aux.f[k]) ? 0.0 : aux.f[k];
        ft_fold(ch, FOLD_EXPSUM, centre, res);
        for (int64_t k = 0; k < w; k++)
            res->f[k] = ch->dtype == FT_FLOAT32 ? (double)((float)log(res->f[k]) + (float)centre[k])
                                                : log(res->f[k]) + centre[k];
        break;
    case FT_REDUCE_NORM: {
        const double p = ch->param;
        if (p == 2.0) {
            ft_fold(ch, FOLD_SQSUM, NULL, res);
            for (int64_t k = 0; k < w; k++) res->f[k] = sqrt(res->f[k]);
        } else if (p == 1.0) {
            ft_fold(ch, FOLD_ABSSUM, NULL, res);
        } else if (p == INFINITY) {
            ft_fold(ch, FOLD_ABSMAX, NULL, res);
        } else if (p == -INFINITY) {
            ft_fold(ch, FOLD_ABSMIN, NULL, res);
        } else if (p == 0.0) {
            ft_fold(ch, FOLD_NONZERO, NULL, res);
            res->is_float = true;
            for (int64_t k = 0; k < w; k++) res->f[k] = (double)res->i[k];
        } else {
            ft_fold(ch, FOLD_POWSUM, NULL, res);
            for (int64_t k = 0; k < w; k++) res->f[k] = pow(res->f[k], 1.0 / p);
        }
        break;
    }
    default: break; /* rejected by ft_reduce */
    }
}

/* Write w finished values to out (element stride `stride` bytes), converted to dtype. */
#define FT_STORE_AS(D, NAME)                                                                                 \
    do {                                                                                                     \
        if (stride == (int64_t)sizeof(D)) {                                                                  \
            D *restrict o = (D *)out;                                                                        \
            if (res->is_float) for (int64_t k = 0; k < w; k++) o[k] = FT_CONVERT(NAME, res->f[k]);           \
            else for (int64_t k = 0; k < w; k++) o[k] = FT_CONVERT(NAME, res->i[k]);                         \
            break;                                                                                           \
        }                                                                                                    \
        if (res->is_float) for (int64_t k = 0; k < w; k++) *(D *)(out + k * stride) = FT_CONVERT(NAME, res->f[k]); \
        else for (int64_t k = 0; k < w; k++) *(D *)(out + k * stride) = FT_CONVERT(NAME, res->i[k]);         \
    } while (0)

static void ft_store_values(int dtype, char *out, int64_t stride, const ft_values *res, int64_t w) {
    switch (dtype) {
    case FT_BOOL: FT_STORE_AS(uint8_t, boolean); break;
    case FT_UINT8: FT_STORE_AS(uint8_t, uint8); break;
    case FT_INT8: FT_STORE_AS(int8_t, int8); break;
    case FT_INT16: FT_STORE_AS(int16_t, int16); break;
    case FT_INT32: FT_STORE_AS(int32_t, int32); break;
    case FT_INT64: FT_STORE_AS(int64_t, int64); break;
    case FT_FLOAT32: FT_STORE_AS(float, float32); break;
    case FT_FLOAT64: FT_STORE_AS(double, float64); break;
    default: break;
    }
}

static const char *const ft_reduce_names[] = {
    "sum", "prod", "mean", "amax", "amin", "max", "min", "argmax", "argmin", "all", "any",
    "var", "std", "logsumexp", "norm", "nansum", "nanmean", "count_nonzero",
};
_Static_assert(sizeof ft_reduce_names / sizeof ft_reduce_names[0] == FT_REDUCE_COUNT, "reduce name table out of date");

static bool ft_reduce_has_index(int op) {
    return op == FT_REDUCE_MAX || op == FT_REDUCE_MIN || op == FT_REDUCE_ARGMAX || op == FT_REDUCE_ARGMIN;
}

static bool ft_reduce_floating_only(int op) {
    return op == FT_REDUCE_MEAN || op == FT_REDUCE_VAR || op == FT_REDUCE_STD || op == FT_REDUCE_LOGSUMEXP ||
           op == FT_REDUCE_NORM || op == FT_REDUCE_NANMEAN;
}

static int64_t ft_abs64(int64_t v) { return v < 0 ? -v : v; }

/* Normalise the inner box: drop size-1 dims; value reductions may reorder dims by
 * stride (any order gives the same result up to rounding); index reductions keep the
 * caller's order so positions stay row-major. Then merge dims that are contiguous. */
static void ft_plan_inner(ft_fold_plan *pl, int n_inner, const int64_t *sizes, const int64_t *strides,
                          size_t itemsize, bool keep_order) {
    int64_t sz[FT_MAX_DIMS], st[FT_MAX_DIMS];
    int n = 0;
    pl->numel = 1;
    for (int d = 0; d < n_inner; d++) { /* outermost first */
        pl->numel *= sizes[d];
        if (sizes[d] == 1) continue;
        sz[n] = sizes[d];
        st[n] = strides[d] * (int64_t)itemsize;
        n++;
    }
    if (!keep_order) { /* stable insertion sort by |stride|, largest (outermost) first */
        for (int i = 1; i < n; i++) {
            const int64_t ks = sz[i], kt = st[i];
            int j = i - 1;
            while (j >= 0 && ft_abs64(st[j]) < ft_abs64(kt)) { sz[j + 1] = sz[j]; st[j + 1] = st[j]; j--; }
            sz[j + 1] = ks;
            st[j + 1] = kt;
        }
    }
    /* innermost first, merging dim d into the current innermost run when they are contiguous */
    int m = 0;
    for (int d = n - 1; d >= 0; d--) {
        if (m > 0 && st[d] == pl->strides[m - 1] * pl->sizes[m - 1]) {
            pl->sizes[m - 1] *= sz[d];
            continue;
        }
        pl->sizes[m] = sz[d];
        pl->strides[m] = st[d];
        m++;
    }
    if (m == 0) {
        pl->sizes[0] = 1;
        pl->strides[0] = 0;
        m = 1;
    }
    pl->n_inner = m;
    pl->rows = pl->numel == 0 ? 0 : pl->numel / pl->sizes[0];
}

/* ---- the fast path: floating sums, means and extremes over contiguous rows ----
 * The commonest reductions, a whole contiguous tensor or its last dim, reduce rows of
 * contiguous elements. They run explicit vector kernels (GCC vector extensions, built per
 * ISA like the folds above) with several independent accumulators, and split across the
 * thread pool: a long row is cut into pieces whose boundaries depend only on its length,
 * each piece is reduced on its own, and the piece results are combined in order (sums
 * pairwise), so the result does not depend on the thread count.
 *
 * float32 sums add FT_FAST_SUB vectors per accumulator in float, then widen into double
 * accumulators (the accuracy argument of the folds above); float64 sums run in double.
 * Extremes compare with a strict "better" so each lane keeps its first extreme; lanes
 * merge by value, then by the smaller index. A piece holding a NaN is rescanned in scalar
 * code for its first NaN, which wins (torch propagates NaN and argmax points at it).
 *
 * Kernels per ISA: GCC lowers a vector compare wider than the target's registers to scalar
 * code (so target_clones of one 64-byte source would not do), hence one build per vector
 * width: 64 bytes for AVX-512, 32 for AVX2, 16 for the SSE2 baseline, chosen by the SIMD
 * level (ft_simd_level, shared with the elementwise kernels). */
#define FT_FAST_ACC 8        /* independent vector accumulators in the sum kernels */
#define FT_FAST_WIDE 4       /* double accumulator pairs the float32 sums widen into */
#define FT_FAST_SUB 16        /* float32 sums: vector steps added in float before widening */
#define FT_FAST_PIECE 8192   /* elements of a row piece reduced as one task (at least) */
#define FT_FAST_SPLIT 128    /* pieces a long row is cut into */
#define FT_FAST_PIECES 1024  /* most pieces per row (the partials buffer) */
#define FT_FAST_GRAIN 32768  /* elements below which a task is not split further across threads */

typedef struct {
    double (*sum_f32)(const float *x, int64_t n);
    double (*sum_f64)(const double *x, int64_t n);
    float (*max_f32)(const float *x, int64_t n, int *nan);
    float (*min_f32)(const float *x, int64_t n, int *nan);
    double (*max_f64)(const double *x, int64_t n, int *nan);
    double (*min_f64)(const double *x, int64_t n, int *nan);
    float (*argmax_f32)(const float *x, int64_t n, int64_t *index, int *nan);
    float (*argmin_f32)(const float *x, int64_t n, int64_t *index, int *nan);
    double (*argmax_f64)(const double *x, int64_t n, int64_t *index, int *nan);
    double (*argmin_f64)(const double *x, int64_t n, int64_t *index, int *nan);
} ft_fast_kernels;

/* Extreme value of n >= 1 contiguous elements (BETTER: > or <); *nan set when one was seen
 * (the value is then meaningless). V vectors of LANES elements, M the matching mask vector. */
#define FT_DEFINE_FAST_EXTREME(NAME, TARGET, T, V, VU, M, LANES, BETTER, VBETTER)                            \
    TARGET static T NAME(const T *x, int64_t n, int *nan) {                                                  \
        T best = x[0];                                                                                       \
        int64_t i = 0;                                                                                       \
        if (n >= LANES) {                                                                                    \
            V acc[4];                                                                                        \
            M bad[4]; /* one NaN flag per accumulator: no chain across them */                              \
            for (int u = 0; u < 4; u++) {                                                                    \
                acc[u] = *(const VU *)x;                                                                     \
                bad[u] = ~(acc[u] == acc[u]);                                                                \
            }                                                                                                \
            for (; i + 4 * LANES <= n; i += 4 * LANES)                                                       \
                for (int u = 0; u < 4; u++) {                                                                \
                    const V v = *(const VU *)(x + i + u * LANES);                                            \
                    acc[u] = (V)VBETTER(v, acc[u]); /* v if strictly better, else acc (NaN: acc) */          \
                    bad[u] |= ~(v == v);                                                                     \
                }                                                                                            \
            for (; i + LANES <= n; i += LANES) {                                                             \
                const V v = *(const VU *)(x + i);                                                            \
                acc[0] = (V)VBETTER(v, acc[0]);                                                              \
                bad[0] |= ~(v == v);                                                                         \
            }                                                                                                \
            for (int u = 1; u < 4; u++) {                                                                    \
                const M take = acc[u] BETTER acc[0];                                                         \
                acc[0] = (V)((take & (M)acc[u]) | (~take & (M)acc[0]));                                      \
                bad[0] |= bad[u];                                                                            \
            }                                                                                                \
            T lanes[LANES];                                                                                  \
            M flags[1] = {bad[0]};                                                                           \
            memcpy(lanes, &acc[0], sizeof lanes);                                                            \
            for (int j = 0; j < LANES; j++) {                                                                \
                if (flags[0][j]) { *nan = 1; return best; }                                                  \
                if (lanes[j] BETTER best) best = lanes[j];                                                   \
            }                                                                                                \
        }                                                                                                    \
        for (; i < n; i++) {                                                                                 \
            if (x[i] != x[i]) { *nan = 1; return best; }                                                     \
            if (x[i] BETTER best) best = x[i];                                                               \
        }                                                                                                    \
        return best;                                                                                         \
    }

/* Extreme value and the index of its first occurrence in n >= 1 contiguous elements (float32
 * pieces stay below 2^31 elements: lane indices are int32). *nan set when one was seen. Two sets
 * of (value, index) vectors; M is the mask and index vector type. */
#define FT_DEFINE_FAST_ARG(NAME, TARGET, T, V, VU, M, LANES, BETTER)                                         \
    TARGET static T NAME(const T *x, int64_t n, int64_t *index, int *nan) {                                  \
        T best = x[0];                                                                                       \
        int64_t at = 0, i = 0;                                                                               \
        if (n >= 2 * LANES) {                                                                                \
            V val0 = *(const VU *)x, val1 = *(const VU *)(x + LANES);                                        \
            M lane, step, bad0 = ~(val0 == val0), bad1 = ~(val1 == val1);                                    \
            for (int j = 0; j < LANES; j++) { lane[j] = j; step[j] = 2 * LANES; }                            \
            M pos0 = lane, pos1 = lane + LANES, here0 = lane + 2 * LANES, here1 = lane + 3 * LANES;          \
            for (i = 2 * LANES; i + 2 * LANES <= n; i += 2 * LANES) {                                        \
                const V v0 = *(const VU *)(x + i), v1 = *(const VU *)(x + i + LANES);                        \
                const M t0 = v0 BETTER val0, t1 = v1 BETTER val1;                                            \
                val0 = (V)((t0 & (M)v0) | (~t0 & (M)val0));                                                 \
                val1 = (V)((t1 & (M)v1) | (~t1 & (M)val1));                                                 \
                pos0 = (t0 & here0) | (~t0 & pos0);                                                          \
                pos1 = (t1 & here1) | (~t1 & pos1);                                                          \
                bad0 |= ~(v0 == v0);                                                                         \
                bad1 |= ~(v1 == v1);                                                                         \
                here0 += step;                                                                               \
                here1 += step;                                                                               \
            }                                                                                                \
            if (i + LANES <= n) { /* one more vector into the first set */                                  \
                const V v0 = *(const VU *)(x + i);                                                           \
                const M t0 = v0 BETTER val0;                                                                 \
                val0 = (V)((t0 & (M)v0) | (~t0 & (M)val0));                                                 \
                pos0 = (t0 & here0) | (~t0 & pos0);                                                          \
                bad0 |= ~(v0 == v0);                                                                         \
                i += LANES;                                                                                  \
            }                                                                                                \
            /* merge the sets lane by lane: the better value, or on a tie the earlier position */           \
            const M t1 = (val1 BETTER val0) | ((val1 == val0) & (pos1 < pos0));                              \
            val0 = (V)((t1 & (M)val1) | (~t1 & (M)val0));                                                   \
            pos0 = (t1 & pos1) | (~t1 & pos0);                                                               \
            T vals[LANES];                                                                                   \
            M pos[1] = {pos0}, flags[1] = {bad0 | bad1};                                                     \
            memcpy(vals, &val0, sizeof vals);                                                                \
            for (int j = 0; j < LANES; j++) {                                                                \
                if (flags[0][j]) { *nan = 1; return best; }                                                  \
                const T v = vals[j];                                                                         \
                const int64_t p = (int64_t)pos[0][j];                                                        \
                if (v BETTER best || (v == best && p < at)) { best = v; at = p; }                            \
            }                                                                                                \
        }                                                                                                    \
        for (; i < n; i++) {                                                                                 \
            if (x[i] != x[i]) { *nan = 1; return best; }                                                     \
            if (x[i] BETTER best) { best = x[i]; at = i; }                                                   \
        }                                                                                                    \
        *index = at;                                                                                         \
        return best;                                                                                         \
    }

/* The kernels of one ISA: BYTES-wide vectors; LO/HI list the lane indices of each half of a
 * float vector (for widening to double). */
#define FT_DEFINE_FAST_KERNELS(ISA, TARGET, BYTES, LO, HI, MAXPS, MINPS, MAXPD, MINPD)                       \
    typedef float ft_f32v_##ISA __attribute__((vector_size(BYTES)));                                        \
    typedef double ft_f64v_##ISA __attribute__((vector_size(BYTES)));                                       \
    typedef int32_t ft_i32v_##ISA __attribute__((vector_size(BYTES)));                                      \
    typedef int64_t ft_i64v_##ISA __attribute__((vector_size(BYTES)));                                      \
    typedef float ft_f32u_##ISA __attribute__((vector_size(BYTES), aligned(4), may_alias));                 \
    typedef double ft_f64u_##ISA __attribute__((vector_size(BYTES), aligned(8), may_alias));                \
    /* sum of n contiguous floats: float partials over FT_FAST_SUB steps, widened into doubles */          \
    TARGET static double ft_fast_sum_f32_##ISA(const float *x, int64_t n) {                                  \
        enum { L = BYTES / 4 };                                                                              \
        if (n < L * FT_FAST_ACC * FT_FAST_SUB) {                                                             \
            /* a short row (under one block): four float accumulators, each lane adding at most             \
             * FT_FAST_ACC * FT_FAST_SUB / 4 elements, widened once; no arrays, so no setup cost */          \
            typedef ft_f32v_##ISA V;                                                                         \
            typedef ft_f32u_##ISA VU;                                                                        \
            V a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};                                                        \
            int64_t i = 0;                                                                                   \
            for (; i + 4 * L <= n; i += 4 * L) {                                                             \
                a0 += *(const VU *)(x + i);                                                                  \
                a1 += *(const VU *)(x + i + L);                                                              \
                a2 += *(const VU *)(x + i + 2 * L);                                                          \
                a3 += *(const VU *)(x + i + 3 * L);                                                          \
            }                                                                                                \
            for (; i + L <= n; i += L) a0 += *(const VU *)(x + i);                                           \
            double rest = 0;                                                                                 \
            for (; i < n; i++) rest += (double)x[i];                                                         \
            const ft_f64v_##ISA w = (__builtin_convertvector(__builtin_shufflevector(a0, a0, LO), ft_f64v_##ISA) + \
                                     __builtin_convertvector(__builtin_shufflevector(a0, a0, HI), ft_f64v_##ISA)) + \
                                    (__builtin_convertvector(__builtin_shufflevector(a1, a1, LO), ft_f64v_##ISA) + \
                                     __builtin_convertvector(__builtin_shufflevector(a1, a1, HI), ft_f64v_##ISA)) + \
                                    ((__builtin_convertvector(__builtin_shufflevector(a2, a2, LO), ft_f64v_##ISA) + \
                                      __builtin_convertvector(__builtin_shufflevector(a2, a2, HI), ft_f64v_##ISA)) + \
                                     (__builtin_convertvector(__builtin_shufflevector(a3, a3, LO), ft_f64v_##ISA) + \
                                      __builtin_convertvector(__builtin_shufflevector(a3, a3, HI), ft_f64v_##ISA))); \
            double lanes[L / 2];                                                                             \
            memcpy(lanes, &w, sizeof lanes);                                                                 \
            for (int h = L / 4; h > 0; h /= 2)                                                               \
                for (int j = 0; j < h; j++) lanes[j] += lanes[j + h];                                        \
            return lanes[0] + rest;                                                                          \
        }                                                                                                    \
        ft_f64v_##ISA wide[FT_FAST_WIDE][2] = {{{0}}};                                                       \
        int64_t i = 0;                                                                                       \
        for (; i + L * FT_FAST_ACC * FT_FAST_SUB <= n; i += L * FT_FAST_ACC * FT_FAST_SUB) {                 \
            ft_f32v_##ISA acc[FT_FAST_ACC] = {{0}};                                                          \
            for (int s = 0; s < FT_FAST_SUB; s++)                                                            \
                for (int u = 0; u < FT_FAST_ACC; u++)                                                        \
                    acc[u] += *(const ft_f32u_##ISA *)(x + i + (s * FT_FAST_ACC + u) * L);                   \
            for (int u = 0; u < FT_FAST_ACC; u++) {                                                          \
                wide[u % FT_FAST_WIDE][0] += __builtin_convertvector(__builtin_shufflevector(acc[u], acc[u], LO), ft_f64v_##ISA); \
                wide[u % FT_FAST_WIDE][1] += __builtin_convertvector(__builtin_shufflevector(acc[u], acc[u], HI), ft_f64v_##ISA); \
            }                                                                                                \
        }                                                                                                    \
        if (i + L <= n) { /* the tail (under one block): whole vectors over the accumulators in turn */     \
            ft_f32v_##ISA acc[FT_FAST_ACC] = {{0}};                                                          \
            for (; i + L * FT_FAST_ACC <= n; i += L * FT_FAST_ACC)                                           \
                for (int u = 0; u < FT_FAST_ACC; u++) acc[u] += *(const ft_f32u_##ISA *)(x + i + u * L);     \
            for (int u = 0; u < FT_FAST_ACC - 1; u++) /* constant indices keep acc in registers */          \
                if (i + L <= n) {                                                                            \
                    acc[u] += *(const ft_f32u_##ISA *)(x + i);                                               \
                    i += L;                                                                                  \
                }                                                                                            \
            for (int u = 0; u < FT_FAST_ACC; u++) {                                                          \
                wide[u % FT_FAST_WIDE][0] += __builtin_convertvector(__builtin_shufflevector(acc[u], acc[u], LO), ft_f64v_##ISA); \
                wide[u % FT_FAST_WIDE][1] += __builtin_convertvector(__builtin_shufflevector(acc[u], acc[u], HI), ft_f64v_##ISA); \
            }                                                                                                \
        }                                                                                                    \
        double rest = 0;                                                                                     \
        for (; i < n; i++) rest += (double)x[i];                                                             \
        ft_f64v_##ISA t = wide[0][0] + wide[0][1];                                                           \
        for (int u = 1; u < FT_FAST_WIDE; u++) t += wide[u][0] + wide[u][1];                                 \
        double lanes[L / 2];                                                                                 \
        memcpy(lanes, &t, sizeof lanes);                                                                     \
        for (int h = L / 4; h > 0; h /= 2)                                                                   \
            for (int j = 0; j < h; j++) lanes[j] += lanes[j + h];                                            \
        return lanes[0] + rest;                                                                              \
    }                                                                                                        \
    TARGET static double ft_fast_sum_f64_##ISA(const double *x, int64_t n) {                                 \
        enum { L = BYTES / 8 };                                                                              \
        ft_f64v_##ISA acc[FT_FAST_ACC] = {{0}};                                                              \
        int64_t i = 0;                                                                                       \
        for (; i + L * FT_FAST_ACC <= n; i += L * FT_FAST_ACC)                                               \
            for (int u = 0; u < FT_FAST_ACC; u++) acc[u] += *(const ft_f64u_##ISA *)(x + i + u * L);         \
        for (; i + L <= n; i += L) acc[0] += *(const ft_f64u_##ISA *)(x + i);                                \
        double rest = 0;                                                                                     \
        for (; i < n; i++) rest += x[i];                                                                     \
        for (int h = FT_FAST_ACC / 2; h > 0; h /= 2)                                                         \
            for (int u = 0; u < h; u++) acc[u] += acc[u + h];                                                \
        double lanes[L];                                                                                     \
        memcpy(lanes, &acc[0], sizeof lanes);                                                                \
        for (int h = L / 2; h > 0; h /= 2)                                                                   \
            for (int j = 0; j < h; j++) lanes[j] += lanes[j + h];                                            \
        return lanes[0] + rest;                                                                              \
    }                                                                                                        \
    FT_DEFINE_FAST_EXTREME(ft_fast_max_f32_##ISA, TARGET, float, ft_f32v_##ISA, ft_f32u_##ISA, ft_i32v_##ISA, BYTES / 4, >, MAXPS) \
    FT_DEFINE_FAST_EXTREME(ft_fast_min_f32_##ISA, TARGET, float, ft_f32v_##ISA, ft_f32u_##ISA, ft_i32v_##ISA, BYTES / 4, <, MINPS) \
    FT_DEFINE_FAST_EXTREME(ft_fast_max_f64_##ISA, TARGET, double, ft_f64v_##ISA, ft_f64u_##ISA, ft_i64v_##ISA, BYTES / 8, >, MAXPD) \
    FT_DEFINE_FAST_EXTREME(ft_fast_min_f64_##ISA, TARGET, double, ft_f64v_##ISA, ft_f64u_##ISA, ft_i64v_##ISA, BYTES / 8, <, MINPD) \
    FT_DEFINE_FAST_ARG(ft_fast_argmax_f32_##ISA, TARGET, float, ft_f32v_##ISA, ft_f32u_##ISA, ft_i32v_##ISA, BYTES / 4, >) \
    FT_DEFINE_FAST_ARG(ft_fast_argmin_f32_##ISA, TARGET, float, ft_f32v_##ISA, ft_f32u_##ISA, ft_i32v_##ISA, BYTES / 4, <) \
    FT_DEFINE_FAST_ARG(ft_fast_argmax_f64_##ISA, TARGET, double, ft_f64v_##ISA, ft_f64u_##ISA, ft_i64v_##ISA, BYTES / 8, >) \
    FT_DEFINE_FAST_ARG(ft_fast_argmin_f64_##ISA, TARGET, double, ft_f64v_##ISA, ft_f64u_##ISA, ft_i64v_##ISA, BYTES / 8, <) \
    static const ft_fast_kernels ft_fast_##ISA = {                                                           \
        ft_fast_sum_f32_##ISA, ft_fast_sum_f64_##ISA, ft_fast_max_f32_##ISA, ft_fast_min_f32_##ISA,          \
        ft_fast_max_f64_##ISA, ft_fast_min_f64_##ISA, ft_fast_argmax_f32_##ISA, ft_fast_argmin_f32_##ISA,    \
        ft_fast_argmax_f64_##ISA, ft_fast_argmin_f64_##ISA};

#define FT_LANES_LO16 0, 1, 2, 3, 4, 5, 6, 7
#define FT_LANES_HI16 8, 9, 10, 11, 12, 13, 14, 15
#define FT_LANES_LO8 0, 1, 2, 3
#define FT_LANES_HI8 4, 5, 6, 7
#define FT_LANES_LO4 0, 1
#define FT_LANES_HI4 2, 3

/* VBETTER(v, acc): v where it is strictly better than acc, else acc (a NaN v leaves acc; NaN is
 * tracked apart): x86's max/min instructions return their second operand on ties and NaN. */
#if defined(__x86_64__) && defined(__GNUC__)
FT_DEFINE_FAST_KERNELS(base, , 16, FT_LANES_LO4, FT_LANES_HI4, _mm_max_ps, _mm_min_ps, _mm_max_pd, _mm_min_pd)
FT_DEFINE_FAST_KERNELS(avx2, __attribute__((target("avx2"))), 32, FT_LANES_LO8, FT_LANES_HI8, _mm256_max_ps,
                       _mm256_min_ps, _mm256_max_pd, _mm256_min_pd)
FT_DEFINE_FAST_KERNELS(avx512, __attribute__((target("avx512f"))), 64, FT_LANES_LO16, FT_LANES_HI16, _mm512_max_ps,
                       _mm512_min_ps, _mm512_max_pd, _mm512_min_pd)
#else
#define FT_VBETTER_GT(v, acc) ((__typeof__(v))((((v) > (acc)) & (__typeof__((v) > (acc)))(v)) | (~((v) > (acc)) & (__typeof__((v) > (acc)))(acc))))
#define FT_VBETTER_LT(v, acc) ((__typeof__(v))((((v) < (acc)) & (__typeof__((v) < (acc)))(v)) | (~((v) < (acc)) & (__typeof__((v) < (acc)))(acc))))
FT_DEFINE_FAST_KERNELS(base, , 16, FT_LANES_LO4, FT_LANES_HI4, FT_VBETTER_GT, FT_VBETTER_LT, FT_VBETTER_GT, FT_VBETTER_LT)
#endif

static const ft_fast_kernels *ft_fast_pick(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    switch (ft_simd_level()) { /* the SIMD level shared with the elementwise kernels */
    case 2: return &ft_fast_avx512;
    case 1: return &ft_fast_avx2;
    default: return &ft_fast_base;
    }
#else
    return &ft_fast_base;
#endif
}

/* The first NaN of x[0, n), or -1. */
#define FT_DEFINE_FIRST_NAN(SUFFIX, T)                                                                       \
    static int64_t ft_first_nan_##SUFFIX(const T *x, int64_t n) {                                            \
        for (int64_t i = 0; i < n; i++)                                                                      \
            if (x[i] != x[i]) return i;                                                                      \
        return -1;                                                                                           \
    }
FT_DEFINE_FIRST_NAN(f32, float)
FT_DEFINE_FIRST_NAN(f64, double)

/* One piece's result. */
typedef struct {
    double value;  /* sum, or the extreme value (NaN when the piece holds one) */
    int64_t index; /* extremes: index of the first extreme (or first NaN) inside the piece */
} ft_fast_partial;

typedef struct {
    int op, dtype, out_dtype;
    bool want_max, with_index;
    int64_t n, piece, pieces; /* row length, piece length, pieces per row */
    /* outer walk (bytes), outermost first */
    int n_outer;
    const int64_t *sizes, *in_st, *out_st, *idx_st;
    const char *in;
    char *out, *idx;
    int64_t first_output;    /* outputs of this group start here */
    ft_fast_partial *partials; /* NULL: one piece per row, results go straight to out */
    const ft_fast_kernels *kernels;
} ft_fast_job;

/* The reduction of one piece: x[0, count). */
static ft_fast_partial ft_fast_piece(const ft_fast_job *job, const char *x, int64_t count) {
    const ft_fast_kernels *k = job->kernels;
    ft_fast_partial r = {0, 0};
    int nan = 0;
    const bool f32 = job->dtype == FT_FLOAT32;
    const float *xf = (const float *)x;
    const double *xd = (const double *)x;
    if (job->op == FT_REDUCE_SUM || job->op == FT_REDUCE_MEAN) {
        r.value = f32 ? k->sum_f32(xf, count) : k->sum_f64(xd, count);
        return r;
    }
    if (job->with_index) {
        if (f32) r.value = job->want_max ? k->argmax_f32(xf, count, &r.index, &nan) : k->argmin_f32(xf, count, &r.index, &nan);
        else r.value = job->want_max ? k->argmax_f64(xd, count, &r.index, &nan) : k->argmin_f64(xd, count, &r.index, &nan);
    } else {
        if (f32) r.value = job->want_max ? k->max_f32(xf, count, &nan) : k->min_f32(xf, count, &nan);
        else r.value = job->want_max ? k->max_f64(xd, count, &nan) : k->min_f64(xd, count, &nan);
    }
    if (nan) {
        r.index = f32 ? ft_first_nan_f32(xf, count) : ft_first_nan_f64(xd, count);
        r.value = f32 ? (double)xf[r.index] : xd[r.index];
    }
    return r;
}

/* The byte offsets of output o's input row, value and index. */
static inline void ft_fast_locate(const ft_fast_job *job, int64_t o, int64_t *in_off, int64_t *out_off,
                                  int64_t *idx_off) {
    if (job->n_outer == 1) { /* one kept dim (or none): no division */
        *in_off = o * job->in_st[0];
        *out_off = o * job->out_st[0];
        *idx_off = o * job->idx_st[0];
        return;
    }
    int64_t a = 0, b = 0, c = 0;
    for (int d = job->n_outer - 1; d >= 0; d--) {
        const int64_t q = o / job->sizes[d], r = o - q * job->sizes[d];
        a += r * job->in_st[d];
        b += r * job->out_st[d];
        c += r * job->idx_st[d];
        o = q;
    }
    *in_off = a;
    *out_off = b;
    *idx_off = c;
}

static inline void ft_fast_store_at(const ft_fast_job *job, int64_t out_off, int64_t idx_off, ft_fast_partial r) {
    if (job->op == FT_REDUCE_MEAN) r.value = ft_div_in(job->dtype, r.value, (double)job->n);
    if (job->op != FT_REDUCE_ARGMAX && job->op != FT_REDUCE_ARGMIN) {
        if (job->out_dtype == FT_FLOAT32) *(float *)(job->out + out_off) = (float)r.value;
        else *(double *)(job->out + out_off) = r.value;
    }
    if (job->with_index) *(int64_t *)(job->idx + idx_off) = r.index;
}

static void ft_fast_store(const ft_fast_job *job, int64_t o, ft_fast_partial r) {
    int64_t in_off, out_off, idx_off;
    ft_fast_locate(job, o, &in_off, &out_off, &idx_off);
    ft_fast_store_at(job, out_off, idx_off, r);
}

/* Tasks [begin, end): with partials, task t is piece t % pieces of output first_output + t / pieces;
 * without, task t is the whole row of output t. */
static void ft_fast_range(void *ctx, int64_t begin, int64_t end) {
    const ft_fast_job *job = (const ft_fast_job *)ctx;
    const size_t itemsize = ft_itemsize(job->dtype);
    for (int64_t t = begin; t < end; t++) {
        const int64_t o = job->first_output + (job->partials ? t / job->pieces : t);
        int64_t in_off, out_off, idx_off;
        ft_fast_locate(job, o, &in_off, &out_off, &idx_off);
        if (!job->partials) {
            ft_fast_store_at(job, out_off, idx_off, ft_fast_piece(job, job->in + in_off, job->n));
            continue;
        }
        const int64_t k = t % job->pieces, start = k * job->piece;
        const int64_t count = job->n - start < job->piece ? job->n - start : job->piece;
        ft_fast_partial r = ft_fast_piece(job, job->in + in_off + start * (int64_t)itemsize, count);
        r.index += start;
        job->partials[t] = r;
    }
}

/* Combine one row's piece results in order: sums pairwise, extremes by value then first index. */
static ft_fast_partial ft_fast_combine(const ft_fast_job *job, ft_fast_partial *parts, int64_t count) {
    if (job->op == FT_REDUCE_SUM || job->op == FT_REDUCE_MEAN) {
        for (int64_t width = 1; width < count; width *= 2)
            for (int64_t i = 0; i + width < count; i += 2 * width) parts[i].value += parts[i + width].value;
        return parts[0];
    }
    ft_fast_partial best = parts[0];
    for (int64_t i = 1; i < count; i++) {
        const double v = parts[i].value;
        if (best.value != best.value) break; /* the first NaN wins */
        if (v != v || (job->want_max ? v > best.value : v < best.value)) best = parts[i];
    }
    return best;
}

static bool ft_fast_eligible(int op, int out_dtype, int in_dtype, const ft_fold_plan *plan) {
    if (in_dtype != FT_FLOAT32 && in_dtype != FT_FLOAT64) return false;
    if (plan->numel < 1 || plan->n_inner != 1 || plan->strides[0] != (int64_t)ft_itemsize(in_dtype)) return false;
    switch (op) {
    case FT_REDUCE_SUM: case FT_REDUCE_MEAN: case FT_REDUCE_AMAX: case FT_REDUCE_AMIN:
    case FT_REDUCE_MAX: case FT_REDUCE_MIN:
        return out_dtype == in_dtype;
    case FT_REDUCE_ARGMAX: case FT_REDUCE_ARGMIN:
        return true;
    default:
        return false;
    }
}

static int ft_reduce_fast(int op, int out_dtype, int in_dtype, const ft_fold_plan *plan, int n_outer,
                          const int64_t *sizes, const int64_t *in_st, const int64_t *out_st, const int64_t *idx_st,
                          int64_t outputs, const char *in, char *out, char *idx) {
    ft_fast_job job = {op, in_dtype, out_dtype,
                       op == FT_REDUCE_AMAX || op == FT_REDUCE_MAX || op == FT_REDUCE_ARGMAX,
                       op == FT_REDUCE_MAX || op == FT_REDUCE_MIN || op == FT_REDUCE_ARGMAX || op == FT_REDUCE_ARGMIN,
                       plan->numel, 0, 1, n_outer, sizes, in_st, out_st, idx_st, in, out, idx, 0, NULL,
                       ft_fast_pick()};
    /* pieces: at least FT_FAST_PIECE long (whole 1024-element blocks), about FT_FAST_SPLIT per long
     * row (enough to balance threads, few enough that per-piece work stays negligible), at most
     * FT_FAST_PIECES per row */
    int64_t piece = (job.n + FT_FAST_SPLIT - 1) / FT_FAST_SPLIT;
    if (piece < FT_FAST_PIECE) piece = FT_FAST_PIECE;
    piece = (piece + 1023) / 1024 * 1024;
    /* An extreme (and its index) is exact whatever the pieces, so only sums need thread-independent
     * pieces: on one thread an extreme runs each row in one go (no per-piece merges; float32 lane
     * indices are int32, hence the bound). */
    if (op != FT_REDUCE_SUM && op != FT_REDUCE_MEAN && ft_get_num_threads() == 1 && job.n < (1LL << 31))
        piece = job.n;
    job.piece = piece;
    job.pieces = (job.n + piece - 1) / piece;
    if (job.pieces == 1) {
        /* whole rows per task; a chunk of the pool gets rows worth at least FT_FAST_GRAIN elements */
        const int64_t grain = (FT_FAST_GRAIN + job.n - 1) / job.n;
        return ft_parallel_for(outputs, grain, ft_fast_range, &job);
    }
    ft_fast_partial partials[FT_FAST_PIECES];
    job.partials = partials;
    const int64_t group = FT_FAST_PIECES / job.pieces; /* outputs whose pieces fit the buffer */
    for (int64_t first = 0; first < outputs; first += group) {
        const int64_t count = outputs - first < group ? outputs - first : group;
        job.first_output = first;
        ft_parallel_for(count * job.pieces, 1, ft_fast_range, &job);
        for (int64_t o = 0; o < count; o++)
            ft_fast_store(&job, first + o, ft_fast_combine(&job, partials + o * job.pieces, job.pieces));
    }
    return FT_OK;
}

int ft_reduce_rows(int op, int dtype, int64_t rows, int64_t n, intptr_t in, intptr_t out, intptr_t index_out) {
    ft_fold_plan plan;
    plan.n_inner = 1;
    plan.sizes[0] = n;
    plan.strides[0] = ft_is_valid_dtype(dtype) ? (int64_t)ft_itemsize(dtype) : 0;
    plan.numel = n;
    plan.rows = 1;
    plan.across = false;
    plan.lane_stride = 0;
    const bool index_op = op == FT_REDUCE_ARGMAX || op == FT_REDUCE_ARGMIN;
    const bool has_index = index_op || op == FT_REDUCE_MAX || op == FT_REDUCE_MIN;
    if (rows < 1 || n < 1 || (has_index && !index_out) || (!index_op && !out) ||
        !ft_fast_eligible(op, dtype, dtype, &plan))
        return ft_set_error(FT_ERR_UNSUPPORTED, "reduce_rows: not a contiguous float reduction");
    const int64_t sizes[1] = {rows}, in_st[1] = {n * plan.strides[0]}, out_st[1] = {plan.strides[0]},
                  idx_st[1] = {(int64_t)sizeof(int64_t)};
    return ft_reduce_fast(op, dtype, dtype, &plan, 1, sizes, in_st, out_st, idx_st, rows, (const char *)in, (char *)out,
                          (char *)index_out);
}

int ft_reduce(int op, int out_dtype, int in_dtype,
              int n_outer, const int64_t *outer_sizes,
              int n_inner, const int64_t *inner_sizes,
              intptr_t in, const int64_t *in_outer_strides, const int64_t *in_inner_strides,
              intptr_t out, const int64_t *out_strides,
              intptr_t index_out, const int64_t *index_strides,
              double param) {
    if (op < 0 || op >= FT_REDUCE_COUNT) return ft_set_error(FT_ERR_UNSUPPORTED, "reduce: unknown op %d", op);
    if (!ft_is_valid_dtype(in_dtype) || !ft_is_valid_dtype(out_dtype))
        return ft_set_error(FT_ERR_UNSUPPORTED, "%s: invalid dtype", ft_reduce_names[op]);
    if (n_outer < 0 || n_inner < 0 || n_outer > FT_MAX_DIMS || n_inner > FT_MAX_DIMS)
        return ft_set_error(FT_ERR_RUNTIME, "%s: too many dims", ft_reduce_names[op]);
    if (ft_reduce_floating_only(op) && !ft_is_floating(in_dtype))
        return ft_set_error(FT_ERR_UNSUPPORTED, "\"%s\" not implemented for '%s'", ft_reduce_names[op],
                            ft_dtype_name(in_dtype));
    const bool has_index = ft_reduce_has_index(op);
    const bool has_value = op != FT_REDUCE_ARGMAX && op != FT_REDUCE_ARGMIN;
    if ((has_index && !index_out) || (has_value && !out))
        return ft_set_error(FT_ERR_RUNTIME, "%s: missing output", ft_reduce_names[op]);
    const size_t itemsize = ft_itemsize(in_dtype);

    ft_fold_plan plan;
    ft_plan_inner(&plan, n_inner, inner_sizes, in_inner_strides, itemsize, has_index);

    /* Outer dims of size > 1, byte strides, outermost first. */
    int n = 0;
    int64_t sizes[FT_MAX_DIMS], in_st[FT_MAX_DIMS], out_st[FT_MAX_DIMS], idx_st[FT_MAX_DIMS];
    int64_t outputs = 1;
    for (int d = 0; d < n_outer; d++) {
        outputs *= outer_sizes[d];
        if (outer_sizes[d] == 1) continue;
        sizes[n] = outer_sizes[d];
        in_st[n] = in_outer_strides[d] * (int64_t)itemsize;
        out_st[n] = has_value ? out_strides[d] * (int64_t)ft_itemsize(out_dtype) : 0;
        idx_st[n] = has_index ? index_strides[d] * (int64_t)sizeof(int64_t) : 0;
        n++;
    }
    if (outputs == 0) return FT_OK;
    if (has_index && plan.numel == 0)
        return ft_set_error(FT_ERR_INDEX, "%s(): Expected reduction dim to have non-zero size.", ft_reduce_names[op]);
    if (n == 0) { /* a single output: a virtual outer dim of size 1 */
        sizes[0] = 1;
        in_st[0] = out_st[0] = idx_st[0] = 0;
        n = 1;
    }
    if (ft_fast_eligible(op, out_dtype, in_dtype, &plan))
        return ft_reduce_fast(op, out_dtype, in_dtype, &plan, n, sizes, in_st, out_st, idx_st, outputs,
                              (const char *)in, (char *)out, (char *)index_out);

    /* The chunk dim: the outer dim nearest in memory when it beats every reduced dim or the
     * reduced box is too small to fill the lanes (strategy "across"), else the innermost
     * outer dim (strategy "one"). */
    int chunk_dim = n - 1;
    plan.across = false;
    plan.lane_stride = 0;
    {
        int nearest = -1;
        for (int d = 0; d < n; d++)
            if (sizes[d] > 1 && (nearest < 0 || ft_abs64(in_st[d]) < ft_abs64(in_st[nearest]))) nearest = d;
        const int64_t inner_nearest = plan.numel > 1 ? ft_abs64(plan.strides[0]) : INT64_MAX;
        if (nearest >= 0 && (ft_abs64(in_st[nearest]) < inner_nearest || plan.numel < FT_LANES)) {
            chunk_dim = nearest;
            plan.across = true;
            plan.lane_stride = in_st[nearest];
        }
    }

    ft_chunk ch = {op, in_dtype, param, &plan, NULL, 0, in_st[chunk_dim]};
    ft_values res;

    /* Walk every outer position except the chunk dim, then the chunk dim in tiles of FT_LANES. */
    int64_t counter[FT_MAX_DIMS] = {0};
    const char *in_ptr = (const char *)in;
    char *out_ptr = (char *)out, *idx_ptr = (char *)index_out;
    const int64_t chunk_size = sizes[chunk_dim];
    for (;;) {
        for (int64_t t = 0; t < chunk_size; t += FT_LANES) {
            ch.w = chunk_size - t < FT_LANES ? chunk_size - t : FT_LANES;
            ch.base = in_ptr + t * in_st[chunk_dim];
            ft_reduce_chunk(&ch, &res);
            if (has_value) ft_store_values(out_dtype, out_ptr + t * out_st[chunk_dim], out_st[chunk_dim], &res, ch.w);
            if (has_index)
                for (int64_t k = 0; k < ch.w; k++) *(int64_t *)(idx_ptr + (t + k) * idx_st[chunk_dim]) = res.index[k];
        }
        int d = n - 1;
        for (; d >= 0; d--) {
            if (d == chunk_dim) continue;
            in_ptr += in_st[d];
            out_ptr += out_st[d];
            idx_ptr += idx_st[d];
            if (++counter[d] < sizes[d]) break;
            in_ptr -= in_st[d] * sizes[d];
            out_ptr -= out_st[d] * sizes[d];
            idx_ptr -= idx_st[d] * sizes[d];
            counter[d] = 0;
        }
        if (d < 0) break;
    }
    return FT_OK;
}
