// The Sinkhorn-Knopp solver's fused row pass (SelfLabelling's SinkhornPass), in C with runtime CPU dispatch:
// an AVX-512F build, an AVX2 + FMA + F16C build, and a portable one, chosen once per process with
// __builtin_cpu_supports. The package itself stays built for baseline x86-64 (no -target-cpu flags).
#ifndef CSINKHORN_KERNELS_H
#define CSINKHORN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Stored element type of the shifted Sinkhorn matrix.
typedef enum {
    CSK_F32 = 0,   ///< IEEE float32.
    CSK_BF16 = 1,  ///< bfloat16: the top 16 bits of a float32 (widened by a 16-bit shift).
    CSK_F16 = 2    ///< IEEE half, values in [0, 1] (F16C conversion, or bits << 13 times 2^112).
} CSKElement;

/// Arguments of one pass; see `csk_pass_block`.
typedef struct {
    const void *matrix;   ///< N x kp stored elements, row-major.
    long n;               ///< N (rows).
    long kp;              ///< Padded columns, a multiple of 16.
    const float *r32;     ///< r' (kp floats, natural order, zero in the padding).
    double *c;            ///< c' per row: read, then overwritten when `iterate`.
    int element;          ///< A CSKElement.
    int iterate;          ///< 1: compute c'_n = 1/(N Σ_k A_nk r'_k); 0: use the given c'.
    int check;            ///< 1: return Σ |c_old/c_new · ratio − 1| over the block.
    double ratio;         ///< See `check` and `omega`.
    double omega;         ///< Over-relaxation: c' ← (c'_old · ratio)^{1−ω} · c'_SK^ω (1 = plain).
    const float *r32Dense;     ///< Truncated method: r' for its dense rows, whose values keep the column offsets
                               ///< of the build that made them (`CSKScores.denseColOffset`); NULL: `r32`.
    const double *denseScale;  ///< Truncated method: per column, the factor taking the dense rows' cluster sums
                               ///< to the other rows' offsets (kp doubles); NULL: 1.
    int skipDense;             ///< Truncated method (kept entries): 1 leaves the dense rows out (their c' and
                               ///< sums untouched), so the pass reads only the sparse rows.
    double *denseAcc;          ///< Truncated method (kept entries, skipDense 0): if not NULL, receives the dense
                               ///< rows' share of the block's cluster sums (kp doubles, after `denseScale`; 0
                               ///< when the block has no dense row).
} CSKPass;

/// Processes rows [rowStart, rowEnd) of one block: per row (8 at a time, so r' and the cluster sums are loaded
/// once per 8 rows)
///   s_n = Σ_k A_nk r'_k   (float32 products and 16-lane sums, widened to float64 every 256 columns),
///   c'_n = 1/(N s_n)      (float64, when iterating),
///   acc_k += A_nk c'_n    (float32 within 64 rows in `scratch`, then float64 into `acc`).
/// `acc` (kp doubles) is overwritten; `scratch` holds kp floats. Returns the block's error sum (0 unless
/// `check`). Deterministic for a given CPU kernel: the result does not depend on how blocks map to threads.
double csk_pass_block(const CSKPass *pass, long rowStart, long rowEnd, double *acc, float *scratch);

/// Scores read in place by the truncated method's passes: element (n, j) of the matrix they stand for is
///   e_nj = exp(λ (y_nj − m_n) + o_j − M_n)     (float32, the same bits wherever it is computed),
/// with y = z (logits) or log P (probabilities), `m_n` the row maximum of y, `o_j` a column offset (−∞ in
/// the padding) and `M_n` a row offset.
typedef struct {
    const float *scores;     ///< N x k float32 logits or probabilities, row-major (not padded).
    long k;                  ///< Columns of `scores` (clusters).
    long kp;                 ///< k rounded up to a multiple of 16.
    float lambda;            ///< λ.
    const double *rowMax;    ///< m_n (float32 values held as double).
    const float *colOffset;  ///< o_j (kp floats, −∞ in the padding).
    float *rowOffset;        ///< M_n: written by `csk_truncated_build_block`; NULL reads as 0 in a scores pass.
    int probabilities;       ///< 1: the scores are probabilities P (y = log P, by a float32 logarithm).
    const float *denseColOffset;  ///< o_j of the dense rows of the last build (kp floats; NULL: `colOffset`): a
                                  ///< build that keeps the dense rows keeps their values, offsets and M_n.
    const float *screenWeight;    ///< Probabilities: w_j = e^{(o_j − ō)/λ} with ō = max_j o_j (kp floats, 0 in
                                  ///< the padding), from which a build and a scores pass recognise groups of 16
                                  ///< entries far enough below their row's largest to be exactly 0 and skip their
                                  ///< logarithms (the same bits either way); NULL: no screening.
    double screenShift;           ///< ō.
} CSKScores;

