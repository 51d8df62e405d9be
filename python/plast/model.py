"""plast.Model and plast.State: a model's parameters and per-sample state as numpy views on plast's memory,
stepping without gradients, and whole-trial forward and backward (BPTT in C) for gradients in Python."""
import ctypes
import json
import os

import numpy as np

from . import _lib
from ._lib import Err, check, lib, need, ptr, real_array, view
from .config import Config

_STREAM_INIT = 0  # PLAST_STREAM_INIT: a run's initialisation draws


class State:
    """The per-sample state of `batch` trials (plast_state): .arrays maps each state tensor's name to a view of
    shape (batch, ...). Zeros at creation; reset() zeros it again (a new trial)."""

    def __init__(self, model, batch):
        err = Err()
        self._model = model
        self._p = need(lib.plast_state_init(model._m, int(batch), ctypes.byref(err)), err)
        self.batch = int(batch)
        self.arrays = {}
        for k in range(lib.plast_model_state_count(model._m)):
            name = lib.plast_model_state_name(model._m, k).decode()
            shape = (self.batch,) + lib.plast_model_state_shape(model._m, k).tuple()
            self.arrays[name] = view(self, lib.plast_state_data(self._p, k), shape)

    def reset(self):
        lib.plast_state_reset(self._p)

    def __del__(self):
        if getattr(self, "_p", None):
            lib.plast_state_free(self._p)
            self._p = None

    def __repr__(self):
        return "plast.State(batch=%d, %s)" % (self.batch, {k: v.shape for k, v in self.arrays.items()})


