#!/usr/bin/python3
"""tests/test_numpy_interop.py EXPORTER: a checkpoint written by plast reads with plain numpy (the safetensors
layout: little-endian u64 header length, JSON header, packed data), with the names, shapes, dtypes and values that
plast wrote."""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

from checks import Checks

check = Checks()


with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "ckpt.safetensors")
    check(subprocess.run([sys.argv[1], path]).returncode == 0, "exporter ran")
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    check(meta["format"] == "plast-checkpoint" and meta["step"] == "1" and meta["optim_kind"] == "adamw",
          "metadata %r" % meta)
    data = raw[8 + n:]
    arrays = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        arrays[name] = np.frombuffer(data[b:end], dtype={"F32": "<f4", "F64": "<f8"}[e["dtype"]]).reshape(e["shape"])
    check(set(arrays) >= {"param/layer.w", "param/layer.b", "optim/exp_avg/layer.w", "optim/max_exp_avg_sq/layer.b"},
          "names %s" % sorted(arrays))
    w0 = (0.5 * np.arange(6) - 1).reshape(2, 3)
    # one AdamW step with gradient 1, lr 1e-3, weight decay 1e-2 moves each weight by about -1e-3
    check(arrays["param/layer.w"].shape == (2, 3) and np.allclose(arrays["param/layer.w"], w0 * (1 - 1e-5) - 1e-3,
                                                                  atol=1e-6), "values %r" % arrays["param/layer.w"])
    check(np.allclose(arrays["optim/exp_avg/layer.b"], 0.1), "first moment")
    check(n % 8 == 0 and sum(a.nbytes for a in arrays.values()) == len(data), "packed data, aligned start")

sys.exit(check.finish("test_numpy_interop"))