/// The kept entries of one row block (compressed rows): row r's entries are [start[r], start[r + 1]); rows that
/// keep many entries (flat rows) are stored densely instead, every column, in `dense` (their sparse range is
/// empty). Memory is owned by the kernels (malloc); release it with `csk_sparse_block_free`.
typedef struct {
    long rows;          ///< Rows in the block.
    long count;         ///< Kept entries.
    long capacity;      ///< Allocated entries.
    long *start;        ///< rows + 1 offsets.
    uint16_t *cols;     ///< Column of each entry (k ≤ 65536).
    float *vals;        ///< Its value e_nj, in (e^−drop, 1].
    long denseRows;     ///< Rows stored densely.
    long denseCapacity; ///< Allocated dense rows.
    long *denseIndex;   ///< Row (within the block) of each dense row, ascending.
    float *dense;       ///< denseRows x kp values e_nj (0 in the padding).
    double *denseC;     ///< c' of the dense rows during a pass (gathered, then written back).
    int denseStored;    ///< 1: `dense` holds the dense rows' values; 0: the passes compute them from the scores.
} CSKSparseBlock;

/// Builds rows [rowStart, rowEnd) of the truncated matrix: per row, u_j = λ (z_j − m) + o_j, writes
/// M = max_j u_j to `rowOffset`, and keeps the entries with u_j ≥ M − drop as (j, exp(u_j − M)); a row with
/// more than `denseRowMin` such entries (0: never) is a dense row, every column read: its values are stored in
/// `dense` when `storeDense`, else only its index (the passes compute them from the scores). `keepDense`: the
/// block's dense rows of the previous build stay as they are (values, M_n; they read `denseColOffset`), only
/// the other rows are rebuilt, and one of those becoming dense returns −3 (then build again without). `rowTemp`
/// holds kp floats. Returns the entries the passes will read (kept entries plus kp per dense row), −1 when that
/// would exceed `maxCount` (the block is then unusable), −2 when memory ran out.
long csk_truncated_build_block(const CSKScores *scores, long rowStart, long rowEnd, float drop, long maxCount,
                               long denseRowMin, int storeDense, int keepDense, CSKSparseBlock *block,
                               float *rowTemp);

/// Frees a block's arrays and zeroes it.
void csk_sparse_block_free(CSKSparseBlock *block);

/// The Sinkhorn pass of `csk_pass_block` over a truncated block whose first row is `rowStart` (the pass's
/// `matrix` and `element` are ignored): s_n = Σ e_nj r'_j and acc_j = Σ e_nj c'_n in float64 (products
/// e·r' in float32); the dense rows first, by `csk_pass_block`'s row pass (`scratch`: kp floats) over their
/// stored values or, when the block does not store them, over groups of 64 of them computed from `scores`
/// into `chunk` (64 x kp floats; the same bits, the same groups), with `r32Dense`, their sums scaled by
/// `denseScale` before the other rows' are added (and copied to `denseAcc` when set), or (`skipDense`) not at
/// all. Returns the block's error sum.
double csk_truncated_pass_block(const CSKPass *pass, const CSKScores *scores, const CSKSparseBlock *block,
                                long rowStart, double *acc, float *scratch, float *chunk);

/// The same pass over every entry e_nj of `scores` (nothing dropped), computed on the fly; float64 sums as
/// in `csk_truncated_pass_block`, so on the kept entries both see the same values. `block` (NULL: none) is the
/// current build of these rows: its dense rows are read (when it stores them) or computed as that build made
/// them (their offsets), with `r32Dense` and `denseScale` as in `csk_truncated_pass_block`. `rowTemp`: kp floats.
double csk_scores_pass_block(const CSKPass *pass, const CSKScores *scores, const CSKSparseBlock *block,
                             long rowStart, long rowEnd, double *acc, float *rowTemp);

/// The scores of one head as the prepare step reads them, and its per-row outputs.
typedef struct {
    const float *scores;  ///< N x k float32 logits or probabilities, row-major.
    long k;               ///< Columns (clusters).
    long kp;              ///< k rounded up to a multiple of 16.
    float lambda;         ///< λ.
    int probabilities;    ///< 1: y = log P (float32 logarithm), else y = z.
    float drop;           ///< Entries with λ (y − m) ≥ −drop count as near the row maximum.
    long denseRowMin;     ///< A row with more near entries counts kp (a dense row of the truncated method).
    double *rowShift;     ///< Out (statistics) / in (store): m_n = max_k y_nk.
    double *logC0;        ///< Out: log c0_n = −λ log Σ_k exp(y_nk − m_n) (logits) or λ m_n (probabilities).
    /// Probabilities with an integer λ (the store and the streamed pass; 0: no): the dense method's entries are
    /// `(P_nk · w_nk)^power` by repeated squaring, `w_nk = colRoot_k / max_j P_nj`, with no logarithm or
    /// exponential per entry (`csk_dense_row`).
    int power;
    /// With `power`: `e^{−b_k/λ}` (kp floats, 1 in the padding), each at most 2^100.
    const float *colRoot;
} CSKPrepare;

/// `power`'s rows: those whose largest probability is at least this (smaller ones take logarithms).
#define CSK_POWER_MIN_TOP 0x1p-20f
/// `power`'s column roots: at most this (2^100), so that `w_nk` stays below 2^120.
#define CSK_POWER_MAX_ROOT 0x1p100f
/// `power`'s exponents: at most this (λ ≤ 64: at most 6 squarings and 6 products).
#define CSK_POWER_MAX 64

