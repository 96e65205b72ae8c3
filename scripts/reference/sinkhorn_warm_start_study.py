#!/usr/bin/env python3
"""Warm vs cold starts of SeLa's Sinkhorn-Knopp over a training run's saved label problems (issue 14 §1).

For every label optimisation t >= FIRST and head h of `selflabel train --save-scores` output
(RUN/scores/optimisation-t.npy, heads x N x K float32 logits), in NumPy float64:
  * plain cold: the official loop (A = softmax(z)**λ, c = 1/N start; r = (1/K)/(Aᵀc), c = (1/N)/(A r);
    every 10th iteration err = Σ|c/c_new − 1|; stop at err <= 0.1), the iteration count;
  * plain warm: the same loop started from r = the previous step's final r (c = (1/N)/(A r) first; the first
    check at iteration 10, as SelfLabel's warm start);
  * anderson cold / warm: Anderson acceleration (type II, depth 5) of log r between checks, the step into every
    check plain, as SinkhornAnderson.
Prints the mean and max counts and how often the warm start needed fewer / more iterations.

Usage: python3 sinkhorn_warm_start_study.py RUN/scores [--lamb 10] [--first 1] [--steps 90]
"""
import argparse

import numpy as np


def log_softmax(z):
    z = z.astype(np.float64)
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def solve(logp, lamb, r0=None, anderson=False, tol=0.1, depth=5):
    n, k = logp.shape
    a = np.exp(lamb * (logp - logp.max(1, keepdims=True)))   # P^λ up to a row factor (c absorbs it)
    if r0 is None:
        c = np.exp(lamb * logp.max(1))
        c /= c.max()                                           # the uniform c in the row-shifted problem
        u = np.log((1 / k) / (c @ a))
    else:
        u, c = np.log(r0), None
    us, fs, err, counter = [], [], np.inf, 0
    while err > tol:
        r = np.exp(u)                        # unnormalised, so successive c are comparable (float64 holds it)
        c_new = (1 / n) / (a @ r)
        if counter % 10 == 0 and c is not None and (counter > 0 or r0 is None):
            err = np.nansum(np.abs(c / c_new - 1))
        c = c_new
        g = np.log((1 / k) / (c @ a))
        counter += 1
        if not anderson or counter % 10 == 0:
            u, us, fs = g, [], []
            continue
        f = g - u
        us.append(u.copy()); fs.append(f.copy())
        if len(us) > depth + 1:
            us.pop(0); fs.pop(0)
        if len(us) < 2:
            u = g
            continue
        df = np.stack([fs[i + 1] - fs[i] for i in range(len(fs) - 1)], 1)
        du = np.stack([us[i + 1] - us[i] for i in range(len(us) - 1)], 1)
        h = df.T @ df
        h += 1e-10 * np.trace(h) * np.eye(h.shape[0])
        u = u + f - (du + df) @ np.linalg.solve(h, df.T @ f)
    r = np.exp(u - u.max())
    return counter, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scores")
    ap.add_argument("--lamb", type=float, default=10.0)
    ap.add_argument("--first", type=int, default=1)
    ap.add_argument("--steps", type=int, default=90)
    args = ap.parse_args()
    prev, rows = {}, []
    for t in range(args.first - 1, args.steps):
        scores = np.load(f"{args.scores}/optimisation-{t}.npy")
        for h in range(scores.shape[0]):
            lp = log_softmax(scores[h])
            plain, r = solve(lp, args.lamb)
            if h in prev and t >= args.first:
                rows.append((plain, solve(lp, args.lamb, prev[h])[0], solve(lp, args.lamb, anderson=True)[0],
                             solve(lp, args.lamb, prev[h], anderson=True)[0]))
            prev[h] = r
    x = np.array(rows)
    print(f"{len(x)} head solves; columns: plain cold, plain warm, anderson cold, anderson warm")
    print("mean", x.mean(0).round(1), "max", x.max(0))
    print("warm fewer than cold: plain %.3f, anderson %.3f" % ((x[:, 1] < x[:, 0]).mean(), (x[:, 3] < x[:, 2]).mean()))
    print("warm more than cold:  plain %.3f, anderson %.3f" % ((x[:, 1] > x[:, 0]).mean(), (x[:, 3] > x[:, 2]).mean()))


if __name__ == "__main__":
    main()
