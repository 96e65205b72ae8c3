"""NumPy float32 matmul timing, printing the same JSON fields as `selflabel bench gemm`.

Usage: python3 scripts/reference/gemm_numpy.py --m 1024 --n 1024 --k 1024 --threads 2 [--repeats 10 --warmup 2]
"""
import argparse, json, resource, time
import numpy as np
from threadpoolctl import threadpool_limits

p = argparse.ArgumentParser()
for name, default in [("m", 1024), ("n", 1024), ("k", 1024), ("threads", 2), ("repeats", 10), ("warmup", 2), ("seed", 0)]:
    p.add_argument(f"--{name}", type=int, default=default)
a = p.parse_args()
rng = np.random.default_rng(a.seed)
A = rng.uniform(-1, 1, (a.m, a.k)).astype(np.float32)
B = rng.uniform(-1, 1, (a.k, a.n)).astype(np.float32)
C = np.empty((a.m, a.n), np.float32)
with threadpool_limits(limits=a.threads, user_api="blas"):
    for _ in range(a.warmup):
        np.matmul(A, B, out=C)
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        np.matmul(A, B, out=C)
        times.append(time.perf_counter() - t0)
flops = 2.0 * a.m * a.n * a.k
best, mean = min(times), sum(times) / len(times)
print(json.dumps({"what": "gemm_f32_numpy", "m": a.m, "n": a.n, "k": a.k, "threads": a.threads,
                  "iterations": a.repeats, "seconds_best": best, "seconds_mean": mean,
                  "gflops_best": flops / best / 1e9, "gflops_mean": flops / mean / 1e9,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1000,
                  "numpy": np.__version__}))
