#!/usr/bin/python3
"""tests/st_compare.py A B [TOL [SKIP]]: the tensors of two safetensors files agree to TOL relative (default 0:
bitwise), those whose names start with SKIP aside (their names and sizes must still agree); prints the worst
difference, exits 1 otherwise. Used by tests/test_mpi.sh."""
import json, struct, sys
import numpy as np
def load(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n]); d = b[8 + n:]
    out = {}
    for k, v in h.items():
        if k == '__metadata__': continue
        dt = {'F32': np.float32, 'F64': np.float64, 'I64': np.int64, 'U8': np.uint8}[v['dtype']]
        s, e = v['data_offsets']; out[k] = np.frombuffer(d[s:e], dtype=dt).reshape(v['shape'])
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.keys() == b.keys(), "different tensors"
skip = sys.argv[4] if len(sys.argv) > 4 else None
if skip:
    assert all(a[k].shape == b[k].shape for k in a if k.startswith(skip)), "skipped tensors of different sizes"
    a = {k: v for k, v in a.items() if not k.startswith(skip)}
worst = max(float(np.max(np.abs(a[k].astype(np.float64) - b[k].astype(np.float64)) / (1 + np.abs(a[k].astype(np.float64))))) if a[k].size else 0.0 for k in a) if a else 0.0
tol = float(sys.argv[3]) if len(sys.argv) > 3 else 0
print("tensors %d, worst relative difference %.3g" % (len(a), worst))
sys.exit(0 if worst <= tol else 1)
