"""plast.envs: plast's environments with Gymnasium's vector API (next-step autoreset), without needing Gymnasium.

    env = plast.envs.make("maze", num_envs=64, seed=0)
    obs, info = env.reset()
    obs, reward, terminated, truncated, info = env.step(actions)
"""
import ctypes

import numpy as np

from . import _lib
from ._lib import EnvActions, Err, check, lib, need, ptr
from .config import Config

NAMES = ("maze", "pendulum", "ponglike")


class Discrete:
    """n actions 0..n-1 (as gymnasium.spaces.Discrete)."""

    def __init__(self, n):
        self.n, self.shape, self.dtype = int(n), (), np.int32

    def sample(self, rng=np.random):
        return int(rng.randint(self.n))

    def __repr__(self):
        return "Discrete(%d)" % self.n


class Box:
    """Reals in [low, high] of a shape (as gymnasium.spaces.Box)."""

    def __init__(self, low, high, shape):
        self.low, self.high, self.shape, self.dtype = float(low), float(high), tuple(shape), _lib.REAL

    def sample(self, rng=np.random):
        lo, hi = max(self.low, -1e3), min(self.high, 1e3)
        return rng.uniform(lo, hi, self.shape).astype(self.dtype)

    def __repr__(self):
        return "Box(%g, %g, %s)" % (self.low, self.high, self.shape)


class VectorEnv:
    """num_envs copies of one plast environment stepped in lock-step (plast_env): reset() and step() return
    arrays of shape (num_envs, ...); after an episode ends, the next step resets that copy (Gymnasium's next-step
    autoreset, reward 0 and both flags false)."""

    def __init__(self, name, num_envs=1, seed=0, **settings):
        cfg = Config()
        cfg.set("env.name", name)
        for k, v in settings.items():
            cfg.set("env." + k, v)
        self._cfg = cfg
        err = Err()
        self._e = need(lib.plast_env_init(lib.plast_experiment_cfg_env(cfg._ptr), int(num_envs), int(seed),
                                          ctypes.byref(err)), err)
        self.num_envs = int(num_envs)
        obs, act = lib.plast_env_observation_space(self._e), lib.plast_env_action_space(self._e)
        self.single_observation_space = Box(obs.low, obs.high, (obs.n,))
        self._discrete = act.kind == 0
        self.single_action_space = Discrete(act.n) if self._discrete else Box(act.low, act.high, (act.n,))
        self.max_episode_steps = lib.plast_env_max_steps(self._e)
        self.description = lib.plast_env_describe(self._e).decode()
        # image observations (PongLike's 84 x 84 frames, env.frame_stack of them as channels): rows stay flat,
        # obs.reshape(-1, *image_shape) gives (num_envs, side, side, channels); None for other observations
        ch, side = ctypes.c_int64(0), ctypes.c_int64(0)
        is_image = lib.plast_env_image(self._e, ctypes.byref(ch), ctypes.byref(side))
        self.image_shape = (side.value, side.value, ch.value) if is_image else None
        self._obs = np.empty((self.num_envs, obs.n), dtype=_lib.REAL)
        self._rew = np.empty(self.num_envs, dtype=_lib.REAL)
        self._term = np.empty(self.num_envs, dtype=np.uint8)
        self._trunc = np.empty(self.num_envs, dtype=np.uint8)

    def reset(self, seed=None, episode=None):
        """A new episode in every copy (episode numbers from `episode` when given); returns (obs, info). The seed
        is fixed at make(); seed= is accepted for API compatibility only when it equals it."""
        if episode is not None:
            lib.plast_env_seek(self._e, int(episode))
        err = Err()
        check(lib.plast_env_reset(self._e, ptr(self._obs), ctypes.byref(err)), err)
        return self._obs.copy(), {}

    def step(self, actions):
        """One step of every copy; returns (obs, reward, terminated, truncated, info), arrays of num_envs rows."""
        if self._discrete:
            a = np.ascontiguousarray(actions, dtype=np.int32).reshape(self.num_envs)
            acts = EnvActions(a.ctypes.data, None)
        else:
            a = np.ascontiguousarray(actions, dtype=_lib.REAL).reshape(self.num_envs, -1)
            acts = EnvActions(None, a.ctypes.data)
        err = Err()
        check(lib.plast_env_step(self._e, acts, ptr(self._obs), ptr(self._rew), self._term.ctypes.data,
                                 self._trunc.ctypes.data, ctypes.byref(err)), err)
        return (self._obs.copy(), self._rew.copy(), self._term.astype(bool), self._trunc.astype(bool), {})

    def close(self):
        if getattr(self, "_e", None):
            lib.plast_env_free(self._e)
            self._e = None

    def __del__(self):
        self.close()

    def __repr__(self):
        return "plast.envs.VectorEnv(%d x %s)" % (self.num_envs, self.description)


