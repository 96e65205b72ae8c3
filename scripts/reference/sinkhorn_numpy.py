#!/usr/bin/env python3
"""NumPy float64 version of SeLa's official CPU Sinkhorn-Knopp loop (cpu_sk / optimize_L_sk), for timing
and label comparisons against `selflabel bench sinkhorn --logits FILE` / `selflabel label`.

    python3 scripts/reference/sinkhorn_numpy.py --logits Z.npy [--lamb 25] [--threads 2] [--out LABELS.npy]
    python3 scripts/reference/sinkhorn_numpy.py --make-logits Z.npy --n 200000 --k 3000 [--seed 0]
    python3 scripts/reference/sinkhorn_numpy.py --logits P.npy --probabilities ...   (probabilities as given)

Issue 17's families: `selflabel bench sinkhorn --family flat|mixed|peaked [--fraction f] [--skew s]
[--probabilities] --save-scores S.npy` writes the scores; this script reads them (--probabilities for the
probability families) and `selflabel bench sinkhorn --logits S.npy --compare-labels LABELS.npy` times ours on
the same file and reports the agreement (scripts/reference/sinkhorn_families.sh runs the table).

The loop is the reference's, line for line: P = softmax(z) in float32 (as torch computes it), stored in a
float64 (N, K) array, transposed view, PS **= lamb, r = inv_K / (PS @ c), c_new = inv_N / (r.T @ PS).T,
err = nansum(|c / c_new - 1|) every 10 iterations, loop while err > tol; labels = nanargmax(PS * c * r, 0).
Prints one JSON line with the same field names as `selflabel bench sinkhorn`.
"""
import argparse
import json
import os
import resource
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--logits")
    ap.add_argument("--probabilities", action="store_true",
                    help="the file holds probabilities P (the official loop's PS as given), not logits")
    ap.add_argument("--lamb", type=float, default=25.0)
    ap.add_argument("--tol", type=float, default=0.1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out")
    ap.add_argument("--make-logits")
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--k", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(a.threads)
    import numpy as np  # after the thread settings

    if a.make_logits:
        # Standard normal x 3, float32, written in row chunks to keep memory low.
        rng = np.random.default_rng(a.seed)
        out = np.lib.format.open_memmap(a.make_logits, mode="w+", dtype=np.float32, shape=(a.n, a.k))
        for lo in range(0, a.n, 10_000):
            hi = min(a.n, lo + 10_000)
            out[lo:hi] = (rng.standard_normal((hi - lo, a.k), dtype=np.float32) * 3)
        out.flush()
        return
    if not a.logits:
        sys.exit("error: --logits or --make-logits is required")

    t0 = time.perf_counter()
    z = np.load(a.logits)
    if z.ndim != 2 or z.dtype != np.float32:
        sys.exit(f"error: {a.logits}: expected float32 (N, K), got {z.dtype} {z.shape}")
    N, K = z.shape
    t1 = time.perf_counter()
    # softmax in float32 (torch's F.softmax on the network output), stored into the float64 PS array
    PS = np.zeros((N, K), dtype=np.float64)
    for lo in range(0, N, 10_000):
        b = z[lo:lo + 10_000]
        if a.probabilities:
            PS[lo:lo + 10_000] = b
            continue
        e = np.exp(b - b.max(1, keepdims=True))
        PS[lo:lo + 10_000] = e / e.sum(1, keepdims=True)
    del z
    # optimize_L_sk
    PS = PS.T  # now it is K x N
    r = np.ones((K, 1), dtype=np.float64) / K
    c = np.ones((N, 1), dtype=np.float64) / N
    PS **= a.lamb  # K x N
    inv_K = np.float64(1.0 / K)
    inv_N = np.float64(1.0 / N)
    t2 = time.perf_counter()
    err = 1e6
    _counter = 0
    while err > a.tol:
        r = inv_K / (PS @ c)  # (KxN)@(N,1) = K x 1
        c_new = inv_N / (r.T @ PS).T  # ((1,K)@(KxN)).t() = N x 1
        if _counter % 10 == 0:
            err = np.nansum(np.abs(c / c_new - 1))
        c = c_new
        _counter += 1
    t3 = time.perf_counter()
    PS *= np.squeeze(c)
    PS = PS.T
    PS *= np.squeeze(r)
    PS = PS.T
    labels = np.nanargmax(PS, 0)
    t4 = time.perf_counter()
    if a.out:
        np.save(a.out, labels.astype(np.int64))
    sizes = np.bincount(labels, minlength=K)
    print(json.dumps({
        "what": "sinkhorn_numpy", "n": N, "k": K, "heads": 1, "lamb": a.lamb, "tol": a.tol, "dtype": "f64",
        "storage": "f64", "threads": a.threads, "logits": a.logits, "iterations": _counter, "converged": True,
        "final_error": float(err), "load_seconds": t1 - t0, "prepare_seconds": t2 - t1,
        "iterate_seconds": t3 - t2, "label_seconds": t4 - t3, "total_seconds": t4 - t0,
        "seconds_per_iteration": (t3 - t2) / max(_counter, 1), "stored_matrix_bytes": N * K * 8,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6,
        "cluster_size_min": int(sizes.min()), "cluster_size_max": int(sizes.max()),
        "empty_clusters": int((sizes == 0).sum()),
    }))


if __name__ == "__main__":
    main()
