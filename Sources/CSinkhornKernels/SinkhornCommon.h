// Private to CSinkhornKernels: vector types, helpers shared by the dense stored-matrix pass
// (SinkhornPass.c) and the truncated / scores passes (SinkhornTruncated.c), and the runtime kernel choice.
#ifndef CSINKHORN_COMMON_H
#define CSINKHORN_COMMON_H

#include "CSinkhornKernels.h"

#include <math.h>
#include <stdint.h>

// The helpers below take and return 64-byte vectors, but they are always inlined into each instance, so no
// call crosses an ABI boundary: the AVX2 and portable instances' -Wpsabi notes do not apply.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float v16f __attribute__((vector_size(64)));
typedef float v16f_u __attribute__((vector_size(64), aligned(4), may_alias));
typedef double v8d __attribute__((vector_size(64)));
typedef double v8d_u __attribute__((vector_size(64), aligned(8), may_alias));
typedef uint32_t v16u __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));
typedef uint16_t v16h_u __attribute__((vector_size(32), aligned(2), may_alias));
typedef _Float16 v16half_u __attribute__((vector_size(32), aligned(2), may_alias));

#define CSK_INLINE static inline __attribute__((always_inline))

CSK_INLINE double csk_hsum(v8d v) {
    return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

CSK_INLINE v8d csk_lo8(v16f v) {
    return __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7), v8d);
}

CSK_INLINE v8d csk_hi8(v16f v) {
    return __builtin_convertvector(__builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15), v8d);
}

CSK_INLINE v8d csk_widen(v16f v) { return csk_lo8(v) + csk_hi8(v); }

/// The reference's c update for one row (float64); adds the row's error to *err when checking.
CSK_INLINE double csk_finish(const CSKPass *a, long row, double dot, double *err) {
    if (!a->iterate) return a->c[row];
    double cOld = a->c[row];
    double cNew = 1.0 / ((double)a->n * dot);
    if (a->check) *err += fabs(cOld / cNew * a->ratio - 1.0);
    if (a->omega != 1.0) cNew = exp((1.0 - a->omega) * log(cOld * a->ratio) + a->omega * log(cNew));
    a->c[row] = cNew;
    return cNew;
}

CSK_INLINE v16f csk_splat(float x) {
    return (v16f){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
}

/// exp(x) for x ≤ 0 (below −87.3, and −∞, give 0): 2^n · 2^f with a degree-7 polynomial for 2^f,
/// f ∈ [−½, ½], relative error below 2e-7 (the solver's only vector exponential). Contraction
/// into fused multiply-adds is off, so every caller in one kernel instance gets the same bits for the same x.
CSK_INLINE v16f csk_exp16(v16f x) {
#pragma clang fp contract(off)
    const v16f lo = csk_splat(-87.3f);
    v16i tiny = x < lo;
    v16f xc = __builtin_elementwise_max(x, lo);
    v16f t = xc * 1.442695040888963f;
    v16f shifted = t + 12582912.0f;  // 1.5 · 2^23: rounds t to an integer held in the low bits
    v16f nn = shifted - 12582912.0f;
    v16f f = (t - nn) * 0.6931471805599453f;
    v16f p = csk_splat(1.0f / 5040);
    p = p * f + 1.0f / 720;
    p = p * f + 1.0f / 120;
    p = p * f + 1.0f / 24;
    p = p * f + 1.0f / 6;
    p = p * f + 0.5f;
    p = p * f + 1.0f;
    p = p * f + 1.0f;
    v16u ni = (v16u)shifted - 0x4B400000u;
    v16f scale = (v16f)((ni + 127u) << 23);
    v16f r = p * scale;
    return (v16f)((v16u)r & ~(v16u)tiny);
}

/// log(x) for float32 lanes, x ≥ 0 (0 gives −∞; subnormals are scaled first): x = 2^e · m with
/// m ∈ [√½, √2), log(m) by Cephes' degree-9 polynomial in m − 1 (about 1 ulp). Contraction off, as in
/// `csk_exp16`.
CSK_INLINE v16f csk_log16(v16f x) {
#pragma clang fp contract(off)
    v16i sub = x < 1.17549435e-38f;
    v16f xs = (v16f)(((v16u)(x * 8388608.0f) & (v16u)sub) | ((v16u)x & ~(v16u)sub));  // subnormals × 2^23
    v16i bits = (v16i)xs;
    v16f e = __builtin_convertvector((bits >> 23) - 126, v16f) - (v16f)((v16u)csk_splat(23.0f) & (v16u)sub);
    v16f m = (v16f)((bits & 0x007FFFFF) | 0x3F000000);  // [0.5, 1)
    v16i small = m < 0.707106781186547524f;
    e = e - (v16f)((v16u)csk_splat(1.0f) & (v16u)small);
    v16f mm = (v16f)(((v16u)(m + m) & (v16u)small) | ((v16u)m & ~(v16u)small)) - 1.0f;
    v16f z = mm * mm;
    v16f y = csk_splat(7.0376836292e-2f);
    y = y * mm - 1.1514610310e-1f;
    y = y * mm + 1.1676998740e-1f;
    y = y * mm - 1.2420140846e-1f;
    y = y * mm + 1.4249322787e-1f;
    y = y * mm - 1.6668057665e-1f;
    y = y * mm + 2.0000714765e-1f;
    y = y * mm - 2.4999993993e-1f;
    y = y * mm + 3.3333331174e-1f;
    y = y * mm * z;
    y = y + e * -2.12194440e-4f;
    y = y - z * 0.5f;
    v16f r = mm + y;
    r = r + e * 0.693359375f;
    v16i zero = x == 0.0f;
    return (v16f)(((v16u)csk_splat(-INFINITY) & (v16u)zero) | ((v16u)r & ~(v16u)zero));
}

/// Whether any lane of a comparison's mask is true.
CSK_INLINE int csk_any(v16i mask) { return __builtin_reduce_or(mask) != 0; }

/// out[i] = log(x[i]) for `count` floats by `csk_log16` (`out` may equal `x`).
CSK_INLINE void csk_log_row(const float *x, float *out, long count) {
    long i = 0;
    for (; i + 16 <= count; i += 16) *(v16f_u *)(out + i) = csk_log16(*(const v16f_u *)(x + i));
    if (i < count) {
        float tail[16];
        for (int t = 0; t < 16; t++) tail[t] = i + t < count ? x[i + t] : 1.0f;
        v16f v = csk_log16(*(const v16f_u *)tail);
        for (long t = 0; i + t < count; t++) out[i + t] = v[t];
    }
}

/// Which instance of each kernel runs on this CPU: 0 portable, 1 AVX2 + FMA + F16C, 2 AVX-512F (x86-64 only;
/// SELFLABEL_SINKHORN_KERNEL=portable|avx2|avx512 forces a lower one). Chosen once per process.
int csk_kernel_level(void);

#if defined(__x86_64__) || defined(__i386__)
#define CSK_X86 1
#define CSK_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma,f16c")))
#define CSK_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
/// `return name##_level(args)` for the kernel level of this CPU (`csk_kernel_level`).
#define CSK_DISPATCH(name, ...)                              \
    switch (csk_kernel_level()) {                            \
    case 2: return name##_avx512(__VA_ARGS__);               \
    case 1: return name##_avx2(__VA_ARGS__);                 \
    default: return name##_portable(__VA_ARGS__);            \
    }
#else
#define CSK_DISPATCH(name, ...) return name##_portable(__VA_ARGS__);
#endif

typedef uint16_t v16h __attribute__((vector_size(32)));

#endif