class Model:
    """A model from a Config (or a path to a JSON configuration). Its input and output sizes come from the task (or
    the RL environment) of the configuration; parameters are initialised as a run with the same train.seed does
    (seed= overrides). .params maps each parameter's name to a numpy view on plast's memory."""

    def __init__(self, config, seed=None):
        cfg = Config(config) if isinstance(config, str) else config.copy()
        lib.plast_experiment_cfg_settle(cfg._ptr)  # a sweep's base over families: this family's keys only
        err = Err()
        if lib.plast_experiment_is_rl(cfg._ptr):
            env = need(lib.plast_experiment_env(cfg._ptr, ctypes.byref(err)), err)
            lib.plast_env_free(env)
        else:
            task = need(lib.plast_experiment_task(cfg._ptr, ctypes.byref(err)), err)
            lib.plast_task_free(task)
        self.config = cfg
        self._m = need(lib.plast_model_init(lib.plast_experiment_cfg_model(cfg._ptr), ctypes.byref(err)), err)
        self._p = need(lib.plast_model_params_init(self._m, ctypes.byref(err)), err)
        self._tape = need(lib.plast_tape_init(ctypes.byref(err)), err)
        self._engines = {}
        seed = int(cfg.get("train.seed")) if seed is None else int(seed)
        rng = lib.plast_rng_derive(seed, _STREAM_INIT, 0)
        lib.plast_model_params_reset(self._m, self._p, ctypes.byref(rng))
        self.input = lib.plast_model_input(self._m)
        self.output = lib.plast_model_output(self._m)
        self.hidden = lib.plast_model_hidden(self._m)
        self.params, self.grads = {}, {}
        for i in range(lib.plast_params_count(self._p)):
            name = lib.plast_params_name(self._p, i).decode()
            shape = lib.plast_params_shape(self._p, i).tuple()
            self.params[name] = view(self, lib.plast_params_value(self._p, i), shape)
            self.grads[name] = view(self, lib.plast_params_grad(self._p, i), shape)

    @classmethod
    def from_run(cls, run_dir, which="last"):
        """The model of a run directory with its trained parameters (which = "last" or "best")."""
        m = cls(os.path.join(run_dir, "config.json"))
        m.load(os.path.join(run_dir, "%s.safetensors" % which))
        return m

    def describe(self):
        return lib.plast_model_describe(self._m).decode()

    def __repr__(self):
        return "plast.Model(%s)" % self.describe()

    # ---- state and stepping ------------------------------------------------------------------------------------

    def initial_state(self, batch):
        """The zero state of `batch` trials."""
        return State(self, batch)

    def step(self, state, x, energy=False):
        """One step of every trial: x (batch, input) -> y (batch, output); the state advances in place (and is
        returned, for y, state = model.step(state, x)). With energy=True also the energy per trial (batch)."""
        x = real_array(x, (state.batch, self.input))
        y = np.empty((state.batch, self.output), dtype=_lib.REAL)
        e = np.empty(state.batch, dtype=_lib.REAL) if energy else None
        err = Err()
        check(lib.plast_model_step(self._m, self._p, state._p, ptr(x), ptr(y), None, ptr(e), self._tape,
                                   ctypes.byref(err)), err)
        return (y, state, e) if energy else (y, state)

    # ---- whole trials ------------------------------------------------------------------------------------------

    def _engine(self, B, T, kind):
        key = (B, T, kind)
        if key not in self._engines:
            err = Err()
            kinds = {"auto": 0, "tape": 1, "lowrank": 2, "dense": 3, "fused": 4}
            self._engines[key] = need(lib.plast_engine_init(self._m, B, T, kinds[kind], 0, ctypes.byref(err)), err)
        return self._engines[key]

    def forward(self, x, train=False, engine="auto"):
        """Whole trials from the zero state: x (T, B, input) -> y (T, B, output), on the fastest path (or the one
        named). With train=True, backward(dy) may follow."""
        x = real_array(x)
        if x.ndim != 3 or x.shape[2] != self.input:
            raise ValueError("forward: x must be (T, B, %d), got %s" % (self.input, x.shape))
        T, B = x.shape[0], x.shape[1]
        e = self._engine(B, T, engine)
        y = np.empty((T, B, self.output), dtype=_lib.REAL)
        err = Err()
        check(lib.plast_engine_forward(e, self._p, ptr(x), ptr(y), None, None, 1 if train else 0,
                                       ctypes.byref(err)), err)
        self._last = (e, x)
        return y

    def backward(self, dy):
        """After forward(x, train=True): d loss / d parameters from dy = d loss / d y (T, B, output), into .grads
        (zeroed first); returns .grads."""
        if getattr(self, "_last", None) is None:
            raise RuntimeError("backward: call forward(x, train=True) first")
        e, x = self._last
        dy = real_array(dy, (x.shape[0], x.shape[1], self.output))
        lib.plast_params_zero_grad(self._p)
        err = Err()
        check(lib.plast_engine_backward(e, self._p, ptr(dy), ctypes.byref(err)), err)
        self._last = None
        return self.grads

    def value_and_grad(self, x, loss_fn, engine="auto"):
        """loss, grads for whole trials x (T, B, input), where loss_fn(y) returns (loss, d loss / d y)."""
        y = self.forward(x, train=True, engine=engine)
        loss, dy = loss_fn(y)
        return loss, {k: np.array(v) for k, v in self.backward(dy).items()}

    # ---- parameters --------------------------------------------------------------------------------------------

    def save(self, path):
        """The parameters as a safetensors file (a plast checkpoint without optimizer state)."""
        err = Err()
        check(lib.plast_ckpt_save(path.encode(), self._p, None, 0, None, None, ctypes.byref(err)), err)

    def load(self, path):
        """Parameters from a plast checkpoint (last.safetensors, best.safetensors or one from save())."""
        err = Err()
        check(lib.plast_ckpt_load(path.encode(), self._p, None, ctypes.byref(err)), err)

    def reference_name(self, name):
        """The name the paper's reference code gives parameter `name` where plast knows it (Duan et al.'s in_fc.*
        spellings), else the name itself."""
        buf = ctypes.create_string_buffer(256)
        alias = lib.plast_model_param_alias(self._m, name.encode(), buf, 256)
        return alias.decode() if alias else name

    def state_dict(self, reference_names=False):
        """The parameters as a dict of arrays (copies), keyed by plast's names or the reference code's."""
        return {(self.reference_name(k) if reference_names else k): np.array(v) for k, v in self.params.items()}

    def load_state_dict(self, d):
        """Parameters from a dict keyed by plast's names or the reference code's; shapes must match."""
        by_ref = {self.reference_name(k): k for k in self.params}
        for k, v in d.items():
            name = k if k in self.params else by_ref.get(k)
            if name is None:
                raise KeyError("no parameter '%s' in %s" % (k, self.describe()))
            v = np.asarray(v)
            if v.size != self.params[name].size:
                raise ValueError("parameter '%s': %s values for shape %s" % (k, v.shape, self.params[name].shape))
            self.params[name][...] = v.reshape(self.params[name].shape)

    def __del__(self):
        for e in getattr(self, "_engines", {}).values():
            lib.plast_engine_free(e)
        if getattr(self, "_tape", None):
            lib.plast_tape_free(self._tape)
        if getattr(self, "_p", None):
            lib.plast_params_free(self._p)
        if getattr(self, "_m", None):
            lib.plast_model_free(self._m)
        self._m = self._p = self._tape = None
