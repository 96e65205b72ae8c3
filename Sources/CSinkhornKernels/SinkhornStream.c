// The dense method's pass without a stored matrix: each group of CSK_GROUP rows of A_nk = exp(λ (y_nk − m_n) − b_k)
// is computed from the scores into a cache-resident chunk, with the same bits as the stored float32 matrix
// (SinkhornScoreRows.h), and then read by the same row pass (SinkhornDenseRows.h) in the same groups, so the
// iterates equal those over the stored matrix bit for bit. The store fused with the first pass works the same
// way, each group written to its place in the stored matrix and read there. Instantiated per CPU like
// `csk_pass_block`.
#include "SinkhornCommon.h"
#include "SinkhornDenseRows.h"
#include "SinkhornScoreRows.h"

/// Rows [r0, r1) in groups of CSK_GROUP from r0 on: each group of the matrix is computed from the scores
/// (`csk_dense_row`) into `out` (`stored`: the group's own rows of the stored matrix, as `element`; otherwise the
/// cache-resident float32 `chunk`) and read there by the row pass.
CSK_INLINE double csk_stream(const CSKPass *a, const CSKPrepare *p, const float *colShift, long r0, long r1,
                             double *acc, float *s, void *out, int stored, int element, int f16c, float *y) {
    const long kp = a->kp;
    const size_t rowBytes = (size_t)kp * (element == CSK_F32 ? 4 : 2);
    memset(acc, 0, (size_t)kp * sizeof(double));
    double err = 0;
    for (long row = r0; row < r1; row += CSK_GROUP) {
        long end = row + CSK_GROUP < r1 ? row + CSK_GROUP : r1;
        char *first = stored ? (char *)out + (size_t)row * rowBytes : (char *)out;
        for (long i = row; i < end; i++) csk_dense_row(p, i, colShift, element, first + (size_t)(i - row) * rowBytes, y);
        err += csk_group(a, row, end, first, acc, s, element, f16c);
    }
    return err;
}

#define CSK_STREAM_INSTANCE(suffix, attr, f16c)                                                             \
    attr static double csk_stream_##suffix(const CSKPass *a, const CSKPrepare *p, const float *colShift,   \
                                           long r0, long r1, double *acc, float *s, float *chunk, float *y) { \
        return csk_stream(a, p, colShift, r0, r1, acc, s, chunk, 0, CSK_F32, 0, y);                         \
    }                                                                                                       \
    attr static double csk_store_pass_##suffix(const CSKPass *a, const CSKPrepare *p, const float *colShift, \
                                               long r0, long r1, int element, void *matrix, double *acc,    \
                                               float *s, float *y) {                                        \
        switch (element) {                                                                                  \
        case CSK_F32: return csk_stream(a, p, colShift, r0, r1, acc, s, matrix, 1, CSK_F32, f16c, y);       \
        case CSK_BF16: return csk_stream(a, p, colShift, r0, r1, acc, s, matrix, 1, CSK_BF16, f16c, y);     \
        default: return csk_stream(a, p, colShift, r0, r1, acc, s, matrix, 1, CSK_F16, f16c, y);            \
        }                                                                                                   \
    }

#ifdef CSK_X86
CSK_STREAM_INSTANCE(avx512, CSK_TARGET_AVX512, 1)
CSK_STREAM_INSTANCE(avx2, CSK_TARGET_AVX2, 1)
#endif
CSK_STREAM_INSTANCE(portable, , 0)

double csk_stream_pass_block(const CSKPass *pass, const CSKPrepare *prepare, const float *colShift, long rowStart,
                             long rowEnd, double *acc, float *scratch, float *chunk, float *rowTemp) {
    CSK_DISPATCH(csk_stream, pass, prepare, colShift, rowStart, rowEnd, acc, scratch, chunk, rowTemp)
}

double csk_store_pass_block(const CSKPass *pass, const CSKPrepare *prepare, const float *colShift, long rowStart,
                            long rowEnd, int element, void *matrix, double *acc, float *scratch, float *rowTemp) {
    CSK_DISPATCH(csk_store_pass, pass, prepare, colShift, rowStart, rowEnd, element, matrix, acc, scratch, rowTemp)
}
