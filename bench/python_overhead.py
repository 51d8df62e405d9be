#!/usr/bin/python3
"""The per-call overhead of the Python package: model.step on a batch from Python against the same loop in C
(bench/step_loop.c), alternating rounds, medians. Usage (from the repository root, after the build):
    /usr/bin/python3 bench/python_overhead.py [CONFIG] [BATCH] [STEPS] [ROUNDS]"""
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
os.environ.setdefault("PLAST_LIB", os.path.join(ROOT, "build", "libplast.so"))
import numpy as np  # noqa: E402

import plast  # noqa: E402


def main():
    config = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "configs", "stpn", "maze.json")
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    loop = os.path.join(ROOT, "build", "bench", "plast-step-loop")
    model = plast.Model(config)
    state = model.initial_state(batch)
    x = (np.arange(batch * model.input) % 7 / 7.0).astype(plast.dtype).reshape(batch, model.input)
    c_times, py_times = [], []
    for r in range(rounds):
        out = subprocess.run([loop, config, str(batch), str(steps)], capture_output=True, text=True, check=True)
        c_times.append(float(out.stdout))
        for _ in range(3):
            model.step(state, x)
        t0 = time.perf_counter()
        for _ in range(steps):
            model.step(state, x)
        py_times.append((time.perf_counter() - t0) / steps)
    c, py = statistics.median(c_times), statistics.median(py_times)
    print("%s, batch %d: C %.2f us per step, Python %.2f us per step: %+.1f%% (%d rounds of %d steps)"
          % (model.describe(), batch, c * 1e6, py * 1e6, 100 * (py / c - 1), rounds, steps))


if __name__ == "__main__":
    main()
