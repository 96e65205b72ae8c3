// Private to CSinkhornKernels: the dense row pass over a stored matrix (8 rows per group, float32 cluster sums
// within 64 rows, then float64), shared by the dense method (SinkhornPass.c) and the dense rows of the
// truncated method's hybrid blocks (SinkhornTruncated.c).
#ifndef CSINKHORN_DENSE_ROWS_H
#define CSINKHORN_DENSE_ROWS_H

#include "SinkhornCommon.h"

#include <string.h>

/// 16 stored elements at `p` as float32, natural order. `f16c`: convert halves with the F16C instruction
/// (the caller's target must have it); otherwise bits << 13 times 2^112 (exact for values in [0, 1]).
CSK_INLINE v16f csk_load16(const void *p, int element, int f16c) {
    if (element == CSK_F32) return *(const v16f_u *)p;
    if (element == CSK_F16 && f16c) return __builtin_convertvector(*(const v16half_u *)p, v16f);
    v16u w = __builtin_convertvector(*(const v16h_u *)p, v16u);
    if (element == CSK_BF16) return (v16f)(w << 16);
    return (v16f)(w << 13) * 0x1p112f;
}

/// Rows row..row+R-1 (R = CSK_ROWS or 1), whose stored elements start at `first` (rows kp elements apart): the
/// dot products with r', the c update, and s += Σ_rows A_row c'_row.
#define CSK_ROWS 8

CSK_INLINE double csk_rows(const CSKPass *a, long row, int R, const char *first, float *s, int element, int f16c) {
    const long kp = a->kp;
    const size_t rowBytes = (size_t)kp * (element == CSK_F32 ? 4 : 2), eb = element == CSK_F32 ? 4 : 2;
    const char *p[CSK_ROWS];
    for (int i = 0; i < R; i++) p[i] = first + (size_t)i * rowBytes;
    double dot[CSK_ROWS] = {0};
    if (a->iterate) {
        v8d d[CSK_ROWS] = {{0}};
        for (long start = 0; start < kp; start += 256) {  // float64 partial sums every 256 columns
            long stop = start + 256 < kp ? start + 256 : kp;
            v16f acc[CSK_ROWS] = {{0}};
            for (long j = start; j < stop; j += 16) {
                v16f rv = *(const v16f_u *)(a->r32 + j);
                for (int i = 0; i < R; i++) acc[i] += csk_load16(p[i] + j * eb, element, f16c) * rv;
            }
            for (int i = 0; i < R; i++) d[i] += csk_widen(acc[i]);
        }
        for (int i = 0; i < R; i++) dot[i] = csk_hsum(d[i]);
    }
    double err = 0;
    float cf[CSK_ROWS];
    for (int i = 0; i < R; i++) cf[i] = (float)csk_finish(a, row + i, dot[i], &err);
    for (long j = 0; j < kp; j += 16) {
        v16f v = *(v16f_u *)(s + j);
        for (int i = 0; i < R; i++) v += csk_load16(p[i] + j * eb, element, f16c) * cf[i];
        *(v16f_u *)(s + j) = v;
    }
    return err;
}

/// Rows per group: the cluster sums are float32 within a group, then added to the float64 `acc`.
#define CSK_GROUP 64

/// One group, rows [row, end) (at most CSK_GROUP), stored from `first` on: 8 rows at a time, then one by one;
/// `s` (kp floats) is zeroed first and added to `acc` at the end.
CSK_INLINE double csk_group(const CSKPass *a, long row, long end, const char *first, double *acc, float *s,
                            int element, int f16c) {
    const long kp = a->kp;
    const size_t rowBytes = (size_t)kp * (element == CSK_F32 ? 4 : 2);
    memset(s, 0, (size_t)kp * sizeof(float));
    double err = 0;
    for (; row + CSK_ROWS <= end; row += CSK_ROWS, first += CSK_ROWS * rowBytes)
        err += csk_rows(a, row, CSK_ROWS, first, s, element, f16c);
    for (; row < end; row++, first += rowBytes) err += csk_rows(a, row, 1, first, s, element, f16c);
    for (long j = 0; j < kp; j++) acc[j] += (double)s[j];
    return err;
}

/// Rows [r0, r1) of `a->matrix`, in groups of CSK_GROUP rows from r0 on; `acc` (kp doubles) is overwritten.
CSK_INLINE double csk_block(const CSKPass *a, long r0, long r1, double *acc, float *s, int element, int f16c) {
    const size_t rowBytes = (size_t)a->kp * (element == CSK_F32 ? 4 : 2);
    memset(acc, 0, (size_t)a->kp * sizeof(double));
    double err = 0;
    for (long row = r0; row < r1; row += CSK_GROUP) {
        long end = row + CSK_GROUP < r1 ? row + CSK_GROUP : r1;
        err += csk_group(a, row, end, (const char *)a->matrix + (size_t)row * rowBytes, acc, s, element, f16c);
    }
    return err;
}

#endif
