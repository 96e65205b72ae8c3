#!/usr/bin/env python3
"""Fixtures for SelfLabellingTests: the equal-partition transport problem solved by POT's ot.sinkhorn.

SeLa's label problem is entropic OT with uniform marginals a = 1/N, b = 1/K, cost M = -log P (P = softmax of
the logits) and reg = 1/lambda: the plan is diag(u) P^lambda diag(v), so v is SeLa's r up to a constant.
POT (an independent library) is run in the log domain to a tight tolerance; the tests compare our labels
(argmax of the plan per row) and our cluster scaling with POT's.

Run from this folder: python3 make_sinkhorn_fixtures.py  (numpy, POT)
"""
import numpy as np
import ot

CASES = [("pot_n500_k20_l10", 500, 20, 10.0, 1), ("pot_n800_k40_l25", 800, 40, 25.0, 2)]

for name, n, k, lamb, seed in CASES:
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal((n, k)) * 2).astype(np.float32)
    zz = z.astype(np.float64)
    logp = zz - zz.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    a = np.full(n, 1.0 / n)
    b = np.full(k, 1.0 / k)
    plan, log = ot.sinkhorn(a, b, -logp, reg=1.0 / lamb, method="sinkhorn_log", numItermax=200000,
                            stopThr=1e-13, log=True)
    labels = plan.argmax(1).astype(np.int64)
    log_v = log["log_v"] - log["log_v"].max()
    np.save(f"{name}_logits.npy", z)
    np.save(f"{name}_labels.npy", labels)
    np.save(f"{name}_logv.npy", log_v)
    print(name, "iterations", log["niter"], "col marginal err", np.abs(plan.sum(0) * k - 1).max(),
          "sizes", np.bincount(labels, minlength=k).min(), np.bincount(labels, minlength=k).max())
