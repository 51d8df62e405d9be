"""plast from Python: configurations, models stepped or trained from numpy, runs, and environments.

    import plast
    cfg = plast.Config("configs/duan/cuereward.json")
    cfg.set("model.hidden", 32)
    model = plast.Model(cfg)
    state = model.initial_state(batch=8)
    y, state = model.step(state, x)            # x (8, model.input) -> y (8, model.output)
    loss, grads = model.loss_and_grad(x_seq, dy_fn)   # whole-trial BPTT in C
    plast.train(cfg, out="runs/cr", callback=print)
    env = plast.envs.make("pendulum", num_envs=4, seed=0)

The package is ctypes over libplast.so (numpy its only requirement); every C call releases the GIL. Arrays
returned by plast (parameters, state) are views on plast's memory that keep their owner alive. docs/PYTHON.md.
"""
from ._lib import PlastError, REAL, lib
from .config import Config
from .model import Model, State
from .run import train, load_run
from . import envs

__version__ = lib.plast_version().decode()
dtype = REAL

__all__ = ["Config", "Model", "State", "PlastError", "train", "load_run", "envs", "dtype", "__version__"]
