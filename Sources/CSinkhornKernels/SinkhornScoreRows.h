// Private to CSinkhornKernels: one row of the scores as the dense method reads it (y = z or log P, and the
// shifted values exp(λ (y − m) − b)), shared by the store (SinkhornPrepare.c) and the streamed pass
// (SinkhornStream.c), so both compute the same bits.
#ifndef CSINKHORN_SCORE_ROWS_H
#define CSINKHORN_SCORE_ROWS_H

#include "SinkhornCommon.h"

#include <string.h>

/// Row `row`'s y (z, or log P) into `y` (kp floats; −∞ in the padding).
CSK_INLINE void csk_prepare_row(const CSKPrepare *p, long row, float *y) {
    const float *z = p->scores + (size_t)row * (size_t)p->k;
    if (p->probabilities) {
        long i = 0;
        for (; i + 16 <= p->k; i += 16) *(v16f_u *)(y + i) = csk_log16(*(const v16f_u *)(z + i));
        if (i < p->k) {
            float tail[16];
            for (int t = 0; t < 16; t++) tail[t] = i + t < p->k ? z[i + t] : 1.0f;
            v16f v = csk_log16(*(const v16f_u *)tail);
            for (long t = 0; i + t < p->k; t++) y[i + t] = v[t];
        }
    } else {
        memcpy(y, z, (size_t)p->k * sizeof(float));
    }
    for (long j = p->k; j < p->kp; j++) y[j] = -INFINITY;
}

/// exp(λ (y_j − m) − b_j) for the 16 columns from j (`ms`: m in every lane), as the dense method stores it.
/// Contraction is off: the same bits in the store and the streamed pass.
CSK_INLINE v16f csk_dense_value16(const CSKPrepare *p, const float *y, long j, v16f ms, const float *colShift) {
#pragma clang fp contract(off)
    v16f x = (*(const v16f_u *)(y + j) - ms) * p->lambda - *(const v16f_u *)(colShift + j);
    return csk_exp16(x);
}

#endif
