#!/usr/bin/python3
"""Drive plast environments with a numpy policy: the pendulum with a linear controller, PongLike with random play.
    PYTHONPATH=python /usr/bin/python3 examples/python/numpy_policy_env.py"""
import numpy as np

import plast

env = plast.envs.make("pendulum", num_envs=8, seed=0)
obs, _ = env.reset()
k = np.array([1.0, 20.0, 1.0, 3.0])  # push the cart under the pole
returns, done = np.zeros(8), np.zeros(8, dtype=bool)
for t in range(1000):
    obs, r, term, trunc, _ = env.step(np.clip(obs @ k, -3, 3)[:, None])
    returns += r * ~done
    done |= term | trunc
print("pendulum, linear controller: returns", returns)

pong = plast.envs.make("ponglike", num_envs=4, seed=0)
obs, _ = pong.reset()
score = np.zeros(4)
for t in range(2000):
    obs, r, term, trunc, _ = pong.step(np.random.default_rng(t).integers(0, 6, 4))
    score += r
print("PongLike (not the ALE), random play for 2,000 steps: scores", score)
