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
        csk_log_row(z, y, p->k);
    } else {
        memcpy(y, z, (size_t)p->k * sizeof(float));
    }
    for (long j = p->k; j < p->kp; j++) y[j] = -INFINITY;
}

/// exp(λ (y − m) − b) for 16 columns (`ms`: m in every lane, `b`: their column shifts), as the dense method
/// stores it. Contraction is off: the same bits in the store and the streamed pass.
CSK_INLINE v16f csk_dense16(const CSKPrepare *p, v16f y, v16f ms, const float *b) {
#pragma clang fp contract(off)
    return csk_exp16((y - ms) * p->lambda - *(const v16f_u *)b);
}

/// 16 float32 values in [0, 1] rounded to `element` and stored at `out` (natural order; nearest-even).
CSK_INLINE void csk_store16(v16f v, int element, void *out) {
    if (element == CSK_F32) {
        *(v16f_u *)out = v;
        return;
    }
    v16u u;
    if (element == CSK_BF16) {
        u = (v16u)v;
        u = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
    } else {
        u = (v16u)(v * 0x1p-112f);  // the half's bits at position 13 (subnormals included)
        u = (u + 0x0FFFu + ((u >> 13) & 1u)) >> 13;
    }
    *(v16h_u *)out = __builtin_convertvector(u, v16h);
}

/// Row `row` of the dense method's matrix, `A_j = exp(λ (y_j − m) − b_j)` rounded to `element`, into `out` (kp
/// elements, 0 in the padding). Logits are read in place; probabilities through `y` (kp floats: their logarithms).
CSK_INLINE void csk_dense_row(const CSKPrepare *p, long row, const float *colShift, int element, void *out,
                              float *y) {
    const long k = p->k, kp = p->kp;
    const size_t eb = element == CSK_F32 ? 4 : 2;
    const v16f ms = csk_splat((float)p->rowShift[row]);
    char *o = (char *)out;
    if (p->probabilities) {
        csk_prepare_row(p, row, y);
        for (long j = 0; j < kp; j += 16)
            csk_store16(csk_dense16(p, *(const v16f_u *)(y + j), ms, colShift + j), element, o + (size_t)j * eb);
        return;
    }
    const float *z = p->scores + (size_t)row * (size_t)k;
    long j = 0;
    for (; j + 16 <= k; j += 16)
        csk_store16(csk_dense16(p, *(const v16f_u *)(z + j), ms, colShift + j), element, o + (size_t)j * eb);
    if (j < kp) {  // the last columns and the padding (−∞: 0)
        v16f tail;
        for (int t = 0; t < 16; t++) tail[t] = j + t < k ? z[j + t] : -INFINITY;
        csk_store16(csk_dense16(p, tail, ms, colShift + j), element, o + (size_t)j * eb);
    }
}

#endif
