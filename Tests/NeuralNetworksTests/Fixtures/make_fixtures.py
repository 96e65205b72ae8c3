#!/usr/bin/env python3
"""Generates the PyTorch golden fixtures for Tests/NeuralNetworksTests (run from anywhere; writes next to itself).

    python3 Tests/NeuralNetworksTests/Fixtures/make_fixtures.py

Tested with torch 2.13 (CPU), numpy 2.4. Every input, weight and upstream gradient comes from `hash_uniform`,
a SplitMix64-style integer hash of (seed, index) that the Swift tests reproduce bit for bit, so no weights need
to be stored. Outputs are JSON: {name: {"shape": [...], "data": [...]}} (float32 values printed exactly).

Files:
- layers.json          per-layer forward + input/weight gradients (loss = sum(y * r), r hashed)
- alexnet_cifar_step.json   two SGD steps (lr 0.1, momentum 0.9, wd 5e-4) of alexnet_cifar with 2 heads,
                       dropout disabled (those modules in eval mode): losses, sampled gradients of step 1,
                       sampled parameter changes after step 2, BN running statistics after each step
- blocks.json          BasicBlock, Bottleneck and PreActBottleneck (with and without projection), training mode:
                       forward, input and parameter gradients, running statistics
- models.json          state_dict keys with shapes and parameter counts of every architecture (2 heads [10, 7],
                       and the single-head naming for alexnet_cifar)
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "scripts", "fixtures"))
import official_models as om  # noqa: E402  (the shared reference architectures)
M64 = (1 << 64) - 1


def hash_uniform(seed, n, low, high):
    """float32 values low + (high - low) * u, u = 24 hashed bits / 2^24, computed in float64 then rounded."""
    i = np.arange(n, dtype=np.uint64)
    mix = np.uint64((seed * 0xD1B54A32D192ED03) & M64)
    with np.errstate(over="ignore"):
        z = mix + (i + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.float64) * 2.0 ** -24
    return (low + (high - low) * u).astype(np.float32)


def ht(seed, shape, low=-1.0, high=1.0):
    return torch.from_numpy(hash_uniform(seed, int(np.prod(shape)), low, high).reshape(shape))


def entry(t):
    a = t.detach().cpu().numpy().astype(np.float32)
    return {"shape": list(a.shape), "data": [float(v) for v in a.reshape(-1)]}


# ---------------------------------------------------------------- per-layer fixtures
def layer_fixtures():
    out = {}

    def record(name, fn, inputs, seed):
        leaves = [t.clone().requires_grad_(True) for t in inputs]
        y = fn(*leaves)
        r = ht(seed, tuple(y.shape))
        (y * r).sum().backward()
        out[name + ".y"] = entry(y)
        for k, leaf in enumerate(leaves):
            out[name + ".grad%d" % k] = entry(leaf.grad)

    # conv: stride 2, padding 1, bias; and stride 1, no padding, no bias, 5x5 kernel
    record("conv_s2p1", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
           [ht(1, (2, 3, 7, 6)), ht(2, (4, 3, 3, 3), -0.5, 0.5), ht(3, (4,))], 4)
    record("conv_k5", lambda x, w: F.conv2d(x, w, None, stride=1, padding=0),
           [ht(5, (1, 2, 6, 6)), ht(6, (3, 2, 5, 5), -0.3, 0.3)], 7)
    # max-pool with padding, and with many ties (integer values)
    record("maxpool_k3s2p1", lambda x: F.max_pool2d(x, 3, 2, 1), [ht(8, (2, 3, 7, 7))], 9)
    ties = torch.round(ht(10, (2, 2, 6, 6), 0.0, 2.0))
    record("maxpool_ties_k2s2", lambda x: F.max_pool2d(x, 2, 2), [ties], 11)
    record("maxpool_k3s2", lambda x: F.max_pool2d(x, 3, 2), [ht(12, (1, 2, 9, 9))], 13)
    record("avgpool_k3s2p1", lambda x: F.avg_pool2d(x, 3, 2, 1), [ht(14, (2, 3, 7, 7))], 15)
    record("adaptive_avg", lambda x: F.adaptive_avg_pool2d(x, 1), [ht(16, (2, 3, 5, 4))], 17)
    record("linear", lambda x, w, b: F.linear(x, w, b), [ht(18, (3, 5)), ht(19, (4, 5)), ht(20, (4,))], 21)
    record("relu", lambda x: F.relu(x), [ht(22, (2, 3, 4, 4))], 23)

    # batch norm, training, with running statistics (momentum 0.1, unbiased variance)
    bn = nn.BatchNorm2d(4)
    with torch.no_grad():
        bn.weight.copy_(ht(24, (4,), 0.5, 1.5))
        bn.bias.copy_(ht(25, (4,), -0.1, 0.1))
        bn.running_mean.copy_(ht(26, (4,), -0.2, 0.2))
        bn.running_var.copy_(ht(27, (4,), 0.5, 1.5))
    x = (ht(28, (3, 4, 5, 5)) * 2 + 0.5).requires_grad_(True)
    bn.train()
    y = bn(x)
    (y * ht(29, tuple(y.shape))).sum().backward()
    out["bn_train.y"] = entry(y)
    out["bn_train.grad_x"] = entry(x.grad)
    out["bn_train.grad_weight"] = entry(bn.weight.grad)
    out["bn_train.grad_bias"] = entry(bn.bias.grad)
    out["bn_train.running_mean"] = entry(bn.running_mean)
    out["bn_train.running_var"] = entry(bn.running_var)
    # batch norm, evaluation (uses the updated running statistics)
    bn.eval()
    x2 = ht(30, (2, 4, 3, 3)).requires_grad_(True)
    bn.weight.grad = None
    y2 = bn(x2)
    (y2 * ht(31, tuple(y2.shape))).sum().backward()
    out["bn_eval.y"] = entry(y2)
    out["bn_eval.grad_x"] = entry(x2.grad)
    out["bn_eval.grad_weight"] = entry(bn.weight.grad)

    # batch norm with a single image (N = 1, H*W > 1): allowed by PyTorch
    bn1 = nn.BatchNorm2d(2)
    x1 = ht(32, (1, 2, 3, 3)).requires_grad_(True)
    y1 = bn1(x1)
    (y1 * ht(33, tuple(y1.shape))).sum().backward()
    out["bn_single.y"] = entry(y1)
    out["bn_single.grad_x"] = entry(x1.grad)
    out["bn_single.running_var"] = entry(bn1.running_var)

    # softmax cross-entropy (mean) and the two-head mean
    logits = (ht(34, (4, 6)) * 3).requires_grad_(True)
    targets = torch.tensor([0, 5, 2, 2])
    loss = F.cross_entropy(logits, targets)
    loss.backward()
    out["ce.loss"] = entry(loss)
    out["ce.grad"] = entry(logits.grad)
    l1 = (ht(35, (3, 4)) * 2).requires_grad_(True)
    l2 = (ht(36, (3, 5)) * 2).requires_grad_(True)
    mh = torch.mean(torch.stack([F.cross_entropy(l1, torch.tensor([1, 3, 0])),
                                 F.cross_entropy(l2, torch.tensor([4, 4, 2]))]))
    mh.backward()
    out["multihead.loss"] = entry(mh)
    out["multihead.grad0"] = entry(l1.grad)
    out["multihead.grad1"] = entry(l2.grad)
    return out


def model_fixtures():
    heads = [10, 7]
    builders = {name: make for name, (make, _) in om.ARCHITECTURES.items()}
    out = {}
    for name, make in builders.items():
        for hs, suffix in [(heads, ""), ([5], "/single")]:
            if suffix and name not in ("alexnet_cifar", "convnet_tiny"):
                continue
            m = make(hs)
            sd = m.state_dict()
            out[name + suffix] = {
                "keys": list(sd.keys()),
                "shapes": [list(v.shape) for v in sd.values()],
                "parameters": sum(p.numel() for p in m.parameters()),
            }
    return out


# ---------------------------------------------------------------- alexnet_cifar: two SGD steps
SAMPLES = 97  # sampled entries per tensor (evenly spaced flat indices)


def sample_indices(n):
    return sorted(set(int(i) for i in np.linspace(0, n - 1, min(SAMPLES, n)).round()))


def hashed_init(model):
    """Same rule as the Swift test: parameters by state_dict order, seed 1000 + index."""
    with torch.no_grad():
        for idx, (name, t) in enumerate(model.state_dict().items()):
            seed = 1000 + idx
            if name.endswith("running_mean") or name.endswith("running_var") or name.endswith("num_batches_tracked"):
                continue
            shape = tuple(t.shape)
            if len(shape) == 4:  # conv weight: uniform with the He-normal variance
                a = float(np.sqrt(3.0 * 2.0 / (shape[2] * shape[3] * shape[0])))
                t.copy_(ht(seed, shape, -a, a))
            elif len(shape) == 2:  # linear weight
                a = float(np.sqrt(3.0) * 0.01 * 4)
                t.copy_(ht(seed, shape, -a, a))
            elif "features" in name and name.endswith("weight"):  # BN weight
                t.copy_(ht(seed, shape, 0.5, 1.5))
            else:  # biases
                t.copy_(ht(seed, shape, -0.1, 0.1))


def step_fixture():
    torch.manual_seed(0)
    model = om.AlexNet(om.ALEXNET_CFG['cifar'], [5, 7], 2304)
    hashed_init(model)
    model.train()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    x = ht(2000, (4, 3, 32, 32), -2.0, 2.0)
    y0 = torch.tensor([int(v) for v in (hash_uniform(2001, 4, 0.0, 5.0)).astype(np.int64)])
    y1 = torch.tensor([int(v) for v in (hash_uniform(2002, 4, 0.0, 7.0)).astype(np.int64)])
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    out = {"targets0": entry(y0.float()), "targets1": entry(y1.float())}
    for step in range(2):
        opt.zero_grad()
        outs = model(x)
        loss = torch.mean(torch.stack([F.cross_entropy(outs[0], y0), F.cross_entropy(outs[1], y1)]))
        loss.backward()
        out["loss%d" % step] = entry(loss)
        if step == 0:
            for name, p in model.named_parameters():
                g = p.grad.reshape(-1)
                idx = sample_indices(g.numel())
                out["grad." + name] = {"indices": idx, "data": [float(g[i]) for i in idx],
                                       "maxabs": float(g.abs().max())}
        opt.step()
        for name, t in model.state_dict().items():
            if "running" in name:
                out["step%d.%s" % (step, name)] = entry(t)
    for name, p in model.named_parameters():
        d = (p.detach().double() - initial[name].double()).reshape(-1)
        idx = sample_indices(d.numel())
        out["delta." + name] = {"indices": idx, "data": [float(d[i]) for i in idx], "maxabs": float(d.abs().max())}
    return out


def block_fixtures():
    """Residual blocks in training mode: forward, input gradient and every parameter gradient (loss = sum(y * r)).
    Parameters hashed by state_dict order (seed 3000 + 100·case + index): 4-D conv weights U(±√(6/(k·k·out))),
    1-D weights (BN) U(0.5, 1.5), 1-D biases U(−0.1, 0.1)."""
    out = {}
    cases = [("basic_s2", om.CIFARBasicBlock(4, 6, 2), (2, 4, 8, 8)), ("basic_id", om.CIFARBasicBlock(4, 4, 1), (2, 4, 6, 6)),
             ("bottleneck_s2", om.bottleneck(8, 3, 2), (2, 8, 8, 8)),
             ("bottleneck_id", om.bottleneck(12, 3, 1), (2, 12, 5, 5)),
             ("preact_s2", om.PreActBottleneck(8, 3, 2), (2, 8, 8, 8)), ("preact_id", om.PreActBottleneck(12, 3, 1), (2, 12, 5, 5))]
    for case, (name, block, shape) in enumerate(cases):
        with torch.no_grad():
            for idx, (key, t) in enumerate(block.state_dict().items()):
                seed = 3000 + 100 * case + idx
                if "running" in key or "num_batches" in key:
                    continue
                if t.dim() == 4:
                    a = float(np.sqrt(6.0 / (t.shape[2] * t.shape[3] * t.shape[0])))
                    t.copy_(ht(seed, tuple(t.shape), -a, a))
                elif key.endswith("weight"):
                    t.copy_(ht(seed, tuple(t.shape), 0.5, 1.5))
                else:
                    t.copy_(ht(seed, tuple(t.shape), -0.1, 0.1))
        block.train()
        x = ht(4000 + case, shape).requires_grad_(True)
        y = block(x)
        (y * ht(5000 + case, tuple(y.shape))).sum().backward()
        out[name + ".y"] = entry(y)
        out[name + ".grad_x"] = entry(x.grad)
        for key, p in block.named_parameters():
            out[name + ".grad." + key] = entry(p.grad)
        for key, t in block.state_dict().items():
            if "running" in key:
                out[name + ".buffer." + key] = entry(t)
    return out


def main():
    torch.set_num_threads(1)
    for fname, make in [("layers.json", layer_fixtures), ("blocks.json", block_fixtures), ("models.json", model_fixtures),
                        ("alexnet_cifar_step.json", step_fixture)]:
        with open(os.path.join(HERE, fname), "w") as f:
            json.dump(make(), f, separators=(",", ":"))
        print("wrote", fname, os.path.getsize(os.path.join(HERE, fname)), "bytes")


if __name__ == "__main__":
    main()
