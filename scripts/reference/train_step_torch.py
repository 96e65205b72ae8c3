#!/usr/bin/env python3
"""Time full SeLa training steps in PyTorch: the reference for `selflabel bench train-step`.

One step = forward in training mode on a fixed random batch, multi-head loss (mean over heads of the
cross-entropies), backward, SGD (momentum 0.9, weight decay 1e-5). The architectures are built exactly as in
issue 4 / Sources/NeuralNetworks/Models (same layers; the "parameters" field must equal the Swift line's).
Prints one JSON line with the same fields as the Swift command:

    python3 scripts/reference/train_step_torch.py --arch alexnet_cifar --batch 128 --hc 10 --ncl 128 \
        --threads 2 --steps 10 --warmup 2 [--channels-last]
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import official_models as om  # noqa: E402  (the shared reference architectures)


def build(arch, heads):
    """The reference model for `arch` (official AlexNet initialisation for the AlexNets) and its input side."""
    if arch not in om.ARCHITECTURES:
        raise SystemExit("unknown --arch %s" % arch)
    make, size = om.ARCHITECTURES[arch]
    model = make(heads)
    return (om.official_alexnet_init(model) if arch.startswith("alexnet") else model), size


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="alexnet_cifar")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--hc", type=int, default=10)
    ap.add_argument("--ncl", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--channels-last", action="store_true", help="memory_format=torch.channels_last (NHWC)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model, size = build(a.arch, [a.ncl] * a.hc)
    model.train()
    images = torch.randn(a.batch, 3, size, size)
    targets = [torch.randint(0, a.ncl, (a.batch,)) for _ in range(a.hc)]
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-5)

    times, loss = [], None
    for step in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        outputs = model(images)
        loss = sum(F.cross_entropy(o, t) for o, t in zip(outputs, targets)) / len(outputs)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        t1 = time.perf_counter()
        if step >= a.warmup:
            times.append((t1 - t0) * 1000)

    mean = statistics.fmean(times)
    print(json.dumps({
        "what": "train_step", "impl": "torch" + ("_channels_last" if a.channels_last else ""),
        "torch": torch.__version__, "arch": a.arch, "batch": a.batch, "hc": a.hc, "ncl": a.ncl,
        "threads": a.threads, "steps": a.steps,
        "images_per_second": a.batch / (mean / 1000), "ms_per_step_mean": mean,
        "ms_per_step_median": statistics.median(times), "ms_per_step_min": min(times),
        "parameters": sum(p.numel() for p in model.parameters()),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6,
        "final_loss": loss.item(),
    }))


if __name__ == "__main__":
    main()
