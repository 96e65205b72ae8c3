// 2x2 / stride 2 max pooling, forward and backward (see CTensorKernels.h).
#include "CTensorKernels.h"
#include <string.h>

// libgomp's entry points (GCC's OpenMP ABI): run fn(data) on a team of num_threads, the caller being thread 0.
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);

typedef struct {
    const float *x, *gy;
    float *y, *gx;
    long planes, h, w, lanes;
} PoolArgs;

// Four lanes at a time (SSE2, the x86-64 baseline; also NEON on arm64), through the compiler's vector types:
// the autovectoriser gave up on the backward (runtime alias checks) and ran it scalar, 9 ms per 16 MB input.
typedef float v4f __attribute__((vector_size(16)));
typedef int v4i __attribute__((vector_size(16)));
typedef float v4f_u __attribute__((vector_size(16), aligned(4), may_alias));
static inline v4f load4(const float *p) { return *(const v4f_u *)p; }
static inline void store4(float *p, v4f v) { *(v4f_u *)p = v; }
/// Lanes where `v` takes over from the running maximum `m`: greater, or NaN.
static inline v4i takes4(v4f v, v4f m) { return (v > m) | (v != v); }
static inline v4f select4(v4i t, v4f a, v4f b) { return (v4f)(((v4i)a & t) | ((v4i)b & ~t)); }
static inline v4f keep4(v4i t, v4f a) { return (v4f)((v4i)a & t); }

static inline int takes1(float v, float m) { return v > m || v != v; }

// Output row `oy` of one plane, L lanes per pixel.
static void forward_row(const float *xp, float *yp, long w, long ow, long oy, long L) {
    const float *r0 = xp + (2 * oy) * w * L, *r1 = r0 + w * L;
    float *out = yp + oy * ow * L;
    const long L4 = L & ~3L;
    for (long ox = 0; ox < ow; ox++) {
        const float *a = r0 + 2 * ox * L, *c = r1 + 2 * ox * L;
        float *o = out + ox * L;
        for (long l = 0; l < L4; l += 4) {
            v4f m = load4(a + l), v;
            v = load4(a + L + l); m = select4(takes4(v, m), v, m);
            v = load4(c + l);     m = select4(takes4(v, m), v, m);
            v = load4(c + L + l); m = select4(takes4(v, m), v, m);
            store4(o + l, m);
        }
        for (long l = L4; l < L; l++) {
            float m = a[l], v;
            v = a[L + l]; if (takes1(v, m)) m = v;
            v = c[l];     if (takes1(v, m)) m = v;
            v = c[L + l]; if (takes1(v, m)) m = v;
            o[l] = m;
        }
    }
}

static void backward_row(const float *xp, const float *gyp, float *gxp, long h, long w, long ow, long oh, long oy,
                         long L) {
    const long rowLen = w * L, L4 = L & ~3L;
    const float *r0 = xp + (2 * oy) * rowLen, *r1 = r0 + rowLen;
    float *top = gxp + (2 * oy) * rowLen, *bottom = top + rowLen;
    const float *g = gyp + oy * ow * L;
    for (long ox = 0; ox < ow; ox++) {
        const float *a = r0 + 2 * ox * L, *c = r1 + 2 * ox * L;
        float *ga = top + 2 * ox * L, *gc = bottom + 2 * ox * L;
        for (long l = 0; l < L4; l += 4) {  // the forward's selection; the winner's gradient, zeros elsewhere
            const v4f d = load4(g + ox * L + l);
            v4f m = load4(a + l), v, d0 = d, d1, d2, d3;
            v4i t;
            v = load4(a + L + l); t = takes4(v, m); m = select4(t, v, m);
            d1 = keep4(t, d); d0 = keep4(~t, d0);
            v = load4(c + l); t = takes4(v, m); m = select4(t, v, m);
            d2 = keep4(t, d); d0 = keep4(~t, d0); d1 = keep4(~t, d1);
            v = load4(c + L + l); t = takes4(v, m);
            d3 = keep4(t, d); d0 = keep4(~t, d0); d1 = keep4(~t, d1); d2 = keep4(~t, d2);
            store4(ga + l, d0);
            store4(ga + L + l, d1);
            store4(gc + l, d2);
            store4(gc + L + l, d3);
        }
        for (long l = L4; l < L; l++) {
            float m = a[l], v;
            int k = 0;
            v = a[L + l]; if (takes1(v, m)) { m = v; k = 1; }
            v = c[l];     if (takes1(v, m)) { m = v; k = 2; }
            v = c[L + l]; if (takes1(v, m)) { k = 3; }
            const float d = g[ox * L + l];
            ga[l] = k == 0 ? d : 0.0f;
            ga[L + l] = k == 1 ? d : 0.0f;
            gc[l] = k == 2 ? d : 0.0f;
            gc[L + l] = k == 3 ? d : 0.0f;
        }
    }
    if (w > 2 * ow) {  // odd W: the last column of both rows
        memset(top + 2 * ow * L, 0, (size_t)L * sizeof(float));
        memset(bottom + 2 * ow * L, 0, (size_t)L * sizeof(float));
    }
    if (oy == oh - 1 && h > 2 * oh) memset(bottom + rowLen, 0, (size_t)rowLen * sizeof(float));  // odd H: last row
}

