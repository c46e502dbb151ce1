/* Reductions: sum, prod, mean, extremes (with indices), all/any, counts,
 * var/std, logsumexp and vector norms over an outer/inner box (see ft.h).
 *
 * Every reduction is built from "folds": a map of each element followed by an
 * associative combine (+, *, max, min, and, or), accumulated in FT_LANES
 * independent lanes so the compiler can vectorise without reassociating a
 * single accumulator. Two strategies share the folds:
 *
 *  - per output ("one"): for each output, walk its inner box row by row; the
 *    lanes take consecutive elements (element k of a block goes to lane
 *    k % FT_LANES) and are merged pairwise at the end. Used when the reduced
 *    dims are the ones nearest in memory, e.g. sum over the last dim.
 *  - across outputs ("lanes"): when an outer (kept) dim is nearer in memory
 *    than every reduced dim, each lane is one output and a step of the inner
 *    walk adds a whole vector of neighbouring inputs, e.g. sum(dim=0) of a
 *    row-major matrix adds rows.
 *
 * Sums are pairwise (cascade) summation: blocks of FT_BLOCK elements (or
 * FT_BLOCK_ROWS lane steps) are summed in lanes, then the block totals are
 * combined as a binary counter, so the rounding error grows with log(n) and
 * float32 may accumulate in float32, as torch does.
 *
 * Extremes with indices keep (value, index) per lane, start from the first
 * element, replace only on strictly better values (NaN beats any number), and
 * merge lanes by value, then by smaller index: the first extreme (or first NaN)
 * wins, as in torch. Indices are row-major positions in the inner box as the
 * caller gives it, so index reductions keep the caller's inner dim order.
 */
#include "ft_internal.h"

#define FT_LANES 64
#define FT_LANE_MASK (FT_LANES - 1)
#define FT_BLOCK 4096      /* per-output strategy: elements summed in lanes before a pairwise flush */
#define FT_BLOCK_ROWS 128  /* across-outputs strategy: inner steps summed before a pairwise flush */
#define FT_LEVELS 56       /* binary-counter levels: enough for 2^56 blocks */

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

/* Walks the rows of the inner box: `row` is the address of the current row's first element. */
typedef struct {
    int64_t counter[FT_MAX_DIMS];
    const char *row;
} ft_row_walk;

static inline void ft_row_walk_begin(ft_row_walk *w, const char *base) {
    memset(w->counter, 0, sizeof w->counter);
    w->row = base;
}

static inline void ft_row_walk_next(const ft_fold_plan *pl, ft_row_walk *w) {
    for (int d = 1; d < pl->n_inner; d++) {
        w->row += pl->strides[d];
        if (++w->counter[d] < pl->sizes[d]) return;
        w->row -= pl->strides[d] * pl->sizes[d];
        w->counter[d] = 0;
    }
}

/* ---- map/combine folds ----
 * FT_DEFINE_FOLD(NAME, T, A, IDENTITY, MAP, COMBINE, CASCADE) defines
 *   A NAME##_one(plan, base, c, p): the fold of one output's inner box at base;
 *   void NAME##_lanes(plan, base, w, centre, p, result): w outputs, lane j at base + j*lane_stride.
 * MAP(x, c, p) maps an element x (type T) with a centre c (var, logsumexp) and parameter p (norms);
 * COMBINE(a, b) is associative with IDENTITY; CASCADE (0/1) selects pairwise flushing for sums. */
