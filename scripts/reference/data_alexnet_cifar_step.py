#!/usr/bin/env python3
"""Yardstick for docs/PERFORMANCE.md "Data pipeline": how many images per second one `alexnet_cifar` training step
consumes on this CPU, in PyTorch (SeLa's CIFAR AlexNet: conv-BN-ReLU 96/256/384/384/256 with 5x5, 5x5, 3x3 kernels,
max-pools, two 4096 FC layers with dropout, `--hc` heads of `--ncl` clusters; input 3x32x32). One step = forward,
mean cross-entropy over heads, backward, SGD (momentum 0.9, weight decay 5e-4).

    python3 scripts/reference/data_alexnet_cifar_step.py [--batch 128] [--threads 2] [--hc 10] [--ncl 128]

Prints one JSON line with images/s of the train step; divide the data loader's images/s per core by it to get
the share of one core that feeding the step takes.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import official_models as om  # noqa: E402  (the shared reference architectures)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--hc", type=int, default=10)
    p.add_argument("--ncl", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = om.AlexNet(om.ALEXNET_CFG['cifar'], [a.ncl] * a.hc, 256 * 3 * 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(a.batch, 3, 32, 32)
    y = torch.randint(0, a.ncl, (a.hc, a.batch))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        out = model(x)
        loss = torch.stack([loss_fn(o, y[h]) for h, o in enumerate(out)]).mean()
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    t0 = time.monotonic()
    for _ in range(a.steps):
        step()
    seconds = time.monotonic() - t0
    print(json.dumps({"what": "alexnet_cifar_train_step", "implementation": "pytorch", "torch": torch.__version__,
                      "batch": a.batch, "threads": a.threads, "hc": a.hc, "ncl": a.ncl, "steps": a.steps,
                      "seconds": seconds, "images_per_s": a.steps * a.batch / seconds}))


if __name__ == "__main__":
    main()
