// The fused Sinkhorn-Knopp row pass, written once with vector extensions and instantiated three times:
// for AVX-512F, for AVX2 + FMA + F16C (both via __attribute__((target))), and for the baseline target.
// `csk_pass_block` picks one with __builtin_cpu_supports on first use; SELFLABEL_SINKHORN_KERNEL=portable,
// avx2 or avx512 forces one (a kernel the CPU lacks falls back to the best supported one).
#include "SinkhornCommon.h"

#include <stdlib.h>
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

/// Rows row..row+R-1 (R = CSK_ROWS or 1): the dot products with r', the c update, and s += Σ_rows A_row c'_row.
#define CSK_ROWS 8

CSK_INLINE double csk_rows(const CSKPass *a, long row, int R, float *s, int element, int f16c) {
    const long kp = a->kp;
    const size_t rowBytes = (size_t)kp * (element == CSK_F32 ? 4 : 2), eb = element == CSK_F32 ? 4 : 2;
    const char *p[CSK_ROWS];
    for (int i = 0; i < R; i++) p[i] = (const char *)a->matrix + (size_t)(row + i) * rowBytes;
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

CSK_INLINE double csk_block(const CSKPass *a, long r0, long r1, double *acc, float *s, int element, int f16c) {
    const long kp = a->kp;
    memset(acc, 0, (size_t)kp * sizeof(double));
    double err = 0;
    long row = r0;
    while (row < r1) {
        memset(s, 0, (size_t)kp * sizeof(float));
        long end = row + 64 < r1 ? row + 64 : r1;
        for (; row + CSK_ROWS <= end; row += CSK_ROWS) err += csk_rows(a, row, CSK_ROWS, s, element, f16c);
        for (; row < end; row++) err += csk_rows(a, row, 1, s, element, f16c);
        for (long j = 0; j < kp; j++) acc[j] += (double)s[j];
    }
    return err;
}

#define CSK_INSTANCE(name, attr, f16c)                                                              \
    attr static double name(const CSKPass *a, long r0, long r1, double *acc, float *s) {          \
        switch (a->element) {                                                                       \
        case CSK_F32: return csk_block(a, r0, r1, acc, s, CSK_F32, f16c);                           \
        case CSK_BF16: return csk_block(a, r0, r1, acc, s, CSK_BF16, f16c);                         \
        default: return csk_block(a, r0, r1, acc, s, CSK_F16, f16c);                                \
        }                                                                                           \
    }

#ifdef CSK_X86
CSK_INSTANCE(csk_block_avx512, CSK_TARGET_AVX512, 1)
CSK_INSTANCE(csk_block_avx2, CSK_TARGET_AVX2, 1)
#endif
CSK_INSTANCE(csk_block_portable, , 0)

static int csk_level = -1;

static int csk_select(void) {
    const char *want = getenv("SELFLABEL_SINKHORN_KERNEL");
    int level = 0;
#ifdef CSK_X86
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    int avx512 = avx2 && __builtin_cpu_supports("avx512f");
    int forcePortable = want && strcmp(want, "portable") == 0;
    int forceAVX2 = want && strcmp(want, "avx2") == 0;
    if (!forcePortable && avx512 && !forceAVX2) level = 2;
    else if (!forcePortable && avx2) level = 1;
#else
    (void)want;
#endif
    return level;
}

int csk_kernel_level(void) {
    int level = __atomic_load_n(&csk_level, __ATOMIC_ACQUIRE);
    if (level < 0) {  // racing first calls compute the same level; either store is fine
        level = csk_select();
        __atomic_store_n(&csk_level, level, __ATOMIC_RELEASE);
    }
    return level;
}

double csk_pass_block(const CSKPass *pass, long rowStart, long rowEnd, double *acc, float *scratch) {
    switch (csk_kernel_level()) {
#ifdef CSK_X86
    case 2: return csk_block_avx512(pass, rowStart, rowEnd, acc, scratch);
    case 1: return csk_block_avx2(pass, rowStart, rowEnd, acc, scratch);
#endif
    default: return csk_block_portable(pass, rowStart, rowEnd, acc, scratch);
    }
}

const char *csk_kernel_name(void) {
    static const char *names[] = {"portable", "avx2+fma+f16c", "avx512f"};
    return names[csk_kernel_level()];
}
