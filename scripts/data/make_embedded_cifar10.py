#!/usr/bin/env python3
"""Builds the embedded CIFAR-10 subset of the DataPipeline target (see EmbeddedCIFAR10.swift).

Reads ../shared/data/cifar10-jpg.tar.gz (CIFAR-10 as an image folder, JPEG files) directly from the archive,
without extracting it, takes the first TRAIN_PER_CLASS files of each class of train/ and the first
TEST_PER_CLASS of test/ (sorted by file name), and writes two pack files (format in PackedImageDataset.swift)
holding the original JPEG bytes and the class index:

    Sources/DataPipeline/Resources/cifar10-train-subset.slpack
    Sources/DataPipeline/Resources/cifar10-test-subset.slpack

Usage: python3 scripts/data/make_embedded_cifar10.py [path/to/cifar10-jpg.tar.gz]
"""
import os
import struct
import sys
import tarfile

TRAIN_PER_CLASS = 500
TEST_PER_CLASS = 100
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_pack(path, classes, records):
    """records: list of (label, bytes)."""
    with open(path + ".tmp", "wb") as f:
        f.write(b"SLPACK01")
        f.write(struct.pack("<II", len(records), len(classes)))
        for name in classes:
            b = name.encode("utf-8")
            f.write(struct.pack("<H", len(b)) + b)
        offset = 0
        for label, data in records:
            f.write(struct.pack("<QIi", offset, len(data), label))
            offset += len(data)
        for _, data in records:
            f.write(data)
    os.replace(path + ".tmp", path)


def main():
    archive = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data", "cifar10-jpg.tar.gz")
    wanted = {"train": TRAIN_PER_CLASS, "test": TEST_PER_CLASS}
    files = {"train": {}, "test": {}}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            parts = member.name.split("/")
            if len(parts) != 4 or parts[1] not in wanted or not parts[3].lower().endswith(".jpg"):
                continue
            split, cls, fname = parts[1], parts[2], parts[3]
            index = int(os.path.splitext(fname)[0])
            if index < wanted[split]:
                files[split].setdefault(cls, {})[fname] = tar.extractfile(member).read()
    out_dir = os.path.join(ROOT, "Sources", "DataPipeline", "Resources")
    os.makedirs(out_dir, exist_ok=True)
    for split, per_class in wanted.items():
        classes = sorted(files[split])
        assert len(classes) == 10, classes
        records = []
        for label, cls in enumerate(classes):
            names = sorted(files[split][cls])
            assert len(names) == per_class, (split, cls, len(names))
            records += [(label, files[split][cls][n]) for n in names]
        path = os.path.join(out_dir, "cifar10-%s-subset.slpack" % split)
        write_pack(path, classes, records)
        print(path, len(records), "images", os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
