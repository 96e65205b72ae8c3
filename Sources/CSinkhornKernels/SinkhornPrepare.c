// The prepare step's two reads of the scores (SelfLabelling's SinkhornPrepare): per-row statistics with
// validation, and the store of the dense method's shifted matrix. Instantiated per CPU like `csk_pass_block`
// (see SinkhornPass.c); contraction is off, so every kernel instance computes the same bits.
#include "SinkhornCommon.h"
#include "SinkhornScoreRows.h"

#include <stdlib.h>
#include <string.h>

/// The first bad entry of a row in row-major order (non-finite; for probabilities negative or above 1, then
/// an all-zero row as column −1); 0 when the row is valid.
CSK_INLINE int csk_check_row(const CSKPrepare *p, long row, CSKBadScore *bad) {
    const float *z = p->scores + (size_t)row * (size_t)p->k;
    v16i finite = {0};
    long j = 0;
    int clean = 1;
    for (; j + 16 <= p->k; j += 16) {
        v16f v = *(const v16f_u *)(z + j);
        finite |= (v16i)(v - v != 0.0f);
    }
    for (int i = 0; i < 16; i++) clean &= finite[i] == 0;
    for (; j < p->k; j++) clean &= (z[j] - z[j]) == 0.0f;
    if (!clean) {
        for (j = 0; j < p->k; j++) {
            if ((z[j] - z[j]) != 0.0f) {
                *bad = (CSKBadScore){row, j, z[j], 0};
                return 1;
            }
        }
    }
    if (!p->probabilities) return 0;
    v16i outside = {0}, positives = {0};
    for (j = 0; j + 16 <= p->k; j += 16) {
        v16f v = *(const v16f_u *)(z + j);
        outside |= (v < 0.0f) | (v > 1.0f);
        positives |= v > 0.0f;
    }
    int inside = 1, positive = 0;
    for (int i = 0; i < 16; i++) {
        inside &= outside[i] == 0;
        positive |= positives[i] != 0;
    }
    for (; j < p->k; j++) {
        inside &= z[j] >= 0.0f && z[j] <= 1.0f;
        positive |= z[j] > 0.0f;
    }
    if (!inside) {
        for (j = 0; j < p->k; j++) {
            if (z[j] < 0.0f || z[j] > 1.0f) {
                *bad = (CSKBadScore){row, j, z[j], 1};
                return 1;
            }
        }
    }
    if (!positive) {
        *bad = (CSKBadScore){row, -1, 0.0f, 1};
        return 1;
    }
    return 0;
}

/// Probabilities: the statistics of rows r0..<r1 without a logarithm per entry. With y = log P and
/// m = max_j y_j = log max_j P_j, y_j − m = log(P_j / max P), so the column maxima of y − m are the logarithms
/// of the column maxima of the ratios (taken once per column at the end of the block), and an entry is within
/// the drop of its row's maximum when its ratio is at least e^{−drop/λ}. m is the logarithm of the largest P
/// (the same float32 logarithm, `csk_log16`).
CSK_INLINE int csk_statistics_probabilities(const CSKPrepare *p, long r0, long r1, float *colMax, float *ratio,
                                            long *near, long *flat, CSKBadScore *bad) {
#pragma clang fp contract(off)
    const long k = p->k, kp = p->kp;
    for (long j = 0; j < kp; j++) colMax[j] = 0.0f;
    const v16f threshold = csk_splat((float)exp(-(double)p->drop / (double)p->lambda));
    const v16f flatThreshold = csk_splat((float)exp(-(double)CSK_FLAT_RANGE / (double)p->lambda));
    long count = 0, flatCount = 0;
    for (long row = r0; row < r1; row++) {
        if (csk_check_row(p, row, bad)) return 1;
        const float *z = p->scores + (size_t)row * (size_t)k;
        memcpy(ratio, z, (size_t)k * sizeof(float));
        for (long j = k; j < kp; j++) ratio[j] = 0.0f;
        v16f mv = csk_splat(0.0f);
        for (long j = 0; j < kp; j += 16) mv = __builtin_elementwise_max(mv, *(const v16f_u *)(ratio + j));
        float top = mv[0];
        for (int i = 1; i < 16; i++) top = top > mv[i] ? top : mv[i];
        v16f tops = csk_splat(top);
        v16i nearv = {0}, flatv = {0};  // lanes of a true comparison are −1
        for (long j = 0; j < kp; j += 16) {
            v16f q = *(const v16f_u *)(ratio + j) / tops;
            *(v16f_u *)(colMax + j) = __builtin_elementwise_max(*(const v16f_u *)(colMax + j), q);
            nearv += (q >= threshold) & (q > 0.0f);
            flatv += (q >= flatThreshold) & (q > 0.0f);
        }
        long rowNear = -(long)__builtin_reduce_add(nearv);
        flatCount -= (long)__builtin_reduce_add(flatv);
        count += p->denseRowMin > 0 && rowNear > p->denseRowMin ? kp : rowNear;
        float m = csk_log16(tops)[0];
        p->rowShift[row] = (double)m;
        p->logC0[row] = (double)p->lambda * (double)m;
    }
    for (long j = 0; j < kp; j += 16) *(v16f_u *)(colMax + j) = csk_log16(*(const v16f_u *)(colMax + j));
    *near = count;
    *flat = flatCount;
    return 0;
}

