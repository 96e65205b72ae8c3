#!/usr/bin/env python3
# Digits-like 28x28 grayscale image folder from scikit-learn's bundled 8x8 digits (UCI optdigits test set):
# originals split 1,400 / 397 (seeded), each split expanded with random affine variants (rotation ±12°,
# shift ±2 px, scale 0.9-1.1) to --train / --test images, PNG, train/<digit>/ and test/<digit>/.
import argparse, os
import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
ap = argparse.ArgumentParser()
ap.add_argument("out"); ap.add_argument("--train", type=int, default=4000); ap.add_argument("--test", type=int, default=1000)
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
d = load_digits(); x = (d.images * (255 / 16)).astype(np.uint8); y = d.target
rng = np.random.RandomState(a.seed); perm = rng.permutation(len(y))
splits = {"train": (perm[:1400], a.train), "test": (perm[1400:], a.test)}
for name, (idx, count) in splits.items():
    for c in range(10): os.makedirs(f"{a.out}/{name}/{c}", exist_ok=True)
    for i in range(count):
        j = idx[i % len(idx)] if i < len(idx) else idx[rng.randint(len(idx))]
        im = Image.fromarray(x[j]).resize((20, 20), Image.BICUBIC)
        if i >= len(idx):
            s = rng.uniform(0.9, 1.1); im = im.resize((round(20 * s),) * 2, Image.BICUBIC)
            im = im.rotate(rng.uniform(-12, 12), resample=Image.BILINEAR)
        canvas = Image.new("L", (28, 28)); off = (28 - im.size[0]) // 2
        dx, dy = (rng.randint(-2, 3), rng.randint(-2, 3)) if i >= len(idx) else (0, 0)
        canvas.paste(im, (off + dx, off + dy))
        canvas.save(f"{a.out}/{name}/{y[j]}/{i:05d}.png")
