// One-off probe behind docs/PERFORMANCE.md "GEMM for the linear layers": times the three products of a linear
// layer (forward y = x·Wᵀ, backward dx = dy·W, dW = dyᵀ·x) with oneDNN's matmul primitive (transposed operands
// described by the `ba` tag, not copied), dnnl_sgemm and OpenBLAS cblas_sgemm; best of 5 after one warm-up.
//
//   gcc -O2 scripts/probes/linear_gemm_probe.c -o /tmp/linear_gemm_probe $(pkg-config --cflags --libs openblas) -ldnnl -lgomp
//   flock /tmp/selflabel-bench.lock /tmp/linear_gemm_probe 128 2304 128    # batch, fc6 inputs, classes per head
#include <oneapi/dnnl/dnnl.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void omp_set_num_threads(int);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
#define CHECK(x) do { dnnl_status_t st_ = (x); if (st_ != dnnl_success) { printf("%s failed: %d\n", #x, st_); exit(1); } } while (0)
static dnnl_engine_t engine;
static dnnl_stream_t stream;

static float *randomMatrix(long n) {
    float *p = aligned_alloc(64, ((n * 4 + 63) / 64) * 64);
    for (long i = 0; i < n; i++) p[i] = rand() / (float)RAND_MAX - 0.5f;
    return p;
}

// C (M, N) = op(A) · op(B); A is stored (M, K), or (K, M) when ta; B is stored (K, N), or (N, K) when tb.
static void product(const char *name, long M, long N, long K, int ta, int tb) {
    float *a = randomMatrix(M * K), *b = randomMatrix(K * N), *c = randomMatrix(M * N);
    dnnl_memory_desc_t ad, bd, cd;
    dnnl_dims_t adims = {M, K}, bdims = {K, N}, cdims = {M, N};
    CHECK(dnnl_memory_desc_init_by_tag(&ad, 2, adims, dnnl_f32, ta ? dnnl_ba : dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&bd, 2, bdims, dnnl_f32, tb ? dnnl_ba : dnnl_ab));
    CHECK(dnnl_memory_desc_init_by_tag(&cd, 2, cdims, dnnl_f32, dnnl_ab));
    dnnl_matmul_desc_t md;
    CHECK(dnnl_matmul_desc_init(&md, &ad, &bd, NULL, &cd));
    dnnl_primitive_desc_t pd;
    CHECK(dnnl_primitive_desc_create(&pd, &md, NULL, engine, NULL));
    const char *impl;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    dnnl_primitive_t p;
    CHECK(dnnl_primitive_create(&p, pd));
    dnnl_memory_t am, bm, cm;
    CHECK(dnnl_memory_create(&am, &ad, engine, a));
    CHECK(dnnl_memory_create(&bm, &bd, engine, b));
    CHECK(dnnl_memory_create(&cm, &cd, engine, c));
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}};
    double best[3] = {1e9, 1e9, 1e9};
    for (int r = 0; r < 6; r++) {
        double t0 = now();
        CHECK(dnnl_primitive_execute(p, stream, 3, args));
        dnnl_stream_wait(stream);
        double t1 = now();
        dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, 1, a, ta ? M : K, b, tb ? K : N, 0, c, N);
        double t2 = now();
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1,
                    a, ta ? M : K, b, tb ? K : N, 0, c, N);
        double t3 = now();
        if (r > 0) {
            if (t1 - t0 < best[0]) best[0] = t1 - t0;
            if (t2 - t1 < best[1]) best[1] = t2 - t1;
            if (t3 - t2 < best[2]) best[2] = t3 - t2;
        }
    }
    double flops = 2.0 * M * N * K;
    printf("%-10s %5ldx%5ldx%5ld  matmul(%s) %6.2f ms %4.0f GF/s | dnnl_sgemm %6.2f ms %4.0f | openblas %6.2f ms %4.0f\n",
           name, M, N, K, impl, best[0] * 1e3, flops / best[0] / 1e9, best[1] * 1e3, flops / best[1] / 1e9,
           best[2] * 1e3, flops / best[2] / 1e9);
    dnnl_memory_destroy(am); dnnl_memory_destroy(bm); dnnl_memory_destroy(cm);
    dnnl_primitive_destroy(p); dnnl_primitive_desc_destroy(pd);
    free(a); free(b); free(c);
}

int main(int argc, char **argv) {
    int threads = 2;
    omp_set_num_threads(threads);
    openblas_set_num_threads(threads);
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    long batch = argc > 1 ? atol(argv[1]) : 128, flat = argc > 2 ? atol(argv[2]) : 2304;
    long classes = argc > 3 ? atol(argv[3]) : 128;
    long ins[3] = {flat, 4096, 4096}, outs[3] = {4096, 4096, classes};
    const char *names[3] = {"fc6", "fc7", "head"};
    for (int i = 0; i < 3; i++) {
        char n[32];
        snprintf(n, sizeof n, "%s fwd", names[i]); product(n, batch, outs[i], ins[i], 0, 1);
        snprintf(n, sizeof n, "%s dx", names[i]);  product(n, batch, ins[i], outs[i], 0, 0);
        snprintf(n, sizeof n, "%s dW", names[i]);  product(n, outs[i], ins[i], batch, 1, 0);
    }
    return 0;
}
