#!/usr/bin/env python3
"""Reference for `selflabel bench data`: the same input pipeline with torchvision + PIL and a torch DataLoader.

    python3 scripts/reference/data_torchvision.py --data DIR [--split train] [--augs 3] [--image-size 256]
        [--crop-size 224] [--batch 256] [--workers W] [--epochs 1]

Pipelines (yukimasano/self-label data.py and cifar.py): --augs 0..3 the official ImageNet levels; -1 the official
CIFAR training pipeline; 32 its native-resolution variant at --crop-size. Dataset: torchvision ImageFolder on
DIR/train (or DIR/val, else DIR/test, for --split test), shuffled, drop_last=False, returning (image, target,
index) like SeLa's DataSet wrapper. Prints one JSON line with the same keys as the Swift command; cpu_seconds
counts this process and its (joined) worker processes.
"""
import argparse
import json
import os
import resource
import sys
import time
import types

# torchvision 0.29 here fails to register its C++ ops against torch 2.13; the PIL transforms do not need them.
sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
import torch  # noqa: E402
import torchvision  # noqa: E402
import torchvision.transforms as tfs  # noqa: E402

IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
CIFAR = ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010))


def pipeline(augs, image_size, crop_size):
    jitter = tfs.ColorJitter(0.4, 0.4, 0.4, 0.4)
    if augs in (-1, 32):
        size = crop_size if augs == 32 else image_size
        return tfs.Compose([tfs.Resize(size), tfs.RandomResizedCrop(size=crop_size, scale=(0.2, 1.0)), jitter,
                            tfs.RandomGrayscale(p=0.2), tfs.RandomHorizontalFlip(), tfs.ToTensor(),
                            tfs.Normalize(*CIFAR)])
    steps = {
        0: [tfs.Resize(image_size), tfs.CenterCrop(crop_size)],
        1: [tfs.Resize(image_size), tfs.CenterCrop(crop_size), tfs.RandomHorizontalFlip()],
        2: [tfs.Resize(image_size), tfs.RandomResizedCrop(crop_size), tfs.RandomHorizontalFlip()],
        3: [tfs.RandomResizedCrop(crop_size), tfs.RandomGrayscale(p=0.2), jitter, tfs.RandomHorizontalFlip()],
    }[augs]
    return tfs.Compose(steps + [tfs.ToTensor(), tfs.Normalize(*IMAGENET)])


class WithIndex(torch.utils.data.Dataset):
    """SeLa's DataSet: returns (image, target, index)."""

    def __init__(self, dt):
        self.dt = dt

    def __getitem__(self, index):
        data, target = self.dt[index]
        return data, target, index

    def __len__(self):
        return len(self.dt)


def cpu_seconds():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="train", choices=["train", "test"])
    p.add_argument("--augs", type=int, default=3)
    p.add_argument("--image-size", type=int, default=256)
    p.add_argument("--crop-size", type=int, default=224)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    folder = os.path.join(a.data, "train")
    if a.split == "test":
        folder = os.path.join(a.data, "val") if os.path.isdir(os.path.join(a.data, "val")) else os.path.join(a.data, "test")
    ds = WithIndex(torchvision.datasets.ImageFolder(folder, pipeline(a.augs, a.image_size, a.crop_size)))
    loader = torch.utils.data.DataLoader(ds, batch_size=a.batch, shuffle=True, num_workers=a.workers,
                                         drop_last=False)
    cpu0, t0 = cpu_seconds(), time.monotonic()
    images = 0
    for _ in range(a.epochs):
        for x, _, idx in loader:
            images += x.shape[0]
    seconds = time.monotonic() - t0
    cpu = cpu_seconds() - cpu0
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({"what": "data_loader", "implementation": "torchvision+PIL", "data": a.data, "split": a.split,
                      "images_in_split": len(ds), "augs": a.augs, "image_size": a.image_size,
                      "crop_size": a.crop_size, "batch": a.batch, "workers": a.workers, "epochs": a.epochs,
                      "images": images, "seconds": seconds, "images_per_s": images / seconds,
                      "cpu_seconds": cpu, "cpu_ms_per_image": 1000 * cpu / max(images, 1),
                      "peak_rss_mb_largest_process": peak * 1024 / 1e6,
                      "versions": {"torch": torch.__version__, "torchvision": torchvision.__version__}}))


if __name__ == "__main__":
    main()
