// The truncated method's kernels: building the kept entries of each row from the scores, the Sinkhorn pass
// over those entries, and the same pass over all entries computed on the fly from the scores (used for the
// cold start, for rebuilding and to evaluate the official stopping rule on the full matrix). Instantiated per
// CPU like `csk_pass_block` (see SinkhornPass.c).
#include "SinkhornCommon.h"
#include "SinkhornDenseRows.h"

#include <stdlib.h>
#include <string.h>

/// The 16 scores of a row from column j (fewer than 16 left in the row: the rest read as `fill`).
CSK_INLINE v16f csk_score16(const CSKScores *s, const float *z, long j, float fill) {
    if (j + 16 <= s->k) return *(const v16f_u *)(z + j);
    float tail[16];
    for (int i = 0; i < 16; i++) tail[i] = j + i < s->k ? z[j + i] : fill;
    return *(const v16f_u *)tail;
}

/// u_j = λ (y_j − m) + o_j for 16 columns starting at j, y = z or log P (past the row's end: 1, whose −∞
/// offsets make them −∞). Contraction is off: the same bits in every caller.
CSK_INLINE v16f csk_u16(const CSKScores *s, const float *z, long j, float m, const float *offset) {
#pragma clang fp contract(off)
    v16f zv = csk_score16(s, z, j, 1.0f);
    if (s->probabilities) zv = csk_log16(zv);
    return (zv - m) * s->lambda + *(const v16f_u *)(offset + j);
}

/// Screening (probabilities with `screenWeight`, the current column offsets): with q_j = P_j w_j, exactly (real
/// arithmetic) u_j = λ (log q_j − m) + ō, so u_j − M < −CSK_SCREEN exactly when q_j < e^{(M − ō − CSK_SCREEN)/λ + m}.
/// Such an entry's float32 u (error far below 1 for |u| < 10^6) lies more than 87.3 below M: a build does not
/// keep it (its drop is below 50) and `csk_exp16` gives 0 for it. A group of 16 such entries is skipped — its
/// logarithms are the costly part of a probabilities pass — with the same bits as computing it. The cut is used
/// only where it is a normal float well above q's rounding (≥ 2^−100).
#define CSK_SCREEN 89.0

/// q_j = P_j w_j for the 16 columns from j (0 past the row's end).
CSK_INLINE v16f csk_q16(const CSKScores *s, const float *z, long j) {
    return csk_score16(s, z, j, 0.0f) * *(const v16f_u *)(s->screenWeight + j);
}

/// The column offsets of the dense rows (those of the build that made them).
CSK_INLINE const float *csk_dense_offsets(const CSKScores *s) {
    return s->denseColOffset ? s->denseColOffset : s->colOffset;
}

/// e_j = exp(u_j − M) of one row into `out` (kp floats), u with the column offsets `offset`; the caller sums.
CSK_INLINE void csk_row_values(const CSKScores *s, long row, float M, const float *offset, float *out) {
#pragma clang fp contract(off)
    const float *z = s->scores + (size_t)row * (size_t)s->k;
    float m = (float)s->rowMax[row];
    for (long j = 0; j < s->kp; j += 16) *(v16f_u *)(out + j) = csk_exp16(csk_u16(s, z, j, m, offset) - M);
}

/// `csk_row_values` with the current column offsets, skipping the groups that are exactly 0 (see CSK_SCREEN).
CSK_INLINE void csk_row_values_screened(const CSKScores *s, long row, float M, float *out) {
#pragma clang fp contract(off)
    if (s->screenWeight) {
        const float *z = s->scores + (size_t)row * (size_t)s->k;
        float m = (float)s->rowMax[row];
        double cut = exp(((double)M - s->screenShift - CSK_SCREEN) / (double)s->lambda + (double)m);
        if (cut >= 0x1p-100 && cut <= 1.0) {
            v16f cuts = csk_splat((float)cut);
            for (long j = 0; j < s->kp; j += 16) {
                v16f v = {0};
                if (csk_any(csk_q16(s, z, j) >= cuts)) v = csk_exp16(csk_u16(s, z, j, m, s->colOffset) - M);
                *(v16f_u *)(out + j) = v;
            }
            return;
        }
    }
    csk_row_values(s, row, M, s->colOffset, out);
}

