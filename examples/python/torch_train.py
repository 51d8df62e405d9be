#!/usr/bin/python3
"""Train a plast model inside a torch program: plast.torch_bridge.trial_function runs plast's forward and backward
(BPTT in C) as a torch.autograd.Function; torch's optimiser updates plast's parameters in place (shared memory).
    PYTHONPATH=python /usr/bin/python3 examples/python/torch_train.py"""
import os

import numpy as np
import torch

import plast
import plast.torch_bridge as pt

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
quick = os.environ.get("PLAST_EXAMPLE_QUICK") == "1"
cfg = plast.Config(os.path.join(ROOT, "configs", "duan", "cuereward.json")).set("model.hidden", 16)
model = plast.Model(cfg)
trial, params = pt.trial_function(model)
opt = torch.optim.Adam(params, lr=1e-2)
rng = np.random.default_rng(0)
T, B = 10, 16
x = torch.from_numpy(rng.uniform(-1, 1, (T, B, model.input)).astype(plast.dtype))
target = torch.from_numpy(rng.uniform(-1, 1, (T, B, model.output)).astype(plast.dtype))
for step in range(5 if quick else 200):
    opt.zero_grad()
    loss = ((trial(x) - target) ** 2).mean()
    loss.backward()
    opt.step()
    if step % 20 == 0 or quick:
        print("step %d  loss %.4f" % (step, loss.item()))
