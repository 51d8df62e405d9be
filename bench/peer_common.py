"""What the RL peers (bench/torch_peer_a2c.py, bench/torch_peer_ppo.py) share: their command line, and the timing of
their iterations printed as the one JSON object bench/plast_bench.c reads."""
import argparse
import json
import statistics
import time

import torch


def parse_args(form):
    """--case NAME --spec JSON [--steps N] [--warmup N] [--budget S] [--threads N]; torch's threads set"""
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--form", default=form)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--budget", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    return a, json.loads(a.spec)


def decline(case, why):
    """the answer for a case this peer has no form of: {"error": why}, exit status 3"""
    print(json.dumps({"case": case, "error": why}))
    return 3


def time_iterations(a, form, iterate, evaluate):
    """a.warmup + a.steps calls of iterate() (at least 2 timed, fewer once a.budget seconds have passed), then one
    of evaluate(); prints the times as JSON"""
    times, start = [], time.perf_counter()
    for k in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        iterate()
        if k >= a.warmup:
            times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > a.budget and len(times) >= 2:
            break
    t0 = time.perf_counter()
    evaluate()
    ev = time.perf_counter() - t0
    print(json.dumps({"case": a.case, "form": form, "median_s": statistics.median(times), "min_s": min(times),
                      "max_s": max(times), "steps": len(times), "eval_s": ev, "times": times,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))
    return 0
