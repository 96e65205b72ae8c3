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

/// x^n for n ≥ 1 by repeated squaring (at most 2 log₂ n products, each exactly rounded: the same bits on every
/// kernel). For x ≤ 1 every partial power is at least x^n, so none underflows before the result.
CSK_INLINE v16f csk_pow16(v16f x, int n) {
#pragma clang fp contract(off)
    while (!(n & 1)) {
        x = x * x;
        n >>= 1;
    }
    v16f result = x;
    for (n >>= 1; n; n >>= 1) {
        x = x * x;
        if (n & 1) result = result * x;
    }
    return result;
}

/// Probabilities with an integer λ (`p->power`): the row's `A_j = (P_j w_j)^λ` with `w_j = e^{−b_j/λ} / max P`,
/// which is `exp(λ (log P_j − log max P) − b_j)` without a logarithm or exponential per entry. Rounding
/// (u = 2⁻²⁴, first order): 4 roundings in `x = P_j w_j` (the root, the reciprocal, two products), 4λ in `x^λ`,
/// and λ − 1 in the powering: at most (5λ − 1) u, 7.4e-6 at λ 25 (measured at most 82 u there, against 223 u
/// for the logarithm's path, which carries the logarithm's error times λ; `SinkhornPowerRowTests`). Entries
/// below e^{−87} (`x < e^{−87/λ}`) are 0, as `csk_exp16` makes those below e^{−87.3}, so no partial power is
/// subnormal. False (nothing written) when the row's largest probability is below `CSK_POWER_MIN_TOP`.
CSK_INLINE int csk_power_row(const CSKPrepare *p, long row, int element, char *o) {
#pragma clang fp contract(off)
    const long k = p->k, kp = p->kp;
    const size_t eb = element == CSK_F32 ? 4 : 2;
    const float *z = p->scores + (size_t)row * (size_t)k;
    v16f mv = csk_splat(0.0f);
    long j = 0;
    for (; j + 16 <= k; j += 16) mv = __builtin_elementwise_max(mv, *(const v16f_u *)(z + j));
    float top = __builtin_reduce_max(mv);
    for (; j < k; j++) top = top > z[j] ? top : z[j];
    if (!(top >= CSK_POWER_MIN_TOP)) return 0;
    const v16f inv = csk_splat(1.0f / top);
    const v16f lowest = csk_splat((float)exp(-87.0 / (double)p->power));
    for (j = 0; j < kp; j += 16) {
        v16f q;
        if (j + 16 <= k) {
            q = *(const v16f_u *)(z + j);
        } else {  // the last columns and the padding (0)
            for (int t = 0; t < 16; t++) q[t] = j + t < k ? z[j + t] : 0.0f;
        }
        v16f x = q * (inv * *(const v16f_u *)(p->colRoot + j));
        x = (v16f)((v16u)x & (v16u)(x >= lowest));
        csk_store16(csk_pow16(x, p->power), element, o + (size_t)j * eb);
    }
    return 1;
}

/// Row `row` of the dense method's matrix, `A_j = exp(λ (y_j − m) − b_j)` rounded to `element`, into `out` (kp
/// elements, 0 in the padding). Logits are read in place; probabilities through `y` (kp floats: their logarithms),
/// or as powers (`csk_power_row`) where `p->power` is set.
CSK_INLINE void csk_dense_row(const CSKPrepare *p, long row, const float *colShift, int element, void *out,
                              float *y) {
    const long k = p->k, kp = p->kp;
    const size_t eb = element == CSK_F32 ? 4 : 2;
    const v16f ms = csk_splat((float)p->rowShift[row]);
    char *o = (char *)out;
    if (p->probabilities) {
        if (p->power > 0 && csk_power_row(p, row, element, o)) return;
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