#define FT_DEFINE_FOLD(NAME, T, A, IDENTITY, MAP, COMBINE, CASCADE)                                     \
    static A NAME##_one(const ft_fold_plan *pl, const char *base, double c, double p) {                 \
        (void)c; (void)p;                                                                               \
        A lanes[FT_LANES];                                                                              \
        for (int j = 0; j < FT_LANES; j++) lanes[j] = (IDENTITY);                                       \
        A levels[FT_LEVELS];                                                                            \
        uint64_t filled = 0;                                                                            \
        int64_t pos = 0;                                                                                \
        const int64_t n = pl->sizes[0], s = pl->strides[0];                                             \
        ft_row_walk walk;                                                                               \
        ft_row_walk_begin(&walk, base);                                                                 \
        for (int64_t r = 0; r < pl->rows; r++, ft_row_walk_next(pl, &walk)) {                           \
            for (int64_t i = 0; i < n;) {                                                               \
                int64_t m = n - i < FT_BLOCK - pos ? n - i : FT_BLOCK - pos;                            \
                const char *xp = walk.row + i * s;                                                      \
                int64_t k = 0;                                                                          \
                for (; k < m && ((pos + k) & FT_LANE_MASK); k++) {                                      \
                    const T x = *(const T *)(xp + k * s);                                               \
                    A *lane = &lanes[(pos + k) & FT_LANE_MASK];                                         \
                    *lane = COMBINE(*lane, MAP(x, c, p));                                               \
                }                                                                                       \
                if (s == (int64_t)sizeof(T)) {                                                          \
                    const T *restrict xs = (const T *)xp;                                               \
                    for (; k + FT_LANES <= m; k += FT_LANES)                                            \
                        for (int j = 0; j < FT_LANES; j++) {                                            \
                            const T x = xs[k + j];                                                      \
                            lanes[j] = COMBINE(lanes[j], MAP(x, c, p));                                 \
                        }                                                                               \
                } else {                                                                                \
                    for (; k + FT_LANES <= m; k += FT_LANES)                                            \
                        for (int j = 0; j < FT_LANES; j++) {                                            \
                            const T x = *(const T *)(xp + (k + j) * s);                                 \
                            lanes[j] = COMBINE(lanes[j], MAP(x, c, p));                                 \
                        }                                                                               \
                }                                                                                       \
                for (; k < m; k++) {                                                                    \
                    const T x = *(const T *)(xp + k * s);                                               \
                    A *lane = &lanes[(pos + k) & FT_LANE_MASK];                                         \
                    *lane = COMBINE(*lane, MAP(x, c, p));                                               \
                }                                                                                       \
                i += m;                                                                                 \
                pos += m;                                                                               \
                if (pos == FT_BLOCK) {                                                                  \
                    pos = 0;                                                                            \
                    if (CASCADE) {                                                                      \
                        for (int h = FT_LANES / 2; h > 0; h /= 2)                                       \
                            for (int j = 0; j < h; j++) lanes[j] = COMBINE(lanes[j], lanes[j + h]);     \
                        A total = lanes[0];                                                             \
                        for (int j = 0; j < FT_LANES; j++) lanes[j] = (IDENTITY);                       \
                        int level = 0;                                                                  \
                        for (uint64_t bits = filled; bits & 1; bits >>= 1, level++)                     \
                            total = COMBINE(levels[level], total);                                      \
                        levels[level] = total;                                                          \
                        filled++;                                                                       \
                    }                                                                                   \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
        for (int h = FT_LANES / 2; h > 0; h /= 2)                                                       \
            for (int j = 0; j < h; j++) lanes[j] = COMBINE(lanes[j], lanes[j + h]);                     \
        A total = lanes[0];                                                                             \
        for (int level = 0; filled; level++, filled >>= 1)                                              \
            if (filled & 1) total = COMBINE(levels[level], total);                                      \
        return total;                                                                                   \
    }                                                                                                   \
    static void NAME##_lanes(const ft_fold_plan *pl, const char *base, int64_t w, const double *centre, \
                             double p, A *result) {                                                     \
        (void)centre; (void)p;                                                                          \
        A lanes[FT_LANES];                                                                              \
        double cs[FT_LANES];                                                                            \
        for (int j = 0; j < FT_LANES; j++) {                                                            \
            lanes[j] = (IDENTITY);                                                                      \
            cs[j] = centre && j < w ? centre[j] : 0.0;                                                  \
        }                                                                                               \
        A levels[CASCADE ? FT_LEVELS : 1][FT_LANES];                                                    \
        uint64_t filled = 0;                                                                            \
        int64_t steps = 0;                                                                              \
        const int64_t n = pl->sizes[0], s = pl->strides[0], ls = pl->lane_stride;                       \
        const bool dense = ls == (int64_t)sizeof(T) && w == FT_LANES;                                   \
        ft_row_walk walk;                                                                               \
        ft_row_walk_begin(&walk, base);                                                                 \
        for (int64_t r = 0; r < pl->rows; r++, ft_row_walk_next(pl, &walk)) {                           \
            for (int64_t i = 0; i < n; i++) {                                                           \
                const char *xp = walk.row + i * s;                                                      \
                if (dense) {                                                                            \
                    const T *restrict xs = (const T *)xp;                                               \
                    for (int j = 0; j < FT_LANES; j++) {                                                \
                        const T x = xs[j];                                                              \
                        lanes[j] = COMBINE(lanes[j], MAP(x, cs[j], p));                                 \
                    }                                                                                   \
                } else {                                                                                \
                    for (int64_t j = 0; j < w; j++) {                                                   \
                        const T x = *(const T *)(xp + j * ls);                                          \
                        lanes[j] = COMBINE(lanes[j], MAP(x, cs[j], p));                                 \
                    }                                                                                   \
                }                                                                                       \
                if (CASCADE && ++steps == FT_BLOCK_ROWS) {                                              \
                    steps = 0;                                                                          \
                    int level = 0;                                                                      \
                    for (uint64_t bits = filled; bits & 1; bits >>= 1, level++)                         \
                        for (int j = 0; j < FT_LANES; j++) lanes[j] = COMBINE(levels[level][j], lanes[j]); \
                    for (int j = 0; j < FT_LANES; j++) {                                                \
                        levels[level][j] = lanes[j];                                                    \
                        lanes[j] = (IDENTITY);                                                          \
                    }                                                                                   \
                    filled++;                                                                           \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
        for (int level = 0; filled; level++, filled >>= 1)                                              \
            if (filled & 1)                                                                             \
                for (int j = 0; j < FT_LANES; j++) lanes[j] = COMBINE(levels[level][j], lanes[j]);      \
        for (int64_t j = 0; j < w; j++) result[j] = lanes[j];                                           \
    }

/* Maps and combines. Integer sums and products wrap, so they run on uint64_t. */
#define FT_MAP_WRAP(x, c, p) ((uint64_t)(int64_t)(x))
#define FT_MAP_SELF(x, c, p) (x)
#define FT_MAP_NONZERO(x, c, p) ((x) != 0)
#define FT_MAP_NOT_NAN(x, c, p) ((int64_t)((x) == (x)))
#define FT_MAP_NAN_TO_ZERO(x, c, p) ((x) != (x) ? 0 : (x))
#define FT_MAP_DOUBLE(x, c, p) ((double)(x))
#define FT_MAP_SQUARED_DEVIATION(x, c, p) (((double)(x) - (c)) * ((double)(x) - (c)))
#define FT_MAP_ABS(x, c, p) fabs((double)(x))
#define FT_MAP_SQUARE(x, c, p) ((double)(x) * (double)(x))
#define FT_MAP_ABS_POW(x, c, p) pow(fabs((double)(x)), (p))
#define FT_MAP_ABS_SAME(x, c, p) _Generic((x), float: fabsf, default: fabs)(x)
/* exp(x - c) in the input's precision, as torch computes logsumexp's terms */
#define FT_MAP_EXP_SHIFTED(x, c, p) ((double)_Generic((x), float: expf, default: exp)((x) - (__typeof__(x))(c)))

#define FT_ADD(a, b) ((a) + (b))
#define FT_MUL(a, b) ((a) * (b))
#define FT_AND(a, b) ((a) & (b))
#define FT_OR(a, b) ((a) | (b))
/* NaN-propagating max/min: b replaces a when better or NaN (a NaN a is never replaced). */
#define FT_MAX_NAN(a, b) (((b) > (a) || (b) != (b)) ? (b) : (a))
#define FT_MIN_NAN(a, b) (((b) < (a) || (b) != (b)) ? (b) : (a))

/* Folds every dtype has. TMIN/TMAX are the identities of max and min. */
#define FT_DEFINE_COMMON_FOLDS(SUFFIX, T, SUM_T, SUM_MAP, SUM_CASCADE, TMIN, TMAX)                         \
    FT_DEFINE_FOLD(sum_##SUFFIX, T, SUM_T, 0, SUM_MAP, FT_ADD, SUM_CASCADE)                              \
    FT_DEFINE_FOLD(prod_##SUFFIX, T, SUM_T, 1, SUM_MAP, FT_MUL, 0)                                       \
    FT_DEFINE_FOLD(amax_##SUFFIX, T, T, TMIN, FT_MAP_SELF, FT_MAX_NAN, 0)                                \
    FT_DEFINE_FOLD(amin_##SUFFIX, T, T, TMAX, FT_MAP_SELF, FT_MIN_NAN, 0)                                \
    FT_DEFINE_FOLD(all_##SUFFIX, T, uint8_t, 1, FT_MAP_NONZERO, FT_AND, 0)                               \
    FT_DEFINE_FOLD(any_##SUFFIX, T, uint8_t, 0, FT_MAP_NONZERO, FT_OR, 0)                                \
    FT_DEFINE_FOLD(nonzero_##SUFFIX, T, int64_t, 0, FT_MAP_NONZERO, FT_ADD, 0)

/* Folds only floating dtypes have (nan-aware sums, var, logsumexp, norms). */
#define FT_DEFINE_FLOAT_FOLDS(SUFFIX, T)                                                                 \
    FT_DEFINE_FOLD(nansum_##SUFFIX, T, T, 0, FT_MAP_NAN_TO_ZERO, FT_ADD, 1)                              \
    FT_DEFINE_FOLD(notnan_##SUFFIX, T, int64_t, 0, FT_MAP_NOT_NAN, FT_ADD, 0)                            \
    FT_DEFINE_FOLD(sumd_##SUFFIX, T, double, 0, FT_MAP_DOUBLE, FT_ADD, 1)                                \
    FT_DEFINE_FOLD(sqdev_##SUFFIX, T, double, 0, FT_MAP_SQUARED_DEVIATION, FT_ADD, 1)                    \
    FT_DEFINE_FOLD(expsum_##SUFFIX, T, double, 0, FT_MAP_EXP_SHIFTED, FT_ADD, 1)                         \
    FT_DEFINE_FOLD(abssum_##SUFFIX, T, double, 0, FT_MAP_ABS, FT_ADD, 1)                                 \
    FT_DEFINE_FOLD(sqsum_##SUFFIX, T, double, 0, FT_MAP_SQUARE, FT_ADD, 1)                               \
    FT_DEFINE_FOLD(powsum_##SUFFIX, T, double, 0, FT_MAP_ABS_POW, FT_ADD, 1)                             \
    FT_DEFINE_FOLD(absmax_##SUFFIX, T, T, 0, FT_MAP_ABS_SAME, FT_MAX_NAN, 0)                             \
    FT_DEFINE_FOLD(absmin_##SUFFIX, T, T, INFINITY, FT_MAP_ABS_SAME, FT_MIN_NAN, 0)

/* ---- extremes with indices ----
 * BETTER(x, v): x strictly beats v (a NaN beats every number, never another NaN). */
#define FT_BETTER_MAX(x, v) ((x) > (v) || ((x) != (x) && (v) == (v)))
#define FT_BETTER_MIN(x, v) ((x) < (v) || ((x) != (x) && (v) == (v)))

#define FT_DEFINE_ARG_FOLD(NAME, T, BETTER)                                                             \
    static void NAME##_one(const ft_fold_plan *pl, const char *base, T *value, int64_t *index) {        \
        T best[FT_LANES];                                                                               \
        int64_t at[FT_LANES];                                                                           \
        const T first = *(const T *)base;                                                               \
        for (int j = 0; j < FT_LANES; j++) { best[j] = first; at[j] = 0; }                              \
        const int64_t n = pl->sizes[0], s = pl->strides[0];                                             \
        ft_row_walk walk;                                                                               \
        ft_row_walk_begin(&walk, base);                                                                 \
        for (int64_t r = 0; r < pl->rows; r++, ft_row_walk_next(pl, &walk)) {                           \
            const int64_t row_index = r * n;                                                            \
            int64_t k = 0;                                                                              \
            if (s == (int64_t)sizeof(T)) {                                                              \
                const T *restrict xs = (const T *)walk.row;                                             \
                for (; k + FT_LANES <= n; k += FT_LANES)                                                \
                    for (int j = 0; j < FT_LANES; j++) {                                                \
                        const T x = xs[k + j];                                                          \
                        if (BETTER(x, best[j])) { best[j] = x; at[j] = row_index + k + j; }             \
                    }                                                                                   \
            }                                                                                           \
            for (; k < n; k++) {                                                                        \
                const T x = *(const T *)(walk.row + k * s);                                             \
                const int j = (int)(k & FT_LANE_MASK);                                                  \
                if (BETTER(x, best[j])) { best[j] = x; at[j] = row_index + k; }                         \
            }                                                                                           \
        }                                                                                               \
        T v = best[0];                                                                                  \
        int64_t idx = at[0];                                                                            \
        for (int j = 1; j < FT_LANES; j++)                                                              \
            if (BETTER(best[j], v) || (!BETTER(v, best[j]) && at[j] < idx)) { v = best[j]; idx = at[j]; } \
        *value = v;                                                                                     \
        *index = idx;                                                                                   \
    }                                                                                                   \
    static void NAME##_lanes(const ft_fold_plan *pl, const char *base, int64_t w, T *value, int64_t *index) { \
        T best[FT_LANES];                                                                               \
        int64_t at[FT_LANES];                                                                           \
        const int64_t n = pl->sizes[0], s = pl->strides[0], ls = pl->lane_stride;                       \
        for (int64_t j = 0; j < w; j++) { best[j] = *(const T *)(base + j * ls); at[j] = 0; }           \
        int64_t position = 0;                                                                           \
        ft_row_walk walk;                                                                               \
        ft_row_walk_begin(&walk, base);                                                                 \
        for (int64_t r = 0; r < pl->rows; r++, ft_row_walk_next(pl, &walk)) {                           \
            for (int64_t i = 0; i < n; i++, position++) {                                               \
                const char *xp = walk.row + i * s;                                                      \
                for (int64_t j = 0; j < w; j++) {                                                       \
                    const T x = *(const T *)(xp + j * ls);                                              \
                    if (BETTER(x, best[j])) { best[j] = x; at[j] = position; }                          \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
        for (int64_t j = 0; j < w; j++) { value[j] = best[j]; index[j] = at[j]; }                       \
    }

#define FT_DEFINE_ARG_FOLDS(SUFFIX, T)                   \
    FT_DEFINE_ARG_FOLD(argmax_##SUFFIX, T, FT_BETTER_MAX) \
    FT_DEFINE_ARG_FOLD(argmin_##SUFFIX, T, FT_BETTER_MIN)

/* Bool is read as uint8 (0/1), which gives every fold the right answer. */
FT_DEFINE_COMMON_FOLDS(u8, uint8_t, uint64_t, FT_MAP_WRAP, 0, 0, UINT8_MAX)
FT_DEFINE_COMMON_FOLDS(i8, int8_t, uint64_t, FT_MAP_WRAP, 0, INT8_MIN, INT8_MAX)
FT_DEFINE_COMMON_FOLDS(i16, int16_t, uint64_t, FT_MAP_WRAP, 0, INT16_MIN, INT16_MAX)
FT_DEFINE_COMMON_FOLDS(i32, int32_t, uint64_t, FT_MAP_WRAP, 0, INT32_MIN, INT32_MAX)
FT_DEFINE_COMMON_FOLDS(i64, int64_t, uint64_t, FT_MAP_WRAP, 0, INT64_MIN, INT64_MAX)
FT_DEFINE_COMMON_FOLDS(f32, float, float, FT_MAP_SELF, 1, -INFINITY, INFINITY)
FT_DEFINE_COMMON_FOLDS(f64, double, double, FT_MAP_SELF, 1, -INFINITY, INFINITY)
FT_DEFINE_FLOAT_FOLDS(f32, float)
FT_DEFINE_FLOAT_FOLDS(f64, double)
FT_DEFINE_ARG_FOLDS(u8, uint8_t)
FT_DEFINE_ARG_FOLDS(i8, int8_t)
FT_DEFINE_ARG_FOLDS(i16, int16_t)
FT_DEFINE_ARG_FOLDS(i32, int32_t)
FT_DEFINE_ARG_FOLDS(i64, int64_t)
FT_DEFINE_ARG_FOLDS(f32, float)
FT_DEFINE_ARG_FOLDS(f64, double)

/* ---- one chunk of outputs ----
 * A chunk is w <= FT_LANES outputs whose inputs start at base + k*step. The typed
 * chunk functions fill an ft_chunk with each output's finished value. */
typedef struct {
    int op;
    double param;
    const ft_fold_plan *plan;
} ft_reduce_ctx;

typedef struct {
    bool is_float;           /* values in f (true) or i */
    double f[FT_LANES];
    int64_t i[FT_LANES];
    int64_t index[FT_LANES];
} ft_chunk;

/* FT_FOLD(NAME, A, out, centre): out[k] = fold NAME (accumulator type A) of output k, with centre[k] or NULL. */
#define FT_FOLD(NAME, A, out, centre)                                                                     \
    do {                                                                                                  \
        A *out_ = (out);                                                                                  \
        if (cx->plan->across) {                                                                           \
            NAME##_lanes(cx->plan, base, w, (centre), cx->param, out_);                                   \
        } else {                                                                                          \
            const double *centre_ = (centre);                                                             \
            for (int64_t k = 0; k < w; k++)                                                               \
                out_[k] = NAME##_one(cx->plan, base + k * step, centre_ ? centre_[k] : 0.0, cx->param);   \
        }                                                                                                 \
    } while (0)

/* FT_FOLD_EMIT: fold into a temporary of type A, then hand the values to res as floats or integers. */
#define FT_FOLD_EMIT(NAME, A, AS_FLOAT)                                                                   \
    do {                                                                                                  \
        A folded_[FT_LANES];                                                                              \
        FT_FOLD(NAME, A, folded_, NULL);                                                                  \
        res->is_float = (AS_FLOAT);                                                                       \
        for (int64_t k = 0; k < w; k++) {                                                                 \
            if (AS_FLOAT) res->f[k] = (double)folded_[k]; else res->i[k] = (int64_t)folded_[k];           \
        }                                                                                                 \
    } while (0)

#define FT_ARG_FOLD(NAME, T, AS_FLOAT)                                                                    \
    do {                                                                                                  \
        T values_[FT_LANES];                                                                              \
        if (cx->plan->across) {                                                                           \
            NAME##_lanes(cx->plan, base, w, values_, res->index);                                         \
        } else {                                                                                          \
            for (int64_t k = 0; k < w; k++) NAME##_one(cx->plan, base + k * step, &values_[k], &res->index[k]); \
        }                                                                                                 \
        res->is_float = (AS_FLOAT);                                                                       \
        for (int64_t k = 0; k < w; k++) {                                                                 \
            if (AS_FLOAT) res->f[k] = (double)values_[k]; else res->i[k] = (int64_t)values_[k];           \
        }                                                                                                 \
    } while (0)

/* Ops every dtype supports. SUM_T accumulates sums and products (uint64_t wraps for integers);
 * IS_FLOAT says whether values of type T are handed over as floats. */
#define FT_DEFINE_COMMON_CHUNK(SUFFIX, T, SUM_T, IS_FLOAT)                                                \
    static int chunk_common_##SUFFIX(const ft_reduce_ctx *cx, const char *base, int64_t w, int64_t step,  \
                                     ft_chunk *res) {                                                     \
        switch (cx->op) {                                                                                 \
        case FT_REDUCE_SUM:                                                                               \
        case FT_REDUCE_NANSUM: /* integers have no NaN */                                                 \
            FT_FOLD_EMIT(sum_##SUFFIX, SUM_T, IS_FLOAT); break;                                           \
        case FT_REDUCE_PROD: FT_FOLD_EMIT(prod_##SUFFIX, SUM_T, IS_FLOAT); break;                         \
        case FT_REDUCE_AMAX: FT_FOLD_EMIT(amax_##SUFFIX, T, IS_FLOAT); break;                             \
        case FT_REDUCE_AMIN: FT_FOLD_EMIT(amin_##SUFFIX, T, IS_FLOAT); break;                             \
        case FT_REDUCE_ALL: FT_FOLD_EMIT(all_##SUFFIX, uint8_t, false); break;                            \
        case FT_REDUCE_ANY: FT_FOLD_EMIT(any_##SUFFIX, uint8_t, false); break;                            \
        case FT_REDUCE_COUNT_NONZERO: FT_FOLD_EMIT(nonzero_##SUFFIX, int64_t, false); break;              \
        case FT_REDUCE_MAX: case FT_REDUCE_ARGMAX: FT_ARG_FOLD(argmax_##SUFFIX, T, IS_FLOAT); break;      \
        case FT_REDUCE_MIN: case FT_REDUCE_ARGMIN: FT_ARG_FOLD(argmin_##SUFFIX, T, IS_FLOAT); break;      \
        default:                                                                                          \
            return ft_set_error(FT_ERR_UNSUPPORTED, "reduction op %d is not implemented for %s", cx->op, #T); \
        }                                                                                                 \
        return FT_OK;                                                                                     \
    }

FT_DEFINE_COMMON_CHUNK(u8, uint8_t, uint64_t, false)
FT_DEFINE_COMMON_CHUNK(i8, int8_t, uint64_t, false)
FT_DEFINE_COMMON_CHUNK(i16, int16_t, uint64_t, false)
FT_DEFINE_COMMON_CHUNK(i32, int32_t, uint64_t, false)
FT_DEFINE_COMMON_CHUNK(i64, int64_t, uint64_t, false)
FT_DEFINE_COMMON_CHUNK(f32, float, float, true)
FT_DEFINE_COMMON_CHUNK(f64, double, double, true)

/* Floating-only ops; mean and nanmean divide in T, like torch's sum().div_(n). */
#define FT_DEFINE_FLOAT_CHUNK(SUFFIX, T)                                                                  \
    static int chunk_##SUFFIX(const ft_reduce_ctx *cx, const char *base, int64_t w, int64_t step,         \
                              ft_chunk *res) {                                                            \
        const int64_t n = cx->plan->numel;                                                                \
        double centre[FT_LANES], acc[FT_LANES];                                                           \
        T sums[FT_LANES];                                                                                 \
        int64_t count[FT_LANES];                                                                          \
        res->is_float = true;                                                                             \
        switch (cx->op) {                                                                                 \
        case FT_REDUCE_NANSUM: FT_FOLD_EMIT(nansum_##SUFFIX, T, true); return FT_OK;                      \
        case FT_REDUCE_MEAN:                                                                              \
            FT_FOLD(sum_##SUFFIX, T, sums, NULL);                                                         \
            for (int64_t k = 0; k < w; k++) res->f[k] = (T)(sums[k] / (T)n);                              \
            return FT_OK;                                                                                 \
        case FT_REDUCE_NANMEAN:                                                                           \
            FT_FOLD(nansum_##SUFFIX, T, sums, NULL);                                                      \
            FT_FOLD(notnan_##SUFFIX, int64_t, count, NULL);                                               \
            for (int64_t k = 0; k < w; k++) res->f[k] = (T)(sums[k] / (T)count[k]);                       \
            return FT_OK;                                                                                 \
        case FT_REDUCE_VAR:                                                                               \
        case FT_REDUCE_STD: {                                                                             \
            /* two passes in double: the mean, then squared deviations from it */                         \
            const double divisor = (double)n > cx->param ? (double)n - cx->param : 0.0;                   \
            FT_FOLD(sumd_##SUFFIX, double, acc, NULL);                                                    \
            for (int64_t k = 0; k < w; k++) centre[k] = acc[k] / (double)n;                               \
            FT_FOLD(sqdev_##SUFFIX, double, acc, centre);                                                 \
            for (int64_t k = 0; k < w; k++) {                                                             \
                const double var = acc[k] / divisor;                                                      \
                res->f[k] = cx->op == FT_REDUCE_STD ? sqrt(var) : var;                                    \
            }                                                                                             \
            return FT_OK;                                                                                 \
        }                                                                                                 \
        case FT_REDUCE_LOGSUMEXP:                                                                         \
            /* torch: m = amax (0 when infinite); log(sum(exp(x - m))) + m; an empty box gives -inf */    \
            if (n == 0) {                                                                                 \
                for (int64_t k = 0; k < w; k++) res->f[k] = -INFINITY;                                    \
                return FT_OK;                                                                             \
            }                                                                                             \
            FT_FOLD(amax_##SUFFIX, T, sums, NULL);                                                        \
            for (int64_t k = 0; k < w; k++) centre[k] = isinf(sums[k]) ? 0.0 : (double)sums[k];           \
            FT_FOLD(expsum_##SUFFIX, double, acc, centre);                                                \
            for (int64_t k = 0; k < w; k++) res->f[k] = (double)((T)log(acc[k]) + (T)centre[k]);          \
            return FT_OK;                                                                                 \
        case FT_REDUCE_NORM: {                                                                            \
            const double p = cx->param;                                                                   \
            if (p == 2.0) {                                                                               \
                FT_FOLD(sqsum_##SUFFIX, double, acc, NULL);                                               \
                for (int64_t k = 0; k < w; k++) res->f[k] = sqrt(acc[k]);                                 \
            } else if (p == 1.0) {                                                                        \
                FT_FOLD(abssum_##SUFFIX, double, res->f, NULL);                                           \
            } else if (p == INFINITY) {                                                                   \
                FT_FOLD_EMIT(absmax_##SUFFIX, T, true);                                                   \
            } else if (p == -INFINITY) {                                                                  \
                FT_FOLD_EMIT(absmin_##SUFFIX, T, true);                                                   \
            } else if (p == 0.0) {                                                                        \
                FT_FOLD(nonzero_##SUFFIX, int64_t, count, NULL);                                          \
                for (int64_t k = 0; k < w; k++) res->f[k] = (double)count[k];                             \
            } else {                                                                                      \
                FT_FOLD(powsum_##SUFFIX, double, acc, NULL);                                              \
                for (int64_t k = 0; k < w; k++) res->f[k] = pow(acc[k], 1.0 / p);                         \
            }                                                                                             \
            return FT_OK;                                                                                 \
        }                                                                                                 \
        default:                                                                                          \
            return chunk_common_##SUFFIX(cx, base, w, step, res);                                         \
        }                                                                                                 \
    }

FT_DEFINE_FLOAT_CHUNK(f32, float)
FT_DEFINE_FLOAT_CHUNK(f64, double)

typedef int (*ft_chunk_fn)(const ft_reduce_ctx *, const char *, int64_t, int64_t, ft_chunk *);

static ft_chunk_fn ft_chunk_for(int dtype) {
    switch (dtype) {
    case FT_BOOL: case FT_UINT8: return chunk_common_u8;
    case FT_INT8: return chunk_common_i8;
    case FT_INT16: return chunk_common_i16;
    case FT_INT32: return chunk_common_i32;
    case FT_INT64: return chunk_common_i64;
    case FT_FLOAT32: return chunk_f32;
    case FT_FLOAT64: return chunk_f64;
    default: return NULL;
    }
}

/* Write w finished values to out (element stride `stride` bytes), converted to dtype. */
#define FT_STORE_AS(D, NAME)                                                                              \
    do {                                                                                                  \
        if (res->is_float) for (int64_t k = 0; k < w; k++) *(D *)(out + k * stride) = FT_CONVERT(NAME, res->f[k]); \
        else for (int64_t k = 0; k < w; k++) *(D *)(out + k * stride) = FT_CONVERT(NAME, res->i[k]);       \
    } while (0)

static void ft_store_chunk(int dtype, char *out, int64_t stride, const ft_chunk *res, int64_t w) {
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
    for (int d = 0; d < n_inner; d++) {  /* outermost first */
        pl->numel *= sizes[d];
        if (sizes[d] == 1) continue;
        sz[n] = sizes[d];
        st[n] = strides[d] * (int64_t)itemsize;
        n++;
    }
    if (!keep_order) { /* stable insertion sort by |stride|, largest (outermost) first */
        for (int i = 1; i < n; i++) {
            int64_t ks = sz[i], kt = st[i];
            int j = i - 1;
            while (j >= 0 && ft_abs64(st[j]) < ft_abs64(kt)) { sz[j + 1] = sz[j]; st[j + 1] = st[j]; j--; }
            sz[j + 1] = ks;
            st[j + 1] = kt;
        }
    }
    /* innermost first, merging dim d (outer) into the current innermost run when contiguous */
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
        return ft_set_error(FT_ERR_UNSUPPORTED, "%s: \"%s\" input needs a floating dtype", ft_reduce_names[op],
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
    int64_t sizes[FT_MAX_DIMS + 1], in_st[FT_MAX_DIMS + 1], out_st[FT_MAX_DIMS + 1], idx_st[FT_MAX_DIMS + 1];
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

    /* The chunk dim: the outer dim nearest in memory when it beats every reduced dim
     * (strategy "across"), else the innermost outer dim (strategy "one"). */
    int chunk_dim = n - 1;
    plan.across = false;
    plan.lane_stride = 0;
    {
        int nearest = -1;
        for (int d = 0; d < n; d++)
            if (sizes[d] > 1 && (nearest < 0 || ft_abs64(in_st[d]) < ft_abs64(in_st[nearest]))) nearest = d;
        const int64_t inner_nearest = plan.numel > 1 ? ft_abs64(plan.strides[0]) : INT64_MAX;
        if (nearest >= 0 && ft_abs64(in_st[nearest]) < inner_nearest) {
            chunk_dim = nearest;
            plan.across = true;
            plan.lane_stride = in_st[nearest];
        }
    }

    ft_chunk_fn chunk = ft_chunk_for(in_dtype);
    if (!chunk) return ft_set_error(FT_ERR_UNSUPPORTED, "%s: invalid dtype", ft_reduce_names[op]);
    ft_reduce_ctx cx = {op, param, &plan};
    ft_chunk res;

    /* Walk every outer position except the chunk dim, then the chunk dim in tiles of FT_LANES. */
    int64_t counter[FT_MAX_DIMS + 1] = {0};
    const char *in_ptr = (const char *)in;
    char *out_ptr = (char *)out, *idx_ptr = (char *)index_out;
    const int64_t chunk_size = sizes[chunk_dim];
    for (;;) {
        for (int64_t t = 0; t < chunk_size; t += FT_LANES) {
            const int64_t w = chunk_size - t < FT_LANES ? chunk_size - t : FT_LANES;
            int rc = chunk(&cx, in_ptr + t * in_st[chunk_dim], w, in_st[chunk_dim], &res);
            if (rc) return rc;
            if (has_value) ft_store_chunk(out_dtype, out_ptr + t * out_st[chunk_dim], out_st[chunk_dim], &res, w);
            if (has_index)
                for (int64_t k = 0; k < w; k++)
                    *(int64_t *)(idx_ptr + (t + k) * idx_st[chunk_dim]) = res.index[k];
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
