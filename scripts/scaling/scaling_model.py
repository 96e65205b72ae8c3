#!/usr/bin/env python3
"""Scaling model for data-parallel SelfLabel training (docs/DISTRIBUTED.md, "Scaling model").

A paper model, not a measurement: it combines single-rank step rates measured with
`selflabel bench train-step` on the 2-core development machine with the bytes a ring allreduce
moves, and prints markdown tables. Nothing here runs at product or test time.

Per training step with global batch B on R ranks (one rank = one process with its own cores):
    compute   T_c(R) = B / (R * rate)                       rate: images/s of one rank (fwd + bwd + SGD)
    traffic   bytes(R) = 2 (R - 1) / R * 4 P                ring allreduce of P float32 gradients, per rank
    comm      T_a(R) = bytes(R) / link + 2 (R - 1) * buckets * alpha
    step      no overlap:   T_c + T_a
              full overlap: max(T_c, T_c / 3 + T_a)          the backward pass (about 2/3 of a step)
                                                             is the only time buckets can travel
Label optimisations add a forward pass over the data nopts times per run (forward ~ 1/3 of a step,
so 3 * rate images/s) plus Sinkhorn-Knopp, whose traffic (<= 64 * 3008 * 8 bytes per iteration) is
negligible at these sizes. An epoch is ceil(N / B) steps plus nopts / epochs of a label pass.

Usage: python3 scripts/scaling/scaling_model.py [--cores-per-rank C] [--alpha-us A] [--efficiency E]
"""
import argparse
import math

# (name, parameters, images/s on 2 cores, global batch, dataset size, epochs, nopts, measured where)
# Parameters and rates: `selflabel bench train-step --arch A --batch b --hc H --ncl K --threads 2`,
# quiet machine (docs/PERFORMANCE.md "Training step", 2026-11-29, load 1.6-1.9), except resnet50
# (2026-12-03, measured back to back with alexnet under load ~5 and scaled by alexnet's quiet/loaded ratio).
MODELS = [
    ("alexnet, 10 heads x 3000 (SeLa ImageNet)", 181_194_096, 27.1, 256, 1_281_167, 400, 100),
    ("alexnet, 1 head x 3000", 70_575_096, 27.1, 256, 1_281_167, 400, 100),
    ("resnet50, 10 heads x 3000", 84_978_032, 6.4, 256, 1_281_167, 400, 100),
    ("alexnet_cifar, 10 heads x 128", 35_189_056, 120.0, 128, 50_000, 400, 100),
    ("resnet18_cifar, 10 heads x 128", 11_825_472, 68.0, 128, 50_000, 400, 100),
    ("convnet_tiny, 10 heads x 128", 947_200, 2586.0, 128, 50_000, 400, 100),
]
LINKS_GBIT = [10, 25, 100]
RANKS = [1, 2, 4, 8, 16, 32, 64, 128, 256]
BUCKET_BYTES = 25e6


def step_times(params, rate, batch, ranks, link_gbit, alpha, efficiency):
    """(compute, comm, no-overlap step, full-overlap step, bytes per rank) in seconds/bytes."""
    compute = batch / (ranks * rate)
    if ranks == 1:
        return compute, 0.0, compute, compute, 0.0
    grad_bytes = 4.0 * params
    traffic = 2.0 * (ranks - 1) / ranks * grad_bytes
    buckets = math.ceil(grad_bytes / BUCKET_BYTES)
    link = link_gbit * 1e9 / 8.0 * efficiency
    comm = traffic / link + 2.0 * (ranks - 1) * buckets * alpha
    return compute, comm, compute + comm, max(compute, compute / 3.0 + comm), traffic


def epoch_hours(model, ranks, link_gbit, alpha, efficiency, rate_scale, overlap, per_rank=None):
    """Hours per epoch; with per_rank the global batch is per_rank * ranks (weak scaling)."""
    _, params, rate2, batch, n, epochs, nopts = model
    rate = rate2 * rate_scale
    if per_rank is not None:
        batch = per_rank * ranks
    _, _, no_ov, full_ov, _ = step_times(params, rate, batch, ranks, link_gbit, alpha, efficiency)
    steps = math.ceil(n / batch)
    label_pass = nopts / epochs * n / (3.0 * rate * ranks)
    return (steps * (full_ov if overlap else no_ov) + label_pass) / 3600.0


