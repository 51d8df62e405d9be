#!/usr/bin/python3
"""tests/test_dump.py PLAST64 FIXTURES: `plast64 dump`, given the Duan reference's parameters and inputs
(--params, --inputs) from each golden file, writes outputs, plastic states, loss and gradients equal to the
reference's own, under the reference's names; and `plast dump` without them writes a complete, consistent file."""
import os
import subprocess
import sys
import tempfile

import numpy as np

from checks import Checks

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools", "fixtures"))
import st  # noqa: E402

plast64, fixtures = sys.argv[1], sys.argv[2]
check = Checks()


with tempfile.TemporaryDirectory() as d:
    for cell in ("RNN", "LSTM"):
        for rule in ("hebbian", "gradient"):
            golden = os.path.join(fixtures, "golden", f"golden_{cell}_{rule}_H8_B3_T5.safetensors")
            out = os.path.join(d, f"{cell}_{rule}.safetensors")
            sets = ["task.name=random", "model.family=duan", f"model.cell={cell.lower()}", f"model.rule={rule}", "model.hidden=8",
                    "model.input=16", "model.output=1", "model.extra=4", "model.inner_batch=0"]
            args = [plast64, "dump", "--out", out, "--params", golden, "--inputs", golden]
            for s in sets:
                args += ["--set", s]
            r = subprocess.run(args, capture_output=True, text=True)
            check(r.returncode == 0, f"{cell} {rule}: dump failed: {r.stderr}")
            if r.returncode:
                continue
            ours, meta = st.load(out)
            ref, _ = st.load(golden)
            check("duan" in meta.get("model", ""), f"{cell} {rule}: metadata {meta}")
            for name in ("outputs", "plastic_states", "loss"):
                err = np.max(np.abs(ours[name] - ref[name]))
                check(err < 1e-9, f"{cell} {rule}: {name} differs by {err}")
            grads = [k for k in ref if k.startswith("grad/")]
            check(len(grads) >= 16, f"{cell} {rule}: {len(grads)} reference gradients")
            worst = max(np.max(np.abs(ours[k] - ref[k])) for k in grads)
            check(worst < 1e-9, f"{cell} {rule}: gradients differ by up to {worst}")
            check(all(k.replace("grad/", "param/") in ours for k in grads), f"{cell} {rule}: reference names")
            print(f"{cell} {rule}: plast64 dump reproduces the reference (worst gradient error {worst:.1e})")

    # without --params/--inputs: a complete file whose loss matches its own outputs and targets
    out = os.path.join(d, "stpn.safetensors")
    r = subprocess.run([plast64, "dump", "--out", out, "--set", "task.name=random", "--set", "model.family=stpn",
                        "--set", "model.hidden=5",
                        "--set", "model.input=3", "--set", "model.output=2", "--set", "task.steps=4",
                        "--set", "train.batch=2"], capture_output=True, text=True)
    check(r.returncode == 0, "stpn dump: " + r.stderr)
    if r.returncode == 0:
        t, _ = st.load(out)
        check(t["x"].shape == (2, 4, 3) and t["outputs"].shape == (2, 4, 2) and t["energy"].shape == (2, 4),
              "stpn dump shapes")
        loss = np.mean((t["outputs"] - t["y"]) ** 2)
        check(abs(loss - t["loss"][0]) < 1e-12, f"loss {t['loss'][0]} vs recomputed {loss}")
        check(all(np.any(t[k] != 0) for k in t if k.startswith("grad/stpn")), "stpn gradients present")

    r = subprocess.run([plast64, "dump", "--out", os.path.join(d, "x.safetensors"), "--params",
                        os.path.join(d, "missing.safetensors")], capture_output=True, text=True)
    check(r.returncode == 1 and "missing.safetensors" in r.stderr, "missing --params file: " + r.stderr)
    r = subprocess.run([plast64, "dump", "--out", os.path.join(d, "x.safetensors"), "--set", "model.hidden=9",
                        "--set", "model.input=16", "--set", "model.output=1",
                        "--params", os.path.join(fixtures, "golden", "golden_LSTM_hebbian_H8_B3_T5.safetensors")],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "shape" in r.stderr and "in_fc" in r.stderr,
          "parameters of another size: " + r.stderr)

sys.exit(check.finish("test_dump"))
