// The Sinkhorn-Knopp solver's fused row pass (SelfLabelling's SinkhornPass), in C with runtime CPU dispatch:
// an AVX-512F build, an AVX2 + FMA + F16C build, and a portable one, chosen once per process with
// __builtin_cpu_supports. The package itself stays built for baseline x86-64 (no -target-cpu flags).
#ifndef CSINKHORN_KERNELS_H
#define CSINKHORN_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Stored element type of the shifted Sinkhorn matrix.
typedef enum {
    CSK_F32 = 0,   ///< IEEE float32.
    CSK_BF16 = 1,  ///< bfloat16: the top 16 bits of a float32 (widened by a 16-bit shift).
    CSK_F16 = 2    ///< IEEE half, values in [0, 1] (F16C conversion, or bits << 13 times 2^112).
} CSKElement;

/// Arguments of one pass; see `csk_pass_block`.
typedef struct {
    const void *matrix;   ///< N x kp stored elements, row-major.
    long n;               ///< N (rows).
    long kp;              ///< Padded columns, a multiple of 16.
    const float *r32;     ///< r' (kp floats, natural order, zero in the padding).
    double *c;            ///< c' per row: read, then overwritten when `iterate`.
    int element;          ///< A CSKElement.
    int iterate;          ///< 1: compute c'_n = 1/(N Σ_k A_nk r'_k); 0: use the given c'.
    int check;            ///< 1: return Σ |c_old/c_new · ratio − 1| over the block.
    double ratio;         ///< See `check` and `omega`.
    double omega;         ///< Over-relaxation: c' ← (c'_old · ratio)^{1−ω} · c'_SK^ω (1 = plain).
} CSKPass;

/// Processes rows [rowStart, rowEnd) of one block: per row (4 at a time)
///   s_n = Σ_k A_nk r'_k   (float32 products and 16-lane sums, widened to float64 every 256 columns),
///   c'_n = 1/(N s_n)      (float64, when iterating),
///   acc_k += A_nk c'_n    (float32 within 64 rows in `scratch`, then float64 into `acc`).
/// `acc` (kp doubles) is overwritten; `scratch` holds kp floats. Returns the block's error sum (0 unless
/// `check`). Deterministic for a given CPU kernel: the result does not depend on how blocks map to threads.
double csk_pass_block(const CSKPass *pass, long rowStart, long rowEnd, double *acc, float *scratch);

/// The kernel `csk_pass_block` uses on this CPU: "avx512f", "avx2+fma+f16c" or "portable".
const char *csk_kernel_name(void);

#ifdef __cplusplus
}
#endif

#endif