/// u_j (current column offsets) of one row into `u` (kp floats); returns their maximum M. Screened groups
/// (see CSK_SCREEN; `screenFactor` = e^{−CSK_SCREEN/λ}) read as −∞: the same M, kept entries and stored values.
CSK_INLINE float csk_row_u(const CSKScores *s, const float *z, float m, float screenFactor, float *u) {
#pragma clang fp contract(off)
    v16f mv = csk_splat(-INFINITY);
    int screened = 0;
    if (s->screenWeight) {
        v16f qv = {0};
        for (long j = 0; j < s->kp; j += 16) {
            v16f q = csk_q16(s, z, j);
            *(v16f_u *)(u + j) = q;
            qv = __builtin_elementwise_max(qv, q);
        }
        float qmax = qv[0];
        for (int i = 1; i < 16; i++) qmax = qmax > qv[i] ? qmax : qv[i];
        float cut = qmax * screenFactor;
        if (cut >= 0x1p-100f) {
            v16f cuts = csk_splat(cut);
            for (long j = 0; j < s->kp; j += 16) {
                v16f v = csk_splat(-INFINITY);
                if (csk_any(*(const v16f_u *)(u + j) >= cuts)) v = csk_u16(s, z, j, m, s->colOffset);
                *(v16f_u *)(u + j) = v;
                mv = __builtin_elementwise_max(mv, v);
            }
            screened = 1;
        }
    }
    if (!screened) {
        for (long j = 0; j < s->kp; j += 16) {
            v16f v = csk_u16(s, z, j, m, s->colOffset);
            *(v16f_u *)(u + j) = v;
            mv = __builtin_elementwise_max(mv, v);
        }
    }
    float M = mv[0];
    for (int i = 1; i < 16; i++) M = M > mv[i] ? M : mv[i];
    return M;
}

/// Room for one more dense row (its values, `kp` floats, when `storeDense`; its index and c' slot) in `b`; 0
/// when memory ran out.
CSK_INLINE int csk_grow_dense(CSKSparseBlock *b, long kp, int storeDense) {
    if (b->denseRows < b->denseCapacity) return 1;
    long cap = b->denseCapacity ? b->denseCapacity * 2 : 16;
    if (storeDense) {
        float *dense = realloc(b->dense, (size_t)cap * (size_t)kp * sizeof(float));
        if (!dense) return 0;
        b->dense = dense;
    }
    long *index = realloc(b->denseIndex, (size_t)cap * sizeof(long));
    if (!index) return 0;
    b->denseIndex = index;
    double *c = realloc(b->denseC, (size_t)cap * sizeof(double));
    if (!c) return 0;
    b->denseC = c;
    b->denseCapacity = cap;
    return 1;
}

CSK_INLINE long csk_build(const CSKScores *s, long r0, long r1, float drop, long maxCount, long denseRowMin,
                          int storeDense, int keepDense, CSKSparseBlock *b, float *u) {
#pragma clang fp contract(off)
    long rows = r1 - r0;
    if (keepDense && (b->rows != rows || b->denseStored != storeDense || !b->start)) return -3;
    if (b->rows < rows || !b->start) {
        long *start = realloc(b->start, (size_t)(rows + 1) * sizeof(long));
        if (!start) return -2;
        b->start = start;
    }
    b->rows = rows;
    if (!keepDense) b->denseRows = 0;
    if (b->denseStored != storeDense) {  // stored values are kept (capacity included) only while storing
        free(b->dense);
        b->dense = NULL;
        b->denseCapacity = 0;
        b->denseStored = storeDense;
    }
    long count = 0, nextDense = 0;
    const float screenFactor = (float)exp(-CSK_SCREEN / (double)s->lambda);
    for (long row = r0; row < r1; row++) {
        if (keepDense && nextDense < b->denseRows && b->denseIndex[nextDense] == row - r0) {
            nextDense++;  // kept as it is: values, M_n and offsets of the build that made it dense
            b->start[row - r0] = count;
            continue;
        }
        const float *z = s->scores + (size_t)row * (size_t)s->k;
        float M = csk_row_u(s, z, (float)s->rowMax[row], screenFactor, u);
        s->rowOffset[row] = M;
        b->start[row - r0] = count;
        float threshold = M - drop;
        v16i nearv = {0};  // lanes of a true comparison are −1
        for (long j = 0; j < s->kp; j += 16) nearv += *(const v16f_u *)(u + j) >= threshold;
        long near = -(long)__builtin_reduce_add(nearv);
        if (denseRowMin > 0 && near > denseRowMin) {  // a flat row: every entry, stored densely
            if (keepDense) return -3;  // the dense rows change: a build of every row
            if (count + (b->denseRows + 1) * s->kp > maxCount) return -1;
            if (!csk_grow_dense(b, s->kp, storeDense)) return -2;
            if (storeDense) {
                float *out = b->dense + (size_t)b->denseRows * (size_t)s->kp;
                for (long j = 0; j < s->kp; j += 16) *(v16f_u *)(out + j) = csk_exp16(*(const v16f_u *)(u + j) - M);
            }
            b->denseIndex[b->denseRows++] = row - r0;
            continue;
        }
        if (count + near + b->denseRows * s->kp > maxCount) return -1;
        if (count + near > b->capacity) {
            long cap = b->capacity ? b->capacity : 4096;
            while (cap < count + near) cap *= 2;
            uint16_t *cols = realloc(b->cols, (size_t)cap * sizeof(uint16_t));
            if (!cols) return -2;
            b->cols = cols;
            float *vals = realloc(b->vals, (size_t)cap * sizeof(float));
            if (!vals) return -2;
            b->vals = vals;
            b->capacity = cap;
        }
        for (long j = 0; j < s->kp; j += 16) {
            v16f v = *(const v16f_u *)(u + j);
            v16i keep = v >= threshold;
            if (!csk_any(keep)) continue;
            v16f e = csk_exp16(v - M);
            for (int i = 0; i < 16; i++) {
                if (!keep[i]) continue;
                b->cols[count] = (uint16_t)(j + i);
                b->vals[count] = e[i];
                count++;
            }
        }
    }
    b->start[rows] = count;
    b->count = count;
    return count + b->denseRows * s->kp;
}