def stop_rank(model, link_gbit, alpha, efficiency, rate_scale, overlap, per_rank=None):
    """The largest usable R in RANKS whose parallel efficiency T(1) / (R T(R)) is still >= 50 %."""
    base = epoch_hours(model, 1, link_gbit, alpha, efficiency, rate_scale, overlap, per_rank)
    best = 1
    for r in RANKS:
        if per_rank is None and r > model[3]:
            break
        t = epoch_hours(model, r, link_gbit, alpha, efficiency, rate_scale, overlap, per_rank)
        if base / (r * t) >= 0.5:
            best = r
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cores-per-rank", type=float, default=2.0,
                    help="cores per rank; compute rate scales linearly from the 2-core measurement")
    ap.add_argument("--alpha-us", type=float, default=10.0, help="latency per ring step, microseconds")
    ap.add_argument("--efficiency", type=float, default=0.9, help="fraction of the line rate achieved")
    ap.add_argument("--per-rank-batch", type=int, default=None,
                    help="weak scaling: the global batch grows as this times R (default: the fixed batch)")
    ap.add_argument("--models", default="",
                    help="comma-separated keys: alexnet10, alexnet1, resnet50, alexnet_cifar, resnet18_cifar, "
                         "convnet_tiny (default: all)")
    args = ap.parse_args()
    keys = ["alexnet10", "alexnet1", "resnet50", "alexnet_cifar", "resnet18_cifar", "convnet_tiny"]
    wanted = args.models.split(",") if args.models else keys
    unknown = [w for w in wanted if w not in keys]
    if unknown:
        ap.error(f"unknown model key(s): {', '.join(unknown)}")
    models = [m for k, m in zip(keys, MODELS) if k in wanted]
    scale = args.cores_per_rank / 2.0
    alpha = args.alpha_us * 1e-6

    print(f"One rank = {args.cores_per_rank:g} cores (rate x{scale:g} of the 2-core measurement); "
          f"links at {args.efficiency:.0%} of line rate, {args.alpha_us:g} us per ring step, "
          f"{BUCKET_BYTES / 1e6:g} MB buckets.\n")
    print("| model | parameters | gradient MB | allreduce bytes per rank per step (R large) | "
          "step on 1 rank, s | allreduce at R large, s (10 / 25 / 100 Gb/s) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for m in models:
        name, p, rate, b = m[0], m[1], m[2] * scale, m[3]
        comm = " / ".join(f"{8 * p / (g * 1e9 / 8 * args.efficiency):.3g}" for g in LINKS_GBIT)
        print(f"| {name} | {p / 1e6:.1f} M | {4 * p / 1e6:.0f} | {8 * p / 1e6:.0f} MB | "
              f"{b / rate:.3g} (B = {b}) | {comm} |")
    pr = args.per_rank_batch
    for m in models:
        batch = f"B = {pr} x R" if pr else f"B = {m[3]}"
        print(f"\n**{m[0]}**: epoch time in hours ({m[4]:,} images, {batch}, label pass "
              f"{m[6]} times in {m[5]} epochs), full overlap / no overlap\n")
        print("| link | " + " | ".join(f"R = {r}" for r in RANKS) + " | largest R at ≥ 50 % efficiency |")
        print("| --- | " + " | ".join("---" for _ in RANKS) + " | --- |")
        for g in LINKS_GBIT:
            cells = []
            for r in RANKS:
                if pr is None and r > m[3]:
                    cells.append("—")
                    continue
                a = epoch_hours(m, r, g, alpha, args.efficiency, scale, True, pr)
                b = epoch_hours(m, r, g, alpha, args.efficiency, scale, False, pr)
                cells.append(f"{a:.3g} / {b:.3g}")
            s_ov = stop_rank(m, g, alpha, args.efficiency, scale, True, pr)
            s_no = stop_rank(m, g, alpha, args.efficiency, scale, False, pr)
            print(f"| {g} Gb/s | " + " | ".join(cells) + f" | {s_ov} / {s_no} |")


if __name__ == "__main__":
    main()
