#!/usr/bin/env python3
"""TensorBoard event-file fixtures for InteropTests (run from this folder; needs `pip install tensorboard`,
and torch for the SummaryWriter file).

tensorboard_reference_records.tfevents: the events listed in EVENTS (fixed wall times), serialised with the
  `tensorboard` package's own protobuf classes (event_pb2) and framed by its RecordWriter. The Swift test
  encodes the same events and must produce these exact bytes, and must read them back.
tensorboard_torch_summarywriter.tfevents: written by torch.utils.tensorboard.SummaryWriter.add_scalar
  (real wall times); the Swift reader must find the tags, steps and values listed in TORCH_SCALARS.
The Swift-written file (events.out.tfevents.1700000000.selflabel-fixture) is checked with
scripts/reference/check_tensorboard.py.
"""
import glob
import io
import os
import shutil
import tempfile

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

# (wall_time, step, file_version or None, [(tag, simple_value)])
EVENTS = [
    (1700000000.5, 0, "brain.Event:2", []),
    (1700000001.25, 1, None, [("train/loss", 2.5), ("train/lr", 0.08)]),
    (1700000002.0, 200, None, [("train/loss", -0.001)]),
    (1700000003.75, 2**40, None, [("labels/nmi_\u00fc", 0.25)]),
    (1700000004.0, -3, None, [("x", 1.0)]),
]

buffer = io.BytesIO()
writer = RecordWriter(buffer)
for wall, step, version, scalars in EVENTS:
    ev = event_pb2.Event(wall_time=wall, step=step)
    if version is not None:
        ev.file_version = version
    if scalars:
        ev.summary.CopyFrom(summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=t, simple_value=v)
                                                       for t, v in scalars]))
    writer.write(ev.SerializeToString())
with open("tensorboard_reference_records.tfevents", "wb") as f:
    f.write(buffer.getvalue())
print("wrote tensorboard_reference_records.tfevents,", len(buffer.getvalue()), "bytes")

TORCH_SCALARS = [("loss", s, 1.0 / (s + 1)) for s in range(5)] + [("acc/top1", 10, 0.125)]
try:
    from torch.utils.tensorboard import SummaryWriter
    tmp = tempfile.mkdtemp()
    w = SummaryWriter(log_dir=tmp)
    for tag, step, value in TORCH_SCALARS:
        w.add_scalar(tag, value, step)
    w.close()
    (path,) = glob.glob(os.path.join(tmp, "events.out.tfevents.*"))
    shutil.copy(path, "tensorboard_torch_summarywriter.tfevents")
    shutil.rmtree(tmp)
    print("wrote tensorboard_torch_summarywriter.tfevents")
except ImportError as e:
    print("torch not available, kept the old tensorboard_torch_summarywriter.tfevents:", e)
