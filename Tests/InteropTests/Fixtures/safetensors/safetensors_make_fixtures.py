#!/usr/bin/env python3
"""Safetensors fixtures for InteropTests (run from this folder; needs numpy and `pip install safetensors`).

safetensors_python_written.safetensors: written by the reference `safetensors` package (numpy API), one tensor
  per supported dtype with values the Swift test recomputes, plus a scalar, an empty tensor and metadata.
It also checks safetensors_swift_written.safetensors (written by our writer; the Swift test keeps it
byte-identical) with the reference loader, when that file exists.
"""
import os
import numpy as np
import safetensors
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

tensors = {
    "conv1.weight": (np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8 - 1),
    "stats.f64": np.array([0.1, -2.5, 1e300, 3.0], dtype=np.float64),
    "labels": (np.arange(10, dtype=np.int64).reshape(2, 5) * 1_000_000_007 - 3),
    "counts.i32": np.array([-7, 0, 2147483647], dtype=np.int32),
    "pixels": np.array([[0, 1, 255]], dtype=np.uint8),
    "mask": np.array([True, False, True, True]),
    "scalar": np.array(2.5, dtype=np.float32),
    "empty": np.zeros((0, 3), dtype=np.float32),
}
save_file(tensors, "safetensors_python_written.safetensors",
          metadata={"format": "pt", "note": "written by safetensors " + safetensors.__version__})
print("wrote safetensors_python_written.safetensors with safetensors", safetensors.__version__)

if os.path.exists("safetensors_swift_written.safetensors"):
    loaded = load_file("safetensors_swift_written.safetensors")
    for name, value in loaded.items():
        print("swift-written:", name, value.dtype, value.shape, value.ravel()[:6].tolist())
    assert np.array_equal(loaded["weight"], np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5)
    assert np.array_equal(loaded["labels"], np.array([[0, 1, 2], [3, 4, 5]], dtype=np.int64) - 1)
    assert np.array_equal(loaded["mask"], np.array([True, False]))
    assert loaded["scalar"].shape == () and loaded["scalar"] == np.float32(-1.25)
    with safe_open("safetensors_swift_written.safetensors", framework="numpy") as f:
        print("swift-written metadata:", f.metadata())
        assert f.metadata() == {"epoch": "3", "quote \"and\" newline\n": "ü"}
    print("OK: the reference safetensors loader reads our file")
