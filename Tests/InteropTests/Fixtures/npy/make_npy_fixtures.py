"""Writes the .npy fixtures of Tests/InteropTests (run from this folder: python3 make_npy_fixtures.py).

Each valid file holds np.arange(n) reshaped and cast, so the Swift test can recompute the expected values.
"""
import numpy as np
from numpy.lib import format as fmt

def arange(shape, dtype):
    return (np.arange(int(np.prod(shape))) - 3).reshape(shape).astype(dtype)

np.save("f4_2x3.npy", arange((2, 3), np.float32) * np.float32(0.5))
np.save("f8_4.npy", arange((4,), np.float64) / 3.0)
np.save("i8_3x2.npy", arange((3, 2), np.int64) * 1000000007)
np.save("i4_5.npy", arange((5,), np.int32))
np.save("u1_2x2x2.npy", (np.arange(8) * 30).astype(np.uint8).reshape(2, 2, 2))
np.save("b1_3.npy", np.array([True, False, True]))
np.save("f4_scalar.npy", np.float32(7.25))
np.save("f4_empty_0x3.npy", np.zeros((0, 3), np.float32))
with open("f4_v2_2x2.npy", "wb") as f:
    fmt.write_array(f, arange((2, 2), np.float32), version=(2, 0))
with open("f4_v3_3.npy", "wb") as f:
    fmt.write_array(f, arange((3,), np.float32), version=(3, 0))
np.save("bad_fortran.npy", np.asfortranarray(arange((2, 3), np.float32)))
np.save("bad_bigendian.npy", arange((3,), ">f4"))
np.save("bad_object.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
np.save("bad_complex.npy", np.zeros(2, np.complex64))
data = open("f4_2x3.npy", "rb").read()
open("bad_truncated.npy", "wb").write(data[:-5])
open("bad_magic.npy", "wb").write(b"PK\x03\x04 not numpy at all")
