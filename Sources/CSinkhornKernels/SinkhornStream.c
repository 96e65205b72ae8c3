// The dense method's pass without a stored matrix: each group of CSK_GROUP rows of A_nk = exp(λ (y_nk − m_n) − b_k)
// is computed from the scores into a cache-resident chunk, with the same bits as the stored float32 matrix
// (SinkhornScoreRows.h), and then read by the same row pass (SinkhornDenseRows.h) in the same groups, so the
// iterates equal those over the stored matrix bit for bit. Instantiated per CPU like `csk_pass_block`.
#include "SinkhornCommon.h"
#include "SinkhornDenseRows.h"
#include "SinkhornScoreRows.h"

CSK_INLINE double csk_stream(const CSKPass *a, const CSKPrepare *p, const float *colShift, long r0, long r1,
                             double *acc, float *s, float *chunk, float *y) {
    const long kp = a->kp;
    memset(acc, 0, (size_t)kp * sizeof(double));
    double err = 0;
    for (long row = r0; row < r1; row += CSK_GROUP) {
        long end = row + CSK_GROUP < r1 ? row + CSK_GROUP : r1;
        for (long i = row; i < end; i++) {
            csk_prepare_row(p, i, y);
            v16f ms = csk_splat((float)p->rowShift[i]);
            float *out = chunk + (size_t)(i - row) * (size_t)kp;
            for (long j = 0; j < kp; j += 16) *(v16f_u *)(out + j) = csk_dense_value16(p, y, j, ms, colShift);
        }
        err += csk_group(a, row, end, (const char *)chunk, acc, s, CSK_F32, 0);
    }
    return err;
}

#define CSK_STREAM_INSTANCE(suffix, attr)                                                                   \
    attr static double csk_stream_##suffix(const CSKPass *a, const CSKPrepare *p, const float *colShift,   \
                                           long r0, long r1, double *acc, float *s, float *chunk, float *y) { \
        return csk_stream(a, p, colShift, r0, r1, acc, s, chunk, y);                                        \
    }

#ifdef CSK_X86
CSK_STREAM_INSTANCE(avx512, CSK_TARGET_AVX512)
CSK_STREAM_INSTANCE(avx2, CSK_TARGET_AVX2)
#endif
CSK_STREAM_INSTANCE(portable, )

double csk_stream_pass_block(const CSKPass *pass, const CSKPrepare *prepare, const float *colShift, long rowStart,
                             long rowEnd, double *acc, float *scratch, float *chunk, float *rowTemp) {
    CSK_DISPATCH(csk_stream, pass, prepare, colShift, rowStart, rowEnd, acc, scratch, chunk, rowTemp)
}
