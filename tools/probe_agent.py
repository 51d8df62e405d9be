#!/usr/bin/python3
"""Probe a reinforcement-learning run's agent: is its recurrent core alive? Steps the run's model (last, best or
initial parameters) on fresh copies of its environment, acting with its own policy (sampled; a box action from the
mean), and prints the statistics of the core's hidden state h after a warm-up: its rms, the share of entries near
+-1 (|h| > 0.99, tanh's flat ends, where almost no gradient passes), the units near +-1 at every step of every copy,
and how much the policy's outputs move over time and differ between copies (0 means an agent blind to its input).
docs/RL.md quotes it for the PongLike agents.

    PLAST_LIB=build/libplast.so /usr/bin/python3 tools/probe_agent.py RUN [--which last|best|init] [--copies 8]
        [--steps 300]
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import plast  # noqa: E402


def probe(run, which="last", copies=8, steps=300, warmup=50, seed=7):
    """The statistics as a dict (see the module's docstring); which = "last", "best" or "init" (the parameters the
    run started from: its train.seed's initialisation). Raises ValueError for a run that is not RL."""
    cfg = json.load(open(os.path.join(run, "config.json")))
    if cfg.get("rl", {}).get("algorithm", "none") == "none":
        raise ValueError("%s/config.json: rl.algorithm is %r: not a reinforcement-learning run" %
                         (run, cfg.get("rl", {}).get("algorithm")))
    if steps <= warmup:
        raise ValueError("--steps %d must exceed the warm-up of %d steps" % (steps, warmup))
    model = plast.Model(os.path.join(run, "config.json")) if which == "init" else plast.Model.from_run(run, which)
    settings = {k: v for k, v in cfg["env"].items() if k != "name"}
    env = plast.envs.make(cfg["env"]["name"], num_envs=copies, seed=seed, **settings)
    space = env.single_action_space
    A = space.n if isinstance(space, plast.envs.Discrete) else space.shape[0]
    rng = np.random.default_rng(seed)
    obs, _ = env.reset()
    state = model.initial_state(copies)
    hs, outs = [], []
    for t in range(steps):
        y, state = model.step(state, obs)
        if "h" in state.arrays:
            hs.append(np.array(state.arrays["h"]).reshape(copies, -1))
        outs.append(y[:, :A].astype(np.float64))
        if isinstance(space, plast.envs.Discrete):
            logits = outs[-1] - outs[-1].max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            a = np.array([rng.choice(A, p=row) for row in p])
        else:  # the mean, mapped to the control range as the learners do (docs/RL.md)
            lo, hi = np.asarray(space.low, dtype=np.float64), np.asarray(space.high, dtype=np.float64)
            a = np.clip(lo + (outs[-1] + 1) * (hi - lo) / 2, lo, hi)
        obs, _, _, _, _ = env.step(a)
    env.close()
    out = np.array(outs[warmup:])  # (steps - warmup, copies, A)
    res = {"run": run, "which": which, "model": model.describe(), "copies": copies, "steps": steps,
           "output_std_over_time": float(out.std(axis=0).mean()),
           "output_std_across_copies": float(out.std(axis=1).mean())}
    if hs:
        h = np.array(hs[warmup:])  # (steps - warmup, copies, H)
        near = np.abs(h) > 0.99
        res.update({"hidden": h.shape[2], "hidden_rms": float(np.sqrt((h ** 2).mean())),
                    "near_one_share": float(near.mean()), "units_always_near_one": int(near.all(axis=(0, 1)).sum())})
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run")
    ap.add_argument("--which", default="last", choices=["last", "best", "init"])
    ap.add_argument("--copies", type=int, default=8)
    ap.add_argument("--steps", type=int, default=300)
    a = ap.parse_args()
    try:
        r = probe(a.run, a.which, a.copies, a.steps)
    except (ValueError, OSError, plast.PlastError) as e:
        sys.exit("probe_agent: %s" % e)
    print("%s (%s parameters): %s" % (r["run"], r["which"], r["model"]))
    if "hidden" in r:
        print("  hidden h (%d units): rms %.3f, %.1f%% of entries with |h| > 0.99, %d units there at every step" %
              (r["hidden"], r["hidden_rms"], 100 * r["near_one_share"], r["units_always_near_one"]))
    else:
        print("  no hidden state h in this model's state")
    print("  policy outputs: std over time %.3f, across copies %.3f (%d copies, %d steps, the first 50 skipped)" %
          (r["output_std_over_time"], r["output_std_across_copies"], r["copies"], r["steps"]))


if __name__ == "__main__":
    main()
