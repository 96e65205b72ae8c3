#!/usr/bin/env python3
"""Side-by-side acceptance run for the Sinkhorn-Knopp solver (docs/PERFORMANCE.md, "## Sinkhorn-Knopp").

On one logits file (standard normal x 3, float32, written to a temporary folder, never the repository):
  1. `selflabel bench memory` (read bandwidth of this machine, now),
  2. `selflabel label` in the configurations listed below (each: load -> labels, one JSON line),
  3. the NumPy float64 official loop (scripts/reference/sinkhorn_numpy.py),
then label agreement with NumPy, time and peak-memory ratios, and per-iteration time over the bandwidth bound.

    python3 scripts/reference/sinkhorn_acceptance.py [--n 200000] [--k 3000] [--threads 2] [--skip-numpy]
Run from the repository root after `swift build -c release`.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

CONFIGS = [
    ("default (truncated where it applies)", []),
    ("dense f32", ["--truncation", "off"]),
    ("dense bf16", ["--truncation", "off", "--storage", "bf16"]),
    ("truncated + over-relaxation", ["--accelerate"]),
    ("dense bf16 + over-relaxation", ["--truncation", "off", "--storage", "bf16", "--accelerate"]),
]


def run_json(cmd):
    print("$", " ".join(cmd), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads([l for l in out.splitlines() if l.startswith("{")][-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--k", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-numpy", action="store_true")
    ap.add_argument("--only", help="run only the configuration with this label")
    ap.add_argument("--binary", default=".build/release/selflabel")
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as tmp:
        z = os.path.join(tmp, "logits.npy")
        subprocess.run([sys.executable, os.path.join(here, "sinkhorn_numpy.py"), "--make-logits", z,
                        "--n", str(a.n), "--k", str(a.k), "--seed", str(a.seed)], check=True)
        print("load average before:", os.getloadavg(), file=sys.stderr)
        mem = run_json([a.binary, "bench", "memory", "--threads", str(a.threads)])
        print(json.dumps(mem))
        bandwidth = mem["gb_per_s_best"] * 1e9
        results = []
        for name, flags in CONFIGS:
            if a.only and name != a.only:
                continue
            out = os.path.join(tmp, f"labels{len(results)}.npy")
            r = run_json([a.binary, "label", "--logits", z, "--out", out, "--threads", str(a.threads)] + flags)
            h = r["per_head"][0]
            bound = h["stored_matrix_bytes"] / bandwidth
            r["config"] = name
            r["per_iteration_over_bandwidth_bound"] = h["seconds_per_iteration"] / bound
            print(json.dumps(r))
            results.append((name, r, np.load(out)))
        if a.skip_numpy:
            return
        ref_out = os.path.join(tmp, "labels_numpy.npy")
        ref = run_json([sys.executable, os.path.join(here, "sinkhorn_numpy.py"), "--logits", z,
                        "--threads", str(a.threads), "--out", ref_out])
        print(json.dumps(ref))
        ref_labels = np.load(ref_out)
        print("load average after:", os.getloadavg(), file=sys.stderr)
        for name, r, labels in results:
            h = r["per_head"][0]
            print(json.dumps({
                "config": name, "iterations": h["iterations"], "numpy_iterations": ref["iterations"],
                "total_seconds": r["total_seconds"], "numpy_total_seconds": ref["total_seconds"],
                "speedup": ref["total_seconds"] / r["total_seconds"],
                "label_agreement": float((labels == ref_labels).mean()),
                "peak_rss_mb": r["peak_rss_mb"], "numpy_peak_rss_mb": ref["peak_rss_mb"],
                "memory_ratio": r["peak_rss_mb"] / ref["peak_rss_mb"],
                "seconds_per_iteration": h["seconds_per_iteration"],
                "numpy_seconds_per_iteration": ref["seconds_per_iteration"],
                "per_iteration_over_bandwidth_bound": r["per_iteration_over_bandwidth_bound"],
                "method": h.get("method"), "kept_entries": h.get("kept_entries"), "rebuilds": h.get("rebuilds"),
                "full_passes": h.get("full_passes"), "prepare_seconds": h["prepare_seconds"],
                "iterate_seconds": h["iterate_seconds"], "label_seconds": h["label_seconds"],
            }))


if __name__ == "__main__":
    main()