def make(name, num_envs=1, seed=0, **settings):
    """num_envs copies of environment `name` ("maze", "pendulum", "ponglike"); settings are its env.* keys."""
    return VectorEnv(name, num_envs=num_envs, seed=seed, **settings)


# ---- Gymnasium ---------------------------------------------------------------------------------------------------

GYMNASIUM_IDS = {"maze": "plast/Maze-v0", "pendulum": "plast/InvertedPendulum-v0", "ponglike": "plast/PongLike-v0"}


def _single_env_class(base):
    """One copy with Gymnasium's single-environment API (reset(seed) -> (obs, info); step(a) -> (obs, reward,
    terminated, truncated, info); the caller resets after an episode ends), as a subclass of `base`
    (gymnasium.Env)."""

    class SingleEnv(base):
        metadata = {"render_modes": []}

        def __init__(self, name, seed=0, **settings):
            self._v = VectorEnv(name, num_envs=1, seed=seed, **settings)
            self.observation_space = _gym_space(self._v.single_observation_space)
            self.action_space = _gym_space(self._v.single_action_space)
            self._episode = 0

        def reset(self, *, seed=None, options=None):
            """A new episode: episode numbers count up from 0, each drawn from (the make() seed, episode)."""
            obs, info = self._v.reset(episode=self._episode)
            self._episode += 1
            return obs[0], info

        def step(self, action):
            obs, r, te, tr, info = self._v.step(np.asarray(action)[None])
            return obs[0], float(r[0]), bool(te[0]), bool(tr[0]), info

        def close(self):
            self._v.close()

    return SingleEnv


def _gym_space(space):
    """plast's space descriptor as Gymnasium's space (gymnasium.spaces.Discrete or Box)"""
    import gymnasium

    if isinstance(space, Discrete):
        return gymnasium.spaces.Discrete(space.n)
    return gymnasium.spaces.Box(space.low, space.high, space.shape, dtype=space.dtype)


def _make_single(name):
    def make_one(**kwargs):
        import gymnasium

        return _single_env_class(gymnasium.Env)(name, **kwargs)

    return make_one


def _make_vector(name):
    def make_many(num_envs=1, **kwargs):
        return VectorEnv(name, num_envs=num_envs, **kwargs)

    return make_many


def register_gymnasium(gym=None):
    """Registers plast's environments with Gymnasium (GYMNASIUM_IDS): gymnasium.make(id, seed=..., **env keys)
    gives one copy, gymnasium.make_vec(id, num_envs=N) plast's VectorEnv of N copies. Done at import when
    Gymnasium is installed; ids already registered are left alone. Returns the ids registered now."""
    if gym is None:
        import gymnasium as gym
    done = []
    for name, gid in GYMNASIUM_IDS.items():
        if gid in gym.registry:
            continue
        gym.register(id=gid, entry_point=_make_single(name), vector_entry_point=_make_vector(name))
        done.append(gid)
    return done


try:  # registered with Gymnasium only when it is installed
    import gymnasium as _gymnasium
except ImportError:
    _gymnasium = None
if _gymnasium is not None:
    register_gymnasium(_gymnasium)
