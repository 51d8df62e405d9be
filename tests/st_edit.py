#!/usr/bin/python3
"""tests/st_edit.py FILE meta KEY VALUE | FILE nan TENSOR: rewrites a safetensors file with one metadata value
changed, or the first element of a tensor set to NaN (poisoned checkpoints for tests/test_train.sh)."""
import json
import struct
import sys

import numpy as np

path, what = sys.argv[1], sys.argv[2]
b = open(path, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
header = json.loads(b[8:8 + n])
data = bytearray(b[8 + n:])
if what == "meta":
    header["__metadata__"][sys.argv[3]] = sys.argv[4]
elif what == "nan":
    t = header[sys.argv[3]]
    dt = {"F32": np.float32, "F64": np.float64}[t["dtype"]]
    s, _ = t["data_offsets"]
    data[s:s + np.dtype(dt).itemsize] = np.array([np.nan], dtype=dt).tobytes()
else:
    sys.exit("usage: st_edit.py FILE meta KEY VALUE | FILE nan TENSOR")
h = json.dumps(header).encode()
h += b" " * ((8 - len(h) % 8) % 8)
open(path, "wb").write(struct.pack("<Q", len(h)) + h + bytes(data))