/// The first invalid score of a block.
typedef struct {
    long row;
    long column;   ///< −1: an all-zero probability row.
    float value;
    int isProbability;  ///< 0: non-finite; 1: a probability outside [0, 1] (or an all-zero row).
} CSKBadScore;

/// Statistics of rows [rowStart, rowEnd): validates them (first bad entry in row-major order into `bad`,
/// returning 1), writes m_n and log c0_n, the block's column maxima `colMax_k = max_n (y_nk − m_n)` (kp floats,
/// overwritten) and the entries the truncated method's first build would keep when no column is shifted
/// (`near`: per row its near entries, or kp for a row with more than `denseRowMin`), and the entries within
/// CSK_FLAT_RANGE of their row's largest in the plan (`flat`: λ (y_nk − m_n) ≥ −CSK_FLAT_RANGE; all n x k of
/// them for flat scores). `rowTemp`: kp floats. Returns 0.
int csk_statistics_block(const CSKPrepare *prepare, long rowStart, long rowEnd, float *colMax, float *rowTemp,
                         long *near, long *flat, CSKBadScore *bad);

/// Nats below its row's largest entry (of λ y) within which an entry counts as flat (`csk_statistics_block`).
#define CSK_FLAT_RANGE 6.0f

/// Stores rows [rowStart, rowEnd) of the dense method's matrix `A_nk = exp(λ (y_nk − m_n) − b_k)` (b: kp
/// floats, 0 in the padding) as `element` (a CSKElement), rows kp elements long. `rowTemp`: kp floats.
void csk_store_block(const CSKPrepare *prepare, long rowStart, long rowEnd, const float *colShift, int element,
                     void *matrix, float *rowTemp);

/// The pass of `csk_pass_block` over rows [rowStart, rowEnd) of the dense method's float32 matrix without
/// storing it: each group of 64 rows of `A_nk = exp(λ (y_nk − m_n) − b_k)` is computed from the scores into
/// `chunk` (64 x kp floats) with the bits `csk_store_block` would store, then read exactly as `csk_pass_block`
/// reads the stored rows, so the results are the same bit for bit. `colShift`: b (kp floats, 0 in the
/// padding); `scratch` and `rowTemp`: kp floats each.
double csk_stream_pass_block(const CSKPass *pass, const CSKPrepare *prepare, const float *colShift, long rowStart,
                             long rowEnd, double *acc, float *scratch, float *chunk, float *rowTemp);

/// `csk_store_block` and `csk_pass_block` over the rows it stores, in one read of the scores: each group of
/// CSK_GROUP_ROWS rows is stored into `matrix` (as `element`) and read back by the row pass while in cache, so
/// the stored bits and the pass's results are those of the two calls in turn. `scratch` and `rowTemp`: kp floats each.
double csk_store_pass_block(const CSKPass *pass, const CSKPrepare *prepare, const float *colShift, long rowStart,
                            long rowEnd, int element, void *matrix, double *acc, float *scratch, float *rowTemp);

/// Rows per group of the passes (float32 cluster sums within a group): the rows of a streamed chunk.
#define CSK_GROUP_ROWS 64

/// The label pass over the original scores: label_n = the first k maximising `log r_k + λ y_nk` in float64
/// (y = z, or log P by a float64 logarithm), like `np.nanargmax`. A float32 screen leaves only the columns
/// within its error bound of the row's largest screened value, which are evaluated in float64, so the labels are
/// those of a float64 scan on every kernel: `v_k = log r_k + λ y_k` in float32 (y: z, or the float32 logarithm
/// of P) within `2⁻²⁰ (max|log r| + |λ| max|y|)` (2⁻¹⁹ for probabilities) of the largest; for probabilities with
/// `weights` first `P_k w_k` within 2⁻²⁰ of its largest (no logarithm per entry; the y screen where that
/// largest is below 2⁻¹⁰⁰).
typedef struct {
    const float *scores;   ///< N x k float32 logits or probabilities, row-major.
    long k;                ///< Columns (clusters).
    float lambda;          ///< λ (float32, for the screen).
    double lambda64;       ///< λ.
    int probabilities;     ///< 1: y = log P.
    const double *logR;    ///< log r_k (k).
    const float *logR32;   ///< log r_k rounded to float32 (k).
    double maxAbsLogR;     ///< max_k |log r_k|.
    const float *weights;  ///< Probabilities: w_k = e^{(log r_k − max log r)/λ} (k), or NULL.
} CSKLabels;

/// Labels of rows [rowStart, rowEnd) into out[row]. `rowTemp`: k floats (probabilities' logarithms).
void csk_labels_block(const CSKLabels *labels, long rowStart, long rowEnd, int32_t *out, float *rowTemp);

/// The kernel `csk_pass_block` uses on this CPU: "avx512f", "avx2+fma+f16c" or "portable".
const char *csk_kernel_name(void);

#ifdef __cplusplus
}
#endif

#endif
