#!/usr/bin/env python3
"""A slowly converging SeLa label problem, cut from a real training run (issue 14 §1).

Late in training the network is sharp, and the official Sinkhorn-Knopp loop needs thousands of iterations
(SelfLabel's former fixed cap of 1,000 stopped it with errors 3-7 > 0.1). This fixture keeps such a problem
small: 300 rows (seeded choice) of head 4 of the 61st label optimisation's network outputs of

    selflabel train --data DIGITS --arch convnet_tiny --hc 5 --ncl 30 --epochs 45 --nopts 90 --lr 0.03 \
        --wd -3.30103 --batch-size 128 --lamb 10 --schedule quadratic --threads 2 --save-scores --exp RUN

(DIGITS: a 28x28 grayscale digits folder of 4,000 training images built from scikit-learn's bundled 8x8
digits; any sharp late-training output serves). At λ = 25 (SeLa's default) the official loop needs 1,801
iterations on these 300 x 30 logits.

Writes late_training_n300_k30_logits.npy (float32) and, from the official loop in NumPy float64 exactly as
sinkhorn_ref.run_numpy (P = softmax**λ, c = 1/N, r = 1/K; r = (1/K)/(Pᵀc), c_new = (1/N)/(P r); every 10th
iteration err = nansum|c/c_new − 1|; stop when err <= 0.1), late_training_n300_k30_labels.npy (int64,
nanargmax of P·c·r) and late_training_n300_k30_reference.json (iterations, final error).

Usage: python3 make_slow_fixture.py RUN/scores/optimisation-60.npy
"""
import json
import sys

import numpy as np

LAMBDA, TOL, N, HEAD, SEED = 25.0, 0.1, 300, 4, 1

scores = np.load(sys.argv[1])
rows = np.sort(np.random.default_rng(SEED).choice(scores.shape[1], N, replace=False))
z = np.ascontiguousarray(scores[HEAD][rows]).astype(np.float32)
x = z.astype(np.float64)
x -= x.max(1, keepdims=True)
p = np.exp(x)
p /= p.sum(1, keepdims=True)
P = p ** LAMBDA
n, k = P.shape
c, r = np.full(n, 1.0 / n), np.full(k, 1.0 / k)
err, counter = np.inf, 0
while err > TOL:
    r = (1.0 / k) / (c @ P)
    c_new = (1.0 / n) / (P @ r)
    if counter % 10 == 0:
        err = float(np.nansum(np.abs(c / c_new - 1)))
    c = c_new
    counter += 1
labels = np.nanargmax(P * c[:, None] * r[None, :], axis=1).astype(np.int64)
np.save("late_training_n300_k30_logits.npy", z)
np.save("late_training_n300_k30_labels.npy", labels)
with open("late_training_n300_k30_reference.json", "w") as f:
    json.dump({"lambda": LAMBDA, "tolerance": TOL, "iterations": counter, "final_error": err}, f)
    f.write("\n")
print(counter, err)
