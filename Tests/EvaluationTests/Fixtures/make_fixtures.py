#!/usr/bin/env python3
"""Generates the Evaluation test fixtures (committed next to this script).

clustering_metrics.json: label pairs with scikit-learn's NMI/AMI/ARI (arithmetic normalisation, sklearn's
  default), MI, EMI, scipy.optimize.linear_sum_assignment matched accuracy, and majority (purity) accuracy.
assignment.json: cost matrices with scipy.optimize.linear_sum_assignment's optimal total.
knn.json: fixed features with the weighted-kNN protocol computed in NumPy (plain, and two PCA variants: PCA
  fitted on the raw features then L2 normalisation, the official cifar_utils.kNN order; and L2 normalisation,
  PCA, L2 normalisation again).

Run: python3 make_fixtures.py   (numpy, scipy, scikit-learn; versions are recorded in the files)
"""
import json
import numpy as np
import scipy
import sklearn
from scipy.optimize import linear_sum_assignment
from sklearn.decomposition import PCA
from sklearn.metrics import (adjusted_mutual_info_score, adjusted_rand_score, mutual_info_score,
                             normalized_mutual_info_score)
from sklearn.metrics.cluster import contingency_matrix
from sklearn.metrics.cluster._expected_mutual_info_fast import expected_mutual_information

