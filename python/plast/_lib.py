"""The shared library and its C declarations (ctypes), and C errors as Python exceptions.

The library is found, in order: $PLAST_LIB (a path to libplast.so or libplast64.so); libplast.so in the build
folder of the repository this package sits in (../build); the system's library path. ctypes releases the GIL
during every C call.
"""
import ctypes
import ctypes.util
import os

import numpy as np

_HERE = os.path.dirname(os.path.abspath(__file__))


def _find():
    env = os.environ.get("PLAST_LIB")
    if env:
        return env
    for cand in (os.path.join(_HERE, "libplast.so"),
                 os.path.join(_HERE, "..", "..", "build", "libplast.so")):
        if os.path.exists(cand):
            return os.path.abspath(cand)
    found = ctypes.util.find_library("plast")
    if found:
        return found
    raise ImportError("plast: libplast.so not found: build it (bash tools/main.sh or cmake --build build), "
                      "or set PLAST_LIB to its path")


lib = ctypes.CDLL(_find())

c_int, c_int64, c_size_t, c_double, c_char_p, c_void_p = (ctypes.c_int, ctypes.c_int64, ctypes.c_size_t,
                                                           ctypes.c_double, ctypes.c_char_p, ctypes.c_void_p)

REAL_BYTES = lib.plast_real_bytes()
REAL = np.float32 if REAL_BYTES == 4 else np.float64
c_real_p = ctypes.POINTER(ctypes.c_float if REAL_BYTES == 4 else ctypes.c_double)

MAX_DIMS = 4


class Err(ctypes.Structure):
    _fields_ = [("status", c_int), ("msg", ctypes.c_char * 512)]


class Shape(ctypes.Structure):
    _fields_ = [("ndim", c_int), ("d", c_int64 * MAX_DIMS)]

    def tuple(self):
        return tuple(int(self.d[i]) for i in range(self.ndim))


class Schema(ctypes.Structure):
    _fields_ = [("fields", c_void_p), ("n", c_int), ("on_change", c_void_p)]


class Space(ctypes.Structure):
    _fields_ = [("kind", c_int), ("n", c_int64), ("low", c_double), ("high", c_double)]


class EnvActions(ctypes.Structure):
    _fields_ = [("index", c_void_p), ("value", c_void_p)]


class Rng(ctypes.Structure):
    _fields_ = [("state", ctypes.c_uint64), ("inc", ctypes.c_uint64)]


class TrainEvent(ctypes.Structure):
    _fields_ = [("kind", c_int), ("step", c_int64), ("steps", c_int64), ("loss", c_double), ("metric", c_double),
                ("lr", c_double), ("grad_norm", c_double), ("seconds", c_double), ("best", c_int),
                ("resumed", c_int), ("metric_weight", c_double)]


TRAIN_CALLBACK = ctypes.CFUNCTYPE(c_int, ctypes.POINTER(TrainEvent), c_void_p)


class TestResult(ctypes.Structure):
    """plast_test_result (include/plast/train.h), field for field."""

    _fields_ = [("loss", c_double), ("metric", c_double), ("chance_loss", c_double), ("chance_metric", c_double),
                ("metric_name", c_char_p), ("energy", c_double), ("tpr", c_double), ("fpr", c_double),
                ("trials", c_int64), ("trials_name", c_char_p),
                ("step", c_int64), ("which", ctypes.c_char * 8), ("tested", c_int)]


class PlastError(RuntimeError):
    """An error reported by plast's C library; .status is its status name ("config error", ...)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def check(status, err):
    """Raises the error in err when status is not PLAST_OK (0): ValueError for configuration errors, PlastError
    otherwise, with plast's message."""
    if status == 0:
        return
    msg = err.msg.decode("utf-8", "replace")
    name = lib.plast_status_name(status).decode()
    if status == 7:  # PLAST_ERR_CONFIG
        raise ValueError(msg)
    raise PlastError(name, msg)


def need(ptr, err):
    """Raises the error in err when a constructor returned NULL."""
    if not ptr:
        check(err.status or 8, err)
    return ptr