CSK_INLINE double csk_truncated_pass(const CSKPass *a, const CSKScores *sc, const CSKSparseBlock *b, long r0,
                                     double *acc, float *scratch, float *chunk) {
    double err = 0;
    memset(acc, 0, (size_t)a->kp * sizeof(double));
    if (b->denseRows > 0 && !a->skipDense) {  // the dense rows first, by the dense method's row pass over their own matrix
        for (long i = 0; i < b->denseRows; i++) b->denseC[i] = a->c[r0 + b->denseIndex[i]];
        CSKPass d = *a;
        d.c = b->denseC;
        if (a->r32Dense) d.r32 = a->r32Dense;
        if (b->denseStored) {
            d.matrix = b->dense;
            err += csk_block(&d, 0, b->denseRows, acc, scratch, CSK_F32, 0);
        } else {  // the same groups, computed from the scores (csk_block zeroes acc; it is zero here)
            for (long g = 0; g < b->denseRows; g += CSK_GROUP) {
                long end = g + CSK_GROUP < b->denseRows ? g + CSK_GROUP : b->denseRows;
                for (long i = g; i < end; i++) {
                    long row = r0 + b->denseIndex[i];
                    csk_row_values(sc, row, sc->rowOffset[row], csk_dense_offsets(sc),
                                   chunk + (size_t)(i - g) * (size_t)a->kp);
                }
                err += csk_group(&d, g, end, (const char *)chunk, acc, scratch, CSK_F32, 0);
            }
        }
        if (a->denseScale)
            for (long j = 0; j < a->kp; j++) acc[j] *= a->denseScale[j];
        for (long i = 0; i < b->denseRows; i++) a->c[r0 + b->denseIndex[i]] = b->denseC[i];
    }
    if (a->denseAcc && !a->skipDense) memcpy(a->denseAcc, acc, (size_t)a->kp * sizeof(double));
    const uint16_t *cols = b->cols;
    const float *vals = b->vals, *r = a->r32;
    long nextDense = 0;
    for (long i = 0; i < b->rows; i++) {
        if (nextDense < b->denseRows && b->denseIndex[nextDense] == i) {
            nextDense++;
            continue;
        }
        long s = b->start[i], e = b->start[i + 1];
        double dot = 0;
        if (a->iterate) {
            double d0 = 0, d1 = 0, d2 = 0, d3 = 0;  // four chains: the adds' latency, not their count, binds
            long t = s;
            for (; t + 4 <= e; t += 4) {
                d0 += (double)(vals[t] * r[cols[t]]);
                d1 += (double)(vals[t + 1] * r[cols[t + 1]]);
                d2 += (double)(vals[t + 2] * r[cols[t + 2]]);
                d3 += (double)(vals[t + 3] * r[cols[t + 3]]);
            }
            for (; t < e; t++) d0 += (double)(vals[t] * r[cols[t]]);
            dot = (d0 + d1) + (d2 + d3);
        }
        double c = csk_finish(a, r0 + i, dot, &err);
        for (long t = s; t < e; t++) acc[cols[t]] += (double)vals[t] * c;
    }
    return err;
}

