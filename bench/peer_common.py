"""What the peers (bench/torch_peer.py, bench/torch_peer_a2c.py, bench/torch_peer_ppo.py) share: the RL peers' command
line and the timing of their iterations printed as the one JSON object bench/plast_bench.c reads, and every peer's
memory plan (a form whose planned peak cannot fit is declined before it drives the machine into swap)."""
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


def recorded_bytes(c, form="dense"):
    """About the peak memory of a peer's training steps over c["T"] steps of c["B"] samples (float32), as a number
    of per-step tensors, each factor measured on this machine (2026-12-01, peak RSS of a few steps):
      Duan et al.'s dense form: 10 (B, in, out) per plastic layer (one step keeps 5; the allocator's peak over several
        steps is twice that: copy_long, estimated 13.5 GB saved, reached 23.8 GB before the kernel killed it);
      STPN and modulated plasticity in the supervised peer (form "dense"): 18 (B, P, H) (3.6 GB for STPN at B 64,
        T 200; 4.95 GB for retroactive modulated plasticity at B 64, T 200);
      the same in the A2C peer (form "a2c"): 8 (B, P, H) for STPN (14.3 GB at B 512, T 200), 6 (B, H, H) for
        modulated plasticity (13.0 GB);
      anything else (Duan's lowrank form and its baselines keep vectors): 16 (B, H)."""
    B, T, H, I = c["B"], c["T"], c["H"], c["I"]
    f = c["family"]
    if f == "duan" and form == "dense" and c.get("rule", "none") != "none":
        G, D = (4 * H if c["cell"] == "lstm" else H), c["O"] + 5
        synapses = 2 * H * G + H * D + (0 if c.get("encoder") == "conv4" else I * H)
        per_step = 10 * B * synapses
    elif form == "a2c":
        per_step = {"stpn": 8 * B * (I + H) * H, "modplast": 6 * B * H * H}.get(f, 16 * B * H)
    else:
        per_step = {"stpn": 18 * B * (I + H) * H, "modplast": 18 * B * H * H}.get(f, 16 * B * H)
    return 4 * T * per_step


def available_bytes():
    """MemAvailable of /proc/meminfo"""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 1 << 40


def too_big(c, form):
    """why form cannot fit (its planned peak over 60% of the memory available now), or None"""
    need, have = recorded_bytes(c, form), available_bytes()
    if need <= 0.6 * have:
        return None
    return "the %s form needs about %.1f GB at its peak, %.1f GB are available" % (form, need / 1e9, have / 1e9)
