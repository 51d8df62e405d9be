"""plast.train (the C training loop with validation, checkpoints and exact resume) and plast.load_run."""
import csv
import ctypes
import json
import os

import numpy as np

from ._lib import TRAIN_CALLBACK, Err, TestResult, check, lib, need
from .config import Config

_EVENTS = ["start", "step", "validation", "checkpoint", "done"]


def train(config, out, restart=False, callback=None):
    """Trains the run of `config` (a Config or a JSON path) in directory `out`, resuming it if it holds one;
    callback(event) is called with a dict (kind, step, steps, loss, metric, metric_weight, lr, grad_norm, seconds,
    best) at every event and may return True to stop after the next checkpoint. Returns load_run(out) after the test."""
    cfg = Config(config) if isinstance(config, str) else config
    err = Err()
    run = need(lib.plast_run_open(cfg._ptr, out.encode(), 1 if restart else 0, ctypes.byref(err)), err)
    raised = []

    def on_event(ev, user):
        if callback is None:
            return 0
        e = ev.contents
        try:
            stop = callback({"kind": _EVENTS[e.kind], "step": e.step, "steps": e.steps, "loss": e.loss,
                             "metric": e.metric, "metric_weight": e.metric_weight, "lr": e.lr,
                             "grad_norm": e.grad_norm, "seconds": e.seconds, "best": bool(e.best)})
        except Exception as exc:  # noqa: BLE001 (re-raised below, after the C loop has stopped cleanly)
            raised.append(exc)
            return 1
        return 1 if stop else 0

    cb = TRAIN_CALLBACK(on_event)
    try:
        check(lib.plast_run_train(run, cb, None, ctypes.byref(err)), err)
        if raised:
            raise raised[0]
        res = TestResult()
        if lib.plast_run_step(run) >= int(cfg.get("train.steps")):
            check(lib.plast_run_test(run, 1, ctypes.byref(res), ctypes.byref(err)), err)
    finally:
        lib.plast_run_free(run)
    return load_run(out)


def _csv_columns(path):
    """A CSV file of numbers as one numpy array per column (empty cells: NaN)."""
    with open(path) as f:
        rows = list(csv.reader(f))
    return {c: np.array([float(r[i]) if r[i] != "" else np.nan for r in rows[1:]]) for i, c in enumerate(rows[0])}


def load_run(run_dir):
    """A run directory's metrics as numpy arrays (one per column of metrics.csv), a PPO run's per-iteration learner
    statistics (learner.csv; None for other runs), its configuration and its test result (None before the test)."""
    path = os.path.join(run_dir, "metrics.csv")
    if not os.path.exists(path):
        raise FileNotFoundError("%s: no metrics.csv (is %s a run directory?)" % (path, run_dir))
    metrics = _csv_columns(path)
    lpath = os.path.join(run_dir, "learner.csv")
    learner = _csv_columns(lpath) if os.path.exists(lpath) else None
    test = None
    tpath = os.path.join(run_dir, "test.json")
    if os.path.exists(tpath):
        with open(tpath) as f:
            test = json.load(f)
    with open(os.path.join(run_dir, "config.json")) as f:
        config = json.load(f)
    return {"metrics": metrics, "learner": learner, "test": test, "config": config, "dir": run_dir}