CSK_INLINE double csk_scores_pass(const CSKPass *a, const CSKScores *s, const CSKSparseBlock *b, long r0, long r1,
                                  double *acc, float *temp) {
    const long kp = a->kp;
    memset(acc, 0, (size_t)kp * sizeof(double));
    double err = 0;
    long nextDense = 0;
    for (long row = r0; row < r1; row++) {
        const float *e = temp, *r = a->r32;
        const double *scale = NULL;
        if (b && nextDense < b->denseRows && b->denseIndex[nextDense] == row - r0) {  // a dense row of the build
            if (b->denseStored) {
                e = b->dense + (size_t)nextDense * (size_t)kp;  // the same bits csk_row_values computes
            } else {
                csk_row_values(s, row, s->rowOffset[row], csk_dense_offsets(s), temp);
            }
            nextDense++;
            if (a->r32Dense) r = a->r32Dense;
            scale = a->denseScale;
        } else {
            csk_row_values_screened(s, row, s->rowOffset ? s->rowOffset[row] : 0.0f, temp);
        }
        double dot = 0;
        if (a->iterate) {
            v8d d0 = {0}, d1 = {0};
            for (long j = 0; j < kp; j += 16) {
                v16f p = *(const v16f_u *)(e + j) * *(const v16f_u *)(r + j);
                d0 += csk_lo8(p);
                d1 += csk_hi8(p);
            }
            dot = csk_hsum(d0 + d1);
        }
        double c = csk_finish(a, row, dot, &err);
        v8d cv = {c, c, c, c, c, c, c, c};
        if (scale) {
            for (long j = 0; j < kp; j += 16) {
                v16f v = *(const v16f_u *)(e + j);
                *(v8d_u *)(acc + j) = *(const v8d_u *)(acc + j) + csk_lo8(v) * (cv * *(const v8d_u *)(scale + j));
                *(v8d_u *)(acc + j + 8) =
                    *(const v8d_u *)(acc + j + 8) + csk_hi8(v) * (cv * *(const v8d_u *)(scale + j + 8));
            }
            continue;
        }
        for (long j = 0; j < kp; j += 16) {
            v16f v = *(const v16f_u *)(e + j);
            *(v8d_u *)(acc + j) = *(const v8d_u *)(acc + j) + csk_lo8(v) * cv;
            *(v8d_u *)(acc + j + 8) = *(const v8d_u *)(acc + j + 8) + csk_hi8(v) * cv;
        }
    }
    return err;
}

#define CSK_TRUNCATED_INSTANCE(suffix, attr)                                                              \
    attr static long csk_build_##suffix(const CSKScores *s, long r0, long r1, float drop, long maxCount,  \
                                        long denseRowMin, int storeDense, int keepDense, CSKSparseBlock *b, \
                                        float *u) {                                                       \
        return csk_build(s, r0, r1, drop, maxCount, denseRowMin, storeDense, keepDense, b, u);            \
    }                                                                                                     \
    attr static double csk_truncated_##suffix(const CSKPass *a, const CSKScores *sc, const CSKSparseBlock *b, \
                                              long r0, double *acc, float *scratch, float *chunk) {      \
        return csk_truncated_pass(a, sc, b, r0, acc, scratch, chunk);                                     \
    }                                                                                                     \
    attr static double csk_scores_##suffix(const CSKPass *a, const CSKScores *s, const CSKSparseBlock *b,  \
                                           long r0, long r1, double *acc, float *e) {                     \
        return csk_scores_pass(a, s, b, r0, r1, acc, e);                                                  \
    }

#ifdef CSK_X86
CSK_TRUNCATED_INSTANCE(avx512, CSK_TARGET_AVX512)
CSK_TRUNCATED_INSTANCE(avx2, CSK_TARGET_AVX2)
#endif
CSK_TRUNCATED_INSTANCE(portable, )

long csk_truncated_build_block(const CSKScores *scores, long rowStart, long rowEnd, float drop, long maxCount,
                               long denseRowMin, int storeDense, int keepDense, CSKSparseBlock *block,
                               float *rowTemp) {
    CSK_DISPATCH(csk_build, scores, rowStart, rowEnd, drop, maxCount, denseRowMin, storeDense, keepDense, block,
                 rowTemp)
}

void csk_sparse_block_free(CSKSparseBlock *block) {
    free(block->start);
    free(block->cols);
    free(block->vals);
    free(block->dense);
    free(block->denseIndex);
    free(block->denseC);
    memset(block, 0, sizeof *block);
}

double csk_truncated_pass_block(const CSKPass *pass, const CSKScores *scores, const CSKSparseBlock *block,
                                long rowStart, double *acc, float *scratch, float *chunk) {
    CSK_DISPATCH(csk_truncated, pass, scores, block, rowStart, acc, scratch, chunk)
}

double csk_scores_pass_block(const CSKPass *pass, const CSKScores *scores, const CSKSparseBlock *block,
                             long rowStart, long rowEnd, double *acc, float *rowTemp) {
    CSK_DISPATCH(csk_scores, pass, scores, block, rowStart, rowEnd, acc, rowTemp)
}