def _decl(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


E = ctypes.POINTER(Err)
P = c_void_p
_decl("plast_version", c_char_p)
_decl("plast_status_name", c_char_p, c_int)
_decl("plast_experiment_cfg_bytes", c_size_t)
_decl("plast_experiment_cfg_schema", Schema)
_decl("plast_experiment_cfg_load", c_int, P, c_char_p, c_int, ctypes.POINTER(c_char_p), E)
_decl("plast_experiment_cfg_model", P, P)
_decl("plast_experiment_cfg_settle", None, P)
_decl("plast_experiment_cfg_env", P, P)
_decl("plast_experiment_is_rl", c_int, P)
_decl("plast_experiment_task", P, P, E)
_decl("plast_experiment_env", P, P, E)
_decl("plast_cfg_apply_set", c_int, Schema, P, c_char_p, E)
_decl("plast_cfg_apply_json", c_int, Schema, P, c_char_p, c_char_p, E)
_decl("plast_cfg_to_json", ctypes.c_long, Schema, P, c_char_p, c_size_t)
_decl("plast_cfg_format_value", c_char_p, Schema, P, c_char_p, c_char_p, c_size_t)
_decl("plast_task_free", None, P)
_decl("plast_model_init", P, P, E)
_decl("plast_model_free", None, P)
_decl("plast_model_describe", c_char_p, P)
_decl("plast_model_input", c_int64, P)
_decl("plast_model_output", c_int64, P)
_decl("plast_model_hidden", c_int64, P)
_decl("plast_model_params_init", P, P, E)
_decl("plast_model_params_reset", None, P, P, ctypes.POINTER(Rng))
_decl("plast_model_state_count", c_int, P)
_decl("plast_model_state_name", c_char_p, P, c_int)
_decl("plast_model_state_shape", Shape, P, c_int)
_decl("plast_state_init", P, P, c_int64, E)
_decl("plast_state_free", None, P)
_decl("plast_state_reset", None, P)
_decl("plast_state_data", c_real_p, P, c_int)
_decl("plast_model_step", c_int, P, P, P, c_real_p, c_real_p, c_real_p, c_real_p, P, E)
_decl("plast_params_free", None, P)
_decl("plast_params_count", c_int, P)
_decl("plast_params_numel", c_int64, P)
_decl("plast_params_name", c_char_p, P, c_int)
_decl("plast_params_shape", Shape, P, c_int)
_decl("plast_params_value", c_real_p, P, c_int)
_decl("plast_params_grad", c_real_p, P, c_int)
_decl("plast_params_values", c_real_p, P)
_decl("plast_params_grads", c_real_p, P)
_decl("plast_params_zero_grad", None, P)
_decl("plast_ckpt_save", c_int, c_char_p, P, P, c_int, P, P, E)
_decl("plast_ckpt_load", c_int, c_char_p, P, P, E)
_decl("plast_tape_init", P, E)
_decl("plast_tape_free", None, P)
_decl("plast_rng_init", None, ctypes.POINTER(Rng), ctypes.c_uint64, ctypes.c_uint64)
_decl("plast_engine_init", P, P, c_int64, c_int64, c_int, c_int, E)
_decl("plast_engine_free", None, P)
_decl("plast_engine_get_kind", c_int, P)
_decl("plast_engine_kind_name", c_char_p, c_int)
_decl("plast_engine_forward", c_int, P, P, c_real_p, c_real_p, c_real_p, c_real_p, c_int, E)
_decl("plast_engine_backward", c_int, P, P, c_real_p, E)
_decl("plast_env_init", P, P, c_int64, ctypes.c_uint64, E)
_decl("plast_env_free", None, P)
_decl("plast_env_count", c_int64, P)
_decl("plast_env_observation_space", Space, P)
_decl("plast_env_action_space", Space, P)
_decl("plast_env_max_steps", c_int64, P)
_decl("plast_env_describe", c_char_p, P)
_decl("plast_env_image", c_int, P, ctypes.POINTER(c_int64), ctypes.POINTER(c_int64))
_decl("plast_env_seek", None, P, c_int64)
_decl("plast_env_reset", c_int, P, c_real_p, E)
_decl("plast_env_step", c_int, P, EnvActions, c_real_p, c_real_p, c_void_p, c_void_p, E)
_decl("plast_run_open", P, P, c_char_p, c_int, E)
_decl("plast_run_free", None, P)
_decl("plast_run_train", c_int, P, TRAIN_CALLBACK, c_void_p, E)
_decl("plast_run_test", c_int, P, c_int, ctypes.POINTER(TestResult), E)
_decl("plast_run_step", c_int64, P)


def real_array(x, shape=None):
    """x as a C-contiguous array of plast_real: the same object when it already is one (no copy)."""
    a = np.ascontiguousarray(x, dtype=REAL)
    if shape is not None and a.shape != tuple(shape):
        raise ValueError("expected an array of shape %s, got %s" % (tuple(shape), a.shape))
    return a


def ptr(a):
    """The data pointer of a plast_real array (or None)."""
    return None if a is None else a.ctypes.data_as(c_real_p)


def view(owner, p, shape):
    """A numpy view of C memory p with `shape`, keeping `owner` alive while the view lives."""
    n = int(np.prod(shape)) if len(shape) else 1
    arr = np.ctypeslib.as_array(p, shape=(n,)).reshape(shape)
    arr = arr.view(_Owned)
    arr._plast_owner = owner
    return arr


class _Owned(np.ndarray):
    """An ndarray over C memory that holds a reference to the object owning that memory."""

    def __array_finalize__(self, obj):
        self._plast_owner = getattr(obj, "_plast_owner", None)
_decl("plast_rng_derive", Rng, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64)
_decl("plast_state_batch", c_int64, P)
_decl("plast_model_param_alias", c_char_p, P, c_char_p, c_char_p, c_size_t)
