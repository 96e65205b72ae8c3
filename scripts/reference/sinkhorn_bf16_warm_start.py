#!/usr/bin/env python3
"""A study for issue 17, not product code: can a solve on a bfloat16-rounded matrix, followed by a few exact
iterations, meet the official stopping rule on the exact (float32) matrix, and with which labels?

For each family (flat, and mixtures of flat and peaked rows) at N x K (default 20,000 x 3,000, about 2 GB of
float64 in all), it runs the official loop (checks every 10 iterations, tol 0.1, the reference's uniform
starting c) on the float32-rounded shifted matrix A = exp(lambda (z - max z)) and on its bfloat16 rounding,
then from the bfloat16 solve's c runs 1-3 plain iterations on the float32 matrix, printing the official error
after each and the label agreement with the float32 solve. The official error sums N per-row changes, so it
scales with N: at 200,000 rows expect about 10x the errors printed at 20,000.

    python3 scripts/reference/sinkhorn_bf16_warm_start.py [--n 20000] [--k 3000]
"""
import argparse

import numpy as np


def family(rng, n, k, kind, sigma, fraction):
    z = rng.standard_normal((n, k)).astype(np.float32) * 3  # peaked rows: logits with std 3
    if kind == "flat":
        z *= sigma / 3
    else:
        flat = rng.random(n) < fraction
        z[flat] *= sigma / 3
    return z


def bf16(a):
    u = a.astype(np.float32).view(np.uint32)
    u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    return u.astype(np.uint32).view(np.float32)


def official(a, c, tol=0.1, max_iterations=100000):
    n, k = a.shape
    errors, it, err = [], 0, np.inf
    while err > tol and it < max_iterations:
        r = (1.0 / k) / (a.T @ c)
        c_new = (1.0 / n) / (a @ r)
        if it % 10 == 0:
            err = np.nansum(np.abs(c / c_new - 1))
            errors.append(err)
        c = c_new
        it += 1
    return r, c, it, errors


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--k", type=int, default=3000)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    cases = [("flat", 0.005, 0, 25), ("flat", 0.1, 0, 25), ("mixed", 0.02, 0.6, 25), ("mixed", 0.02, 0.9, 25),
             ("mixed", 0.02, 0.6, 10)]
    for kind, sigma, fraction, lam in cases:
        z = family(rng, a.n, a.k, kind, sigma, fraction)
        y = (z - z.max(1, keepdims=True)).astype(np.float64)
        exact = np.exp(lam * y).astype(np.float32).astype(np.float64)
        rounded = bf16(np.exp(lam * y)).astype(np.float64)
        c0 = np.exp(-lam * np.log(np.exp(y).sum(1)))  # the reference's uniform c for P^lambda, shifted
        c0 /= c0.sum()
        r_ex, _, it_ex, e_ex = official(exact, c0.copy())
        labels = np.argmax(exact * r_ex, 1)
        r_b, c, it_b, _ = official(rounded, c0.copy())
        same = 100 * (np.argmax(exact * r_b, 1) == labels).mean()
        print(f"{kind} sigma {sigma} fraction {fraction} lambda {lam}: float32 {it_ex} iterations "
              f"(errors {', '.join(f'{e:.3g}' for e in e_ex)}); bfloat16 {it_b} iterations, "
              f"labels {same:.4f} % the same", flush=True)
        for j in range(1, 4):
            r = (1.0 / a.k) / (exact.T @ c)
            c_new = (1.0 / a.n) / (exact @ r)
            err = np.nansum(np.abs(c / c_new - 1))
            c = c_new
            same = 100 * (np.argmax(exact * r, 1) == labels).mean()
            print(f"  then {j} float32 iteration(s): official error {err:.3g}, labels {same:.4f} % the same",
                  flush=True)


if __name__ == "__main__":
    main()
