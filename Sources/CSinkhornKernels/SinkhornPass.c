// The fused Sinkhorn-Knopp row pass, written once with vector extensions and instantiated three times:
// for AVX-512F, for AVX2 + FMA + F16C (both via __attribute__((target))), and for the baseline target.
// `csk_pass_block` picks one with __builtin_cpu_supports on first use; SELFLABEL_SINKHORN_KERNEL=portable,
// avx2 or avx512 forces one (a kernel the CPU lacks falls back to the best supported one).
#include "SinkhornCommon.h"
#include "SinkhornDenseRows.h"

#include <stdlib.h>
#include <string.h>

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
