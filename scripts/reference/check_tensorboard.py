#!/usr/bin/env python3
"""Checks that a TensorBoard event file written by SelfLabel's TensorBoardEventWriter loads with the real
`tensorboard` package (pip install tensorboard).

Usage:
  python3 scripts/reference/check_tensorboard.py [EVENT_FILE_OR_RUN_DIR ...]

With no argument it checks the committed file written by our writer,
Tests/InteropTests/Fixtures/tensorboard/events.out.tfevents.1700000000.selflabel-fixture, and compares its
content with the events the Swift test writes (tag, step, value, wall time). For any other file or folder
it prints every scalar and checks that each file has the "brain.Event:2" version record first.

Two loaders are used:
  * tensorboard.backend.event_processing.event_file_loader.EventFileLoader: reads the TFRecord framing
    (verifying both masked CRC-32C checksums) and parses every record as an Event protobuf;
  * tensorboard.backend.event_processing.event_accumulator.EventAccumulator: what the TensorBoard UI
    uses; the simple_value scalars must show up under Tags()['scalars'].
Exit status 0 when everything matches, 1 otherwise.
"""
import glob
import math
import os
import shutil
import struct
import sys
import tempfile

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.summary.writer.record_writer import masked_crc32c

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "Tests/InteropTests/Fixtures/tensorboard/events.out.tfevents.1700000000.selflabel-fixture")
# (wall_time, step, tag, value) written by TensorBoardTests.writeReferenceEvents.
EXPECTED = [
    (1700000001.25, 1, "train/loss", 2.5),
    (1700000001.25, 1, "train/lr", 0.08),
    (1700000002.0, 200, "train/loss", -0.001),
    (1700000003.75, 2**40, "labels/nmi_\u00fc", 0.25),
    (1700000004.0, -3, "x", 1.0),
]


def count_records(path):
    """Walks the TFRecord framing, verifying both checksums with tensorboard's own masked_crc32c."""
    data = open(path, "rb").read()
    at, n = 0, 0
    while at < len(data):
        if len(data) - at < 12:
            raise SystemExit(f"FAIL {path}: truncated record at byte {at}")
        header = data[at:at + 8]
        length = struct.unpack("<Q", header)[0]
        if struct.unpack("<I", data[at + 8:at + 12])[0] != masked_crc32c(header):
            raise SystemExit(f"FAIL {path}: length checksum mismatch at byte {at}")
        body = data[at + 12:at + 12 + length]
        if len(body) != length or len(data) < at + 16 + length:
            raise SystemExit(f"FAIL {path}: truncated record at byte {at}")
        if struct.unpack("<I", data[at + 12 + length:at + 16 + length])[0] != masked_crc32c(body):
            raise SystemExit(f"FAIL {path}: data checksum mismatch at byte {at}")
        at += 16 + length
        n += 1
    return n


def load(path):
    """Every event of one file with the tensorboard loader; returns (version, [(wall, step, tag, value)])."""
    events = list(EventFileLoader(path).Load())
    if not events:
        raise SystemExit(f"FAIL {path}: no events")
    version = events[0].file_version
    scalars = []
    for e in events:
        for v in e.summary.value:
            # EventFileLoader migrates simple_value to a scalar tensor (data_compat); read either form.
            if v.HasField("simple_value"):
                value = v.simple_value
            else:
                value = float(v.tensor.float_val[0]) if v.tensor.float_val else float("nan")
            scalars.append((e.wall_time, e.step, v.tag, value))
    return version, scalars


def accumulate(folder):
    acc = EventAccumulator(folder, size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(s.wall_time, s.step, s.value) for s in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def main(argv):
    targets = argv or [FIXTURE]
    ok = True
    for target in targets:
        files = sorted(glob.glob(os.path.join(target, "**", "*tfevents*"), recursive=True)) if os.path.isdir(target) else [target]
        for path in files:
            records = count_records(path)
            version, scalars = load(path)
            events = len(list(EventFileLoader(path).Load()))
            if events != records:
                print(f"FAIL: the loader returned {events} events for {records} records"); ok = False
            print(f"{path}: file_version={version!r}, {len(scalars)} scalars")
            for s in scalars:
                print("  wall_time=%.3f step=%d %s=%r" % s)
            if version != "brain.Event:2":
                print("FAIL: first event's file_version is", repr(version)); ok = False
            if not argv:  # the committed fixture: compare with what the Swift test wrote
                if len(scalars) != len(EXPECTED):
                    print("FAIL: expected", len(EXPECTED), "scalars"); ok = False
                for got, want in zip(scalars, EXPECTED):
                    if got[0] != want[0] or got[1] != want[1] or got[2] != want[2] or \
                            not math.isclose(got[3], want[3], rel_tol=1e-7):
                        print("FAIL:", got, "!=", want); ok = False
            if not argv:
                # The accumulator reads every events file of a folder: give it this file alone.
                folder = tempfile.mkdtemp()
                shutil.copy(path, folder)
                by_tag = accumulate(folder)
                shutil.rmtree(folder)
                print("  EventAccumulator scalar tags:", sorted(by_tag))
                for wall, step, tag, value in EXPECTED:
                    got = by_tag.get(tag, [])
                    if not any(s == step and w == wall and math.isclose(v, value, rel_tol=1e-7) for w, s, v in got):
                        print("FAIL: EventAccumulator lacks", (tag, step, value), "got", got); ok = False
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