// Work item i = plane * OH + output row; thread t of nt takes a contiguous share, calling
// row(args, plane offset in, plane offset out, output row) for each.
static void each_row(const PoolArgs *a, void (*row)(const PoolArgs *, long, long, long)) {
    const long oh = a->h / 2, items = a->planes * oh;
    const long t = omp_get_thread_num(), nt = omp_get_num_threads();
    const long begin = items * t / nt, end = items * (t + 1) / nt;
    const long inPlane = a->h * a->w * a->lanes, outPlane = oh * (a->w / 2) * a->lanes;
    for (long i = begin; i < end; i++) row(a, (i / oh) * inPlane, (i / oh) * outPlane, i % oh);
}

static void forward_one(const PoolArgs *a, long in, long out, long oy) {
    forward_row(a->x + in, a->y + out, a->w, a->w / 2, oy, a->lanes);
}

static void backward_one(const PoolArgs *a, long in, long out, long oy) {
    backward_row(a->x + in, a->gy + out, a->gx + in, a->h, a->w, a->w / 2, a->h / 2, oy, a->lanes);
}

static void forward_task(void *p) { each_row((const PoolArgs *)p, forward_one); }
static void backward_task(void *p) { each_row((const PoolArgs *)p, backward_one); }

// Below this many input elements a team costs more than it saves.
static const long kParallelMin = 1L << 15;

static void run(void (*task)(void *), PoolArgs *a, int threads) {
    const long items = a->planes * (a->h / 2);
    const long elements = a->planes * a->h * a->w * a->lanes;
    if (threads <= 1 || items < 2 || elements < kParallelMin) {
        task(a);  // outside a parallel region omp_get_num_threads() is 1: the whole range
        return;
    }
    const long nt = threads < items ? threads : items;
    GOMP_parallel(task, a, (unsigned)nt, 0);
}

void ctk_maxpool2x2_forward(const float *x, float *y, long planes, long h, long w, long lanes, int threads) {
    if (planes <= 0 || h < 2 || w < 2 || lanes <= 0) return;
    PoolArgs a = {.x = x, .gy = 0, .y = y, .gx = 0, .planes = planes, .h = h, .w = w, .lanes = lanes};
    run(forward_task, &a, threads);
}

void ctk_maxpool2x2_backward(const float *x, const float *gy, float *gx, long planes, long h, long w, long lanes,
                             int threads) {
    if (planes <= 0 || lanes <= 0) return;
    if (h < 2 || w < 2) {  // no window: every gradient is 0
        memset(gx, 0, (size_t)(planes * h * w * lanes) * sizeof(float));
        return;
    }
    PoolArgs a = {.x = x, .gy = gy, .y = 0, .gx = gx, .planes = planes, .h = h, .w = w, .lanes = lanes};
    run(backward_task, &a, threads);
}