CSK_INLINE int csk_statistics(const CSKPrepare *p, long r0, long r1, float *colMax, float *y, long *near,
                              long *flat, CSKBadScore *bad) {
#pragma clang fp contract(off)
    if (p->probabilities) return csk_statistics_probabilities(p, r0, r1, colMax, y, near, flat, bad);
    const long kp = p->kp;
    for (long j = 0; j < kp; j++) colMax[j] = -INFINITY;
    long count = 0, flatCount = 0;
    const v16f threshold = csk_splat(-p->drop), flatThreshold = csk_splat(-CSK_FLAT_RANGE);
    for (long row = r0; row < r1; row++) {
        if (csk_check_row(p, row, bad)) return 1;
        csk_prepare_row(p, row, y);
        v16f mv = csk_splat(-INFINITY);
        for (long j = 0; j < kp; j += 16) mv = __builtin_elementwise_max(mv, *(const v16f_u *)(y + j));
        float m = mv[0];
        for (int i = 1; i < 16; i++) m = m > mv[i] ? m : mv[i];
        v16f ms = csk_splat(m), sums = {0};
        v16i nearv = {0}, flatv = {0};  // lanes of a true comparison are −1
        for (long j = 0; j < kp; j += 16) {
            v16f d = *(const v16f_u *)(y + j) - ms;
            *(v16f_u *)(colMax + j) = __builtin_elementwise_max(*(const v16f_u *)(colMax + j), d);
            v16f u = d * p->lambda;
            nearv += u >= threshold;
            flatv += u >= flatThreshold;
            sums += csk_exp16(d);
        }
        long rowNear = -(long)__builtin_reduce_add(nearv);
        flatCount -= (long)__builtin_reduce_add(flatv);
        count += p->denseRowMin > 0 && rowNear > p->denseRowMin ? kp : rowNear;
        p->rowShift[row] = (double)m;
        float s = 0;
        for (int i = 0; i < 16; i++) s += sums[i];
        p->logC0[row] = -(double)p->lambda * log((double)s);
    }
    *near = count;
    *flat = flatCount;
    return 0;
}

CSK_INLINE void csk_store(const CSKPrepare *p, long r0, long r1, const float *colShift, int element, void *matrix,
                          float *y) {
    const size_t rowBytes = (size_t)p->kp * (element == CSK_F32 ? 4 : 2);
    for (long row = r0; row < r1; row++) csk_dense_row(p, row, colShift, element, (char *)matrix + (size_t)row * rowBytes, y);
}

#define CSK_PREPARE_INSTANCE(suffix, attr)                                                                 \
    attr static int csk_statistics_##suffix(const CSKPrepare *p, long r0, long r1, float *colMax, float *y, \
                                            long *near, long *flat, CSKBadScore *bad) {                    \
        return csk_statistics(p, r0, r1, colMax, y, near, flat, bad);                                      \
    }                                                                                                      \
    attr static void csk_store_##suffix(const CSKPrepare *p, long r0, long r1, const float *colShift,      \
                                        int element, void *matrix, float *y) {                             \
        csk_store(p, r0, r1, colShift, element, matrix, y);                                                \
    }

#ifdef CSK_X86
CSK_PREPARE_INSTANCE(avx512, CSK_TARGET_AVX512)
CSK_PREPARE_INSTANCE(avx2, CSK_TARGET_AVX2)
#endif
CSK_PREPARE_INSTANCE(portable, )

int csk_statistics_block(const CSKPrepare *prepare, long rowStart, long rowEnd, float *colMax, float *rowTemp,
                         long *near, long *flat, CSKBadScore *bad) {
    CSK_DISPATCH(csk_statistics, prepare, rowStart, rowEnd, colMax, rowTemp, near, flat, bad)
}

void csk_store_block(const CSKPrepare *prepare, long rowStart, long rowEnd, const float *colShift, int element,
                     void *matrix, float *rowTemp) {
    CSK_DISPATCH(csk_store, prepare, rowStart, rowEnd, colShift, element, matrix, rowTemp)
}
