#!/usr/bin/python3
"""Step a trained (or fresh) model in a loop you write: state is caller-owned, inputs and outputs are numpy.
    PYTHONPATH=python /usr/bin/python3 examples/python/step_custom_loop.py [RUN_DIR]"""
import os
import sys

import numpy as np

import plast

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
if len(sys.argv) > 1:
    model = plast.Model.from_run(sys.argv[1])
else:
    model = plast.Model(os.path.join(ROOT, "configs", "stpn", "art.json"))
print(model)
state = model.initial_state(batch=4)
rng = np.random.default_rng(0)
for t in range(10):
    x = rng.uniform(0, 1, (4, model.input)).astype(plast.dtype)
    y, state, energy = model.step(state, x, energy=True)
    print("t=%d  y[0,:3]=%s  energy=%s" % (t, np.round(y[0, :3], 3), np.round(energy, 2)))
print("state tensors:", {k: v.shape for k, v in state.arrays.items()})
