#!/usr/bin/env python3
"""Writes issue 17's flat or mixed logits at any size, in row chunks (memory stays small), for
`selflabel label` / `selflabel bench sinkhorn --logits` at ImageNet size (1,281,167 x 3000: a 15.4 GB file),
where `selflabel bench sinkhorn --family` would hold the whole matrix in memory.

    python3 scripts/reference/sinkhorn_family_npy.py OUT.npy --n 1281167 --k 3000 --family flat [--sigma 0.02]
    python3 scripts/reference/sinkhorn_family_npy.py OUT.npy --n 1281167 --k 3000 --family mixed [--fraction 0.6] \
        [--skew 3]
    ... [--probabilities]    # the rows' softmax instead of the logits (for `--probabilities`)

flat: every row N(0, sigma^2); mixed: each row flat with probability `fraction`, else peaked, N(0, 3^2);
peaked: every row peaked. With --skew s > 0 a peaked row's winner is cluster floor(K u^(1+s)) (u uniform),
raised 3 above the row's largest logit, so a few low-index clusters attract most peaked rows -- the
distributions of SinkhornFamilySpec (not its values: NumPy's generator, seeded).
"""
import argparse

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--family", choices=["flat", "mixed", "peaked"], required=True)
    ap.add_argument("--sigma", type=float, default=0.02)
    ap.add_argument("--fraction", type=float, default=0.6)
    ap.add_argument("--skew", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--probabilities", action="store_true", help="write each row's softmax (float32)")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    out = np.lib.format.open_memmap(a.out, mode="w+", dtype=np.float32, shape=(a.n, a.k))
    for lo in range(0, a.n, 20_000):
        hi = min(a.n, lo + 20_000)
        z = rng.standard_normal((hi - lo, a.k), dtype=np.float32)
        if a.family == "mixed":
            flat = rng.random(hi - lo) < a.fraction
        else:
            flat = np.full(hi - lo, a.family == "flat")
        z *= np.where(flat, np.float32(a.sigma), np.float32(3))[:, None]
        if a.skew > 0:
            peaked = np.flatnonzero(~flat)
            winner = np.minimum(a.k - 1, (a.k * rng.random(peaked.size) ** (1 + a.skew)).astype(np.int64))
            z[peaked, winner] = z[peaked].max(axis=1) + np.float32(3)
        if a.probabilities:
            e = np.exp(z.astype(np.float64) - z.max(axis=1, keepdims=True))
            z = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
        out[lo:hi] = z
    out.flush()


if __name__ == "__main__":
    main()
