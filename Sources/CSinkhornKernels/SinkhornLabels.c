// The label pass (SelfLabelling's SinkhornLabels): label_n = argmax_k (log r_k + λ y_nk), decided in float64,
// after a float32 screen that leaves only the columns that can hold the float64 maximum. Instantiated per CPU
// like `csk_pass_block` (see SinkhornPass.c); the screen's bits may differ between instances, the labels do not.
#include "SinkhornCommon.h"

#include <float.h>

/// The first column maximising `log r_j + λ y_j` in float64 among those whose float32 screen value reaches
/// `threshold` (`y` = z, or the float32 logarithms of P in `y32`); `z` supplies the float64 values.
CSK_INLINE long csk_label_exact(const CSKLabels *l, const float *z, const float *y32, v16f lamv, float threshold) {
#pragma clang fp contract(off)
    const long k = l->k;
    const v16f cut = csk_splat(threshold);
    double best = -INFINITY;
    long arg = 0;
    long j = 0;
    for (; j <= k; j += 16) {
        int full = j + 16 <= k;
        if (full) {
            v16f v = *(const v16f_u *)(l->logR32 + j) + lamv * *(const v16f_u *)(y32 + j);
            if (!csk_any(v >= cut)) continue;
        }
        long end = full ? j + 16 : k;
        for (long i = j; i < end; i++) {
            if (l->logR32[i] + l->lambda * y32[i] >= threshold) {
                double y = l->probabilities ? log((double)z[i]) : (double)z[i];
                double v = l->logR[i] + l->lambda64 * y;
                if (v > best) {
                    best = v;
                    arg = i;
                }
            }
        }
    }
    return arg;
}

/// A row's label from its y values (`y32`: z, or float32 logarithms of P): the screen keeps the columns with
/// `v_j = log r_j + λ y_j` (float32) at least `m − δ`, m the row's largest v and
/// `δ = deltaScale (max|log r| + |λ| max_j |y_j|)` over the finite y, which bounds the screen's error.
CSK_INLINE long csk_label_row(const CSKLabels *l, const float *z, const float *y32, double deltaScale) {
#pragma clang fp contract(off)
    const long k = l->k;
    const v16f lamv = csk_splat(l->lambda);
    v16f mv = csk_splat(-INFINITY), av = csk_splat(0.0f);
    long j = 0;
    for (; j + 16 <= k; j += 16) {
        v16f y = *(const v16f_u *)(y32 + j);
        mv = __builtin_elementwise_max(mv, *(const v16f_u *)(l->logR32 + j) + lamv * y);
        av = __builtin_elementwise_max(av, (v16f)((v16u)y & 0x7FFFFFFFu));
    }
    float m = __builtin_reduce_max(mv), maxAbs = __builtin_reduce_max(av);
    for (; j < k; j++) {
        float v = l->logR32[j] + l->lambda * y32[j];
        m = m > v ? m : v;
        float a = fabsf(y32[j]);
        maxAbs = maxAbs > a ? maxAbs : a;
    }
    double maxAbsY = maxAbs;
    if (!isfinite(maxAbsY)) {  // log 0 = −∞ in a probability row: the bound is over the finite values
        maxAbsY = 0;
        for (long i = 0; i < k; i++)
            if (isfinite(y32[i]) && fabs((double)y32[i]) > maxAbsY) maxAbsY = fabs((double)y32[i]);
    }
    double delta = deltaScale * (l->maxAbsLogR + fabs(l->lambda64) * maxAbsY) + DBL_MIN;
    return csk_label_exact(l, z, y32, lamv, (float)((double)m - delta));
}

/// Probabilities without a logarithm per entry: the screen by `q_j = P_j w_j`, which orders the columns like
/// `log r_j + λ log P_j`; every column whose q is within 2⁻²⁰ of the largest is evaluated in float64 (q carries
/// at most about 2.4e-7 relative error). −1 when the largest q is below 2⁻¹⁰⁰ (q's rounding no longer relative).
CSK_INLINE long csk_label_weights(const CSKLabels *l, const float *z) {
#pragma clang fp contract(off)
    const long k = l->k;
    const float *w = l->weights;
    v16f qv = csk_splat(0.0f);
    long j = 0;
    for (; j + 16 <= k; j += 16)
        qv = __builtin_elementwise_max(qv, *(const v16f_u *)(z + j) * *(const v16f_u *)(w + j));
    float qmax = __builtin_reduce_max(qv);
    for (; j < k; j++) {
        float q = z[j] * w[j];
        qmax = qmax > q ? qmax : q;
    }
    if (!(qmax >= 0x1p-100f)) return -1;
    const float cut = qmax * (1.0f - 0x1p-20f);
    const v16f cuts = csk_splat(cut);
    double best = -INFINITY;
    long arg = 0;
    for (j = 0; j <= k; j += 16) {
        int full = j + 16 <= k;
        if (full && !csk_any(*(const v16f_u *)(z + j) * *(const v16f_u *)(w + j) >= cuts)) continue;
        long end = full ? j + 16 : k;
        for (long i = j; i < end; i++) {
            if (z[i] * w[i] >= cut) {
                double v = l->logR[i] + l->lambda64 * log((double)z[i]);
                if (v > best) {
                    best = v;
                    arg = i;
                }
            }
        }
    }
    return arg;
}

CSK_INLINE void csk_labels(const CSKLabels *l, long r0, long r1, int32_t *out, float *y) {
    for (long row = r0; row < r1; row++) {
        const float *z = l->scores + (size_t)row * (size_t)l->k;
        long arg;
        if (!l->probabilities) {
            arg = csk_label_row(l, z, z, 0x1p-20);
        } else if (!l->weights || (arg = csk_label_weights(l, z)) < 0) {
            csk_log_row(z, y, l->k);
            arg = csk_label_row(l, z, y, 0x1p-19);
        }
        out[row] = (int32_t)arg;
    }
}

#define CSK_LABELS_INSTANCE(suffix, attr)                                                                  \
    attr static void csk_labels_##suffix(const CSKLabels *l, long r0, long r1, int32_t *out, float *y) {  \
        csk_labels(l, r0, r1, out, y);                                                                     \
    }

#ifdef CSK_X86
CSK_LABELS_INSTANCE(avx512, CSK_TARGET_AVX512)
CSK_LABELS_INSTANCE(avx2, CSK_TARGET_AVX2)
#endif
CSK_LABELS_INSTANCE(portable, )

void csk_labels_block(const CSKLabels *labels, long rowStart, long rowEnd, int32_t *out, float *rowTemp) {
    CSK_DISPATCH(csk_labels, labels, rowStart, rowEnd, out, rowTemp)
}
