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
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_relu(cin, cout, k, s, p):
    return [nn.Conv2d(cin, cout, k, s, p), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class AlexNet(nn.Module):
    """Official SeLa/DeepCluster AlexNet (conv → BN → ReLU, MaxPool(3, 2)), classifier with dropout, heads."""

    def __init__(self, cfg, flat, heads):
        super().__init__()
        layers, c = [], 3
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(3, 2))
            else:
                layers += conv_bn_relu(c, *v)
                c = v[0]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Linear(flat, 4096), nn.ReLU(inplace=True),
                                        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True))
        self.heads = nn.ModuleList([nn.Linear(4096, k) for k in heads])
        for m in self.modules():  # official initialisation
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, (2.0 / n) ** 0.5)
                m.bias.data.zero_()
            elif isinstance(m, nn.Linear):
                m.weight.data.normal_(0, 0.01)
                m.bias.data.zero_()

    def forward(self, x):
        x = self.classifier(torch.flatten(self.features(x), 1))
        return [h(x) for h in self.heads]


BIG = [(96, 11, 4, 2), "M", (256, 5, 1, 2), "M", (384, 3, 1, 1), (384, 3, 1, 1), (256, 3, 1, 1), "M"]
SMALL = [(64, 11, 4, 2), "M", (192, 5, 1, 2), "M", (384, 3, 1, 1), (256, 3, 1, 1), (256, 3, 1, 1), "M"]
CIFAR = [(96, 5, 1, 2), "M", (256, 5, 1, 2), "M", (384, 3, 1, 1), (384, 3, 1, 1), (256, 3, 1, 1), "M"]


class Bottleneck(nn.Module):
    """torchvision v1 bottleneck: stride on the 3x3 conv, 1x1 conv + BN projection when the shape changes."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride != 1 or cin != planes * 4:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes * 4, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = F.relu(self.bn2(self.conv2(out)), inplace=True)
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity, inplace=True)


class Basic(nn.Module):
    """CIFAR ResNet BasicBlock: two 3x3 convs, 1x1 conv + BN projection when the shape changes."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x), inplace=True)


def stages(block, expansion, counts):
    out, cin = [], 64
    for s, n in enumerate(counts):
        planes = 64 << s
        blocks = []
        for b in range(n):
            blocks.append(block(cin, planes, 2 if (b == 0 and s > 0) else 1))
            cin = planes * expansion
        out.append(nn.Sequential(*blocks))
    return out


class ResNet50(nn.Module):
    def __init__(self, heads):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                                      nn.MaxPool2d(3, 2, 1), *stages(Bottleneck, 4, [3, 4, 6, 3]),
                                      nn.AdaptiveAvgPool2d((1, 1)))
        self.heads = nn.ModuleList([nn.Linear(2048, k) for k in heads])

    def forward(self, x):
        x = torch.flatten(self.features(x), 1)
        return [h(x) for h in self.heads]


class ResNet18CIFAR(nn.Module):
    def __init__(self, heads):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layers = nn.Sequential(*stages(Basic, 1, [2, 2, 2, 2]))
        self.heads = nn.ModuleList([nn.Linear(512, k) for k in heads])

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x)), inplace=True))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return [h(x) for h in self.heads]


def build(arch, heads):
    if arch == "alexnet":
        return AlexNet(BIG, 256 * 6 * 6, heads), 224
    if arch == "alexnet_small":
        return AlexNet(SMALL, 256 * 6 * 6, heads), 224
    if arch == "alexnet_cifar":
        return AlexNet(CIFAR, 256 * 3 * 3, heads), 32
    if arch == "resnet18_cifar":
        return ResNet18CIFAR(heads), 32
    if arch == "resnet50":
        return ResNet50(heads), 224
    raise SystemExit("unknown --arch %s" % arch)


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
