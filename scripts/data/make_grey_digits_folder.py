#!/usr/bin/env python3
"""Builds a grey, digits-like 28x28 image folder from the CIFAR-10 images, for the native-small-input path
(issue 14 section 2 and its acceptance comparison with shared/reference/sela_ref.py).

Reads ../shared/data/cifar10-jpg.tar.gz directly (no extraction), takes the first TRAIN/10 files of each class
of train/ and the first VAL/10 of test/ (sorted by file name; when not divisible by 10 the first classes get one
more, as sela_ref.py's cifar10 subsets), converts each image to grey with Pillow's convert("L") (ITU-R 601-2
luma), resizes it to 28x28 (Pillow bilinear, antialiased) and writes it as an 8-bit grey PNG (or grey JPEG,
quality 95, with --format jpg):

    OUT/train/<class>/<name>.png     OUT/val/<class>/<name>.png

Both SelfLabel (`--data OUT`: 1 channel, 28x28, found from the files) and the reference
(`--data folder:OUT`: mode 'L' -> 1 channel) read it. The output is data, not source: do not commit it.

Usage:
    python3 scripts/data/make_grey_digits_folder.py OUT [--train 4000] [--val 1000] [--format png|jpg]
                                                    [--tar path/to/cifar10-jpg.tar.gz]
"""
import argparse
import io
import os
import sys
import tarfile

from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_TAR = os.path.join(os.path.dirname(ROOT), "shared", "data", "cifar10-jpg.tar.gz")


def per_class(n, classes):
    base, rem = divmod(n, classes)
    return [base + (1 if c < rem else 0) for c in range(classes)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--train", type=int, default=4000)
    ap.add_argument("--val", type=int, default=1000)
    ap.add_argument("--size", type=int, default=28)
    ap.add_argument("--format", choices=("png", "jpg"), default="png")
    ap.add_argument("--tar", default=DEFAULT_TAR)
    a = ap.parse_args(argv)
    with tarfile.open(a.tar) as tf:
        members = [m for m in tf.getmembers() if m.isfile() and m.name.endswith(".jpg")]
        by_split = {}
        for m in members:
            parts = m.name.split("/")  # cifar10-jpg/<split>/<class>/<file>
            if len(parts) != 4:
                continue
            by_split.setdefault(parts[1], {}).setdefault(parts[2], []).append(m)
        classes = sorted(by_split["train"])
        for split, source, total in (("train", "train", a.train), ("val", "test", a.val)):
            for c, count in zip(classes, per_class(total, len(classes))):
                files = sorted(by_split[source][c], key=lambda m: m.name)[:count]
                if len(files) < count:
                    sys.exit(f"{source}/{c}: only {len(files)} files, need {count}")
                folder = os.path.join(a.out, split, c)
                os.makedirs(folder, exist_ok=True)
                for m in files:
                    img = Image.open(io.BytesIO(tf.extractfile(m).read())).convert("L")
                    img = img.resize((a.size, a.size), Image.BILINEAR)
                    stem = os.path.splitext(os.path.basename(m.name))[0]
                    path = os.path.join(folder, f"{stem}.{a.format}")
                    if a.format == "png":
                        img.save(path, format="PNG")
                    else:
                        img.save(path, format="JPEG", quality=95)
    print(f"wrote {a.train} training and {a.val} held-out {a.size}x{a.size} grey {a.format} images to {a.out}")


if __name__ == "__main__":
    main()
