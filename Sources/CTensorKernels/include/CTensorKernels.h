// Small memory-bound tensor kernels that oneDNN 2.6 runs slowly on some CPUs, in C (built for baseline x86-64:
// four lanes at a time through the compiler's vector types). They run on libgomp's thread team, the pool oneDNN
// uses, so the two never compete for the cores.
#ifndef CTENSOR_KERNELS_H
#define CTENSOR_KERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/// 2x2 max pooling with stride 2, no padding, floor output size (OH = H/2, OW = W/2), over `planes` planes of
/// H x W pixels of `lanes` contiguous floats each: lanes = 1 is plain NCHW (planes = N*C), lanes = 8 or 16 is
/// oneDNN's nChw8c / nChw16c (planes = N*C_padded/lanes). Window order is row-major; a later element wins when
/// it is greater or NaN (PyTorch's CPU rule: the first maximum, the last NaN). `threads` <= 1 runs on the
/// caller's thread.
void ctk_maxpool2x2_forward(const float *x, float *y, long planes, long h, long w, long lanes, int threads);

/// Backward of `ctk_maxpool2x2_forward` from its input `x` (the winner of each window is chosen again, by the
/// same rule, so it is the forward's): gx = gy at each window's winner, 0 elsewhere (including the last row and
/// column of an odd H or W, which no window covers). Every element of gx is written.
void ctk_maxpool2x2_backward(const float *x, const float *gy, float *gx, long planes, long h, long w, long lanes,
                             int threads);

#ifdef __cplusplus
}
#endif

#endif