VERSIONS = {"numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__}
rng = np.random.default_rng(20260529)


def clustering_case(name, pred, truth):
    pred = np.asarray(pred, dtype=np.int64)
    truth = np.asarray(truth, dtype=np.int64)
    c = contingency_matrix(pred, truth)  # rows: clusters, columns: classes
    r, k = linear_sum_assignment(-c)
    matched = c[r, k].sum() / len(pred)
    majority = c.max(axis=1).sum() / len(pred)
    return {
        "name": name, "predicted": pred.tolist(), "truth": truth.tolist(),
        "nmi": float(normalized_mutual_info_score(truth, pred)),
        "ami": float(adjusted_mutual_info_score(truth, pred)),
        "ari": float(adjusted_rand_score(truth, pred)),
        "mi": float(mutual_info_score(truth, pred)),
        "emi": float(expected_mutual_information(contingency_matrix(truth, pred, sparse=True), len(pred))),
        "matched_accuracy": float(matched), "majority_accuracy": float(majority),
        "clusters": int(c.shape[0]), "classes": int(c.shape[1]),
    }


def noisy(truth, keep, k):
    out = truth.copy()
    flip = rng.random(len(truth)) > keep
    out[flip] = rng.integers(0, k, flip.sum())
    return out


cases = []
t = rng.integers(0, 10, 500)
cases.append(clustering_case("random_10x10", rng.integers(0, 10, 500), t))
t = rng.integers(0, 10, 1000)
cases.append(clustering_case("random_20_clusters_10_classes", rng.integers(0, 20, 1000), t))
t = rng.integers(0, 12, 600)
cases.append(clustering_case("random_5_clusters_12_classes", rng.integers(0, 5, 600), t))
t = rng.integers(0, 10, 2000)
perm = rng.permutation(10)
cases.append(clustering_case("noisy_permuted_80pct", perm[noisy(t, 0.8, 10)], t))
t = rng.integers(0, 100, 20000)
perm = rng.permutation(100)
cases.append(clustering_case("noisy_permuted_100x100_n20000", perm[noisy(t, 0.5, 100)], t))
t = rng.integers(0, 7, 300)
cases.append(clustering_case("identical_up_to_relabel", rng.permutation(7)[t] * 3 - 5, t))
cases.append(clustering_case("one_cluster", np.zeros(200, dtype=np.int64), rng.integers(0, 4, 200)))
cases.append(clustering_case("one_class", rng.integers(0, 6, 200), np.zeros(200, dtype=np.int64)))
cases.append(clustering_case("one_cluster_one_class", np.full(50, 3), np.full(50, 9)))
cases.append(clustering_case("all_singletons", np.arange(60), rng.integers(0, 5, 60)))
cases.append(clustering_case("sparse_label_values", rng.choice([-3, 7, 100, 4096, 10**12], 400),
                             rng.integers(0, 5, 400)))
t = np.repeat(np.arange(8), 25)
cases.append(clustering_case("balanced_merge_pairs", t // 2, t))

assignment = []
for name, shape, integer in [("square_7", (7, 7), False), ("square_40", (40, 40), False),
                             ("wide_5x9", (5, 9), False), ("tall_9x5", (9, 5), False),
                             ("integer_ties_12", (12, 12), True), ("integer_ties_wide_6x15", (6, 15), True)]:
    cost = rng.integers(0, 4, shape).astype(float) if integer else rng.normal(size=shape) * 10
    for maximize in (False, True):
        r, k = linear_sum_assignment(cost, maximize=maximize)
        assignment.append({"name": f"{name}_{'max' if maximize else 'min'}", "rows": shape[0],
                           "columns": shape[1], "costs": cost.ravel().tolist(), "maximize": maximize,
                           "total": float(cost[r, k].sum())})


def l2n(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def knn_reference(train, ytr, test, yte, ks, sigmas):
    """The official protocol: cosine similarity (float32), top-k, votes exp(s/sigma), top-1/top-5."""
    sims = (test.astype(np.float32) @ train.astype(np.float32).T).astype(np.float32)
    ncls = int(max(ytr.max(), yte.max())) + 1
    order = np.argsort(-sims, axis=1, kind="stable")  # ties: lower train index first
    out = []
    for k in ks:
        nn = order[:, :k]
        s = np.take_along_axis(sims, nn, axis=1).astype(np.float64)
        for sigma in sigmas:
            votes = np.zeros((len(test), ncls))
            w = np.exp(s / sigma)
            for q in range(k):
                np.add.at(votes, (np.arange(len(test)), ytr[nn[:, q]]), w[:, q])
            ranking = np.argsort(-votes, axis=1, kind="stable")  # ties: lower class first
            hit = ranking == yte[:, None]
            out.append({"k": k, "sigma": sigma, "top1": int(hit[:, :1].sum()),
                        "top5": int(hit[:, :min(5, ncls)].sum())})
    return out


d, ncls, ntr, nte = 32, 10, 300, 120
scales = np.exp(-np.arange(d) / 8.0)  # a decaying spectrum keeps PCA eigenvalues apart
centres = rng.normal(size=(ncls, d)) * scales * 0.45
ytr = rng.integers(0, ncls, ntr)
yte = rng.integers(0, ncls, nte)
xtr = np.round(centres[ytr] + rng.normal(size=(ntr, d)) * scales + 0.3, 4).astype(np.float32)
xte = np.round(centres[yte] + rng.normal(size=(nte, d)) * scales + 0.3, 4).astype(np.float32)
ks, sigmas = [1, 5, 10, 20], [0.1, 0.5]
trn, ten = l2n(xtr.astype(np.float64)), l2n(xte.astype(np.float64))
plain = knn_reference(trn, ytr, ten, yte, ks, sigmas)
pca = PCA(n_components=16, whiten=False).fit(trn)
ptr, pte = l2n(pca.transform(trn)), l2n(pca.transform(ten))
with_pca = knn_reference(ptr, ytr, pte, yte, ks, sigmas)
# The official order (cifar_utils.kNN with use_pca): PCA fitted on the raw train features, then L2 normalisation.
pca_raw = PCA(n_components=16, whiten=False).fit(xtr.astype(np.float64))
rtr, rte = l2n(pca_raw.transform(xtr.astype(np.float64))), l2n(pca_raw.transform(xte.astype(np.float64)))
with_pca_official = knn_reference(rtr, ytr, rte, yte, ks, sigmas)
knn = {"train_features": [float(f"{v:.4f}") for v in xtr.ravel()], "train_labels": ytr.tolist(),
       "test_features": [float(f"{v:.4f}") for v in xte.ravel()], "test_labels": yte.tolist(), "dimension": d,
       "ks": ks, "sigmas": sigmas, "plain": plain, "pca_dimensions": 16, "pca": with_pca,
       "pca_explained_variance": pca.explained_variance_.tolist(),
       "pca_test_projection_normalized": pte.ravel().tolist(),
       "pca_official": with_pca_official, "pca_official_explained_variance": pca_raw.explained_variance_.tolist(),
       "pca_official_test_projection_normalized": rte.ravel().tolist()}

for fname, obj in [("clustering_metrics.json", {"versions": VERSIONS, "cases": cases}),
                   ("assignment.json", {"versions": VERSIONS, "cases": assignment}),
                   ("knn.json", {"versions": VERSIONS, **knn})]:
    with open(fname, "w") as f:
        json.dump(obj, f)
    print("wrote", fname)
for c in cases:
    print(c["name"], c["nmi"], c["ami"], c["ari"], c["matched_accuracy"], c["majority_accuracy"])
for p in plain + with_pca + with_pca_official:
    print(p)
