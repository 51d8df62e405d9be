#!/usr/bin/python3
"""Meta-train a plastic LSTM on cue-reward association (Duan et al. 2023) from Python and plot its learning curve.
    PYTHONPATH=python /usr/bin/python3 examples/python/train_and_plot.py [OUT]"""
import os
import sys

import plast

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
quick = os.environ.get("PLAST_EXAMPLE_QUICK") == "1"  # the test suite runs the examples this way
out = sys.argv[1] if len(sys.argv) > 1 else "runs/py_cuereward"

cfg = plast.Config(os.path.join(ROOT, "configs", "duan", "cuereward.json"))
cfg.set("model.rule", "hebbian").set("train.steps", 20 if quick else 400).set("train.val_every", 10 if quick else 50)
if quick:
    cfg.set("model.hidden", 16).set("train.val_batches", 1).set("train.test_batches", 2)


def progress(event):
    if event["kind"] == "validation":
        print("step %4d  validation %s %.4f" % (event["step"], "mse", event["metric"]))


run = plast.train(cfg, out=out, restart=True, callback=progress)
m = run["metrics"]
print("test mse %.4f (chance %.4f)" % (run["test"]["metric"], run["test"]["chance_metric"]))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.plot(m["step"], m["val_metric"], label="validation")
plt.plot(m["step"], m["train_metric"], label="training batches")
plt.xlabel("optimizer step")
plt.ylabel("mse")
plt.legend()
plt.savefig(os.path.join(out, "py_curve.png"), dpi=100)
print("wrote", os.path.join(out, "py_curve.png"))
