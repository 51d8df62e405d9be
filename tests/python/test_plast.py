"""The Python package (python/plast) against the C library it wraps: configuration errors, stepping against whole
trials, gradients against the reference tape path, zero-copy views and their lifetimes, checkpoints, runs and
environments. Run by CTest with PLAST_LIB set to the build's libplast.so."""
import gc
import os
import sys

import numpy as np
import pytest

import plast

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
CUEREWARD = os.path.join(ROOT, "configs", "duan", "cuereward.json")


def small_config(**sets):
    cfg = plast.Config(CUEREWARD)
    cfg.set("model.hidden", 8)
    for k, v in sets.items():
        cfg.set(k.replace("__", "."), v)
    return cfg


def test_config_set_get_and_errors():
    cfg = plast.Config(CUEREWARD)
    cfg.set("model.hidden", 33).set("model.rule", "gradient")
    assert cfg.get("model.hidden") == "33" and cfg.get("model.rule") == "gradient"
    assert cfg.to_dict()["model"]["hidden"] == 33
    with pytest.raises(ValueError, match="model.hiden"):
        cfg.set("model.hiden", 3)
    with pytest.raises(ValueError, match="model.hidden"):
        cfg.set("model.hidden", "many")
    with pytest.raises(ValueError, match="unknown key"):
        cfg.get("no.such")
    with pytest.raises(plast.PlastError, match="nonexistent"):
        plast.Config("/nonexistent/x.json")


def test_config_model_keys_follow_the_family():
    maze = os.path.join(ROOT, "configs", "stpn", "maze_quick.json")
    cfg = plast.Config(maze)
    assert cfg.get("model.norm") == "post"
    cfg.set("model.family", "lstm")  # a change of family: the stpn keys return to their defaults
    assert cfg.get("model.norm") == "pre" and cfg.get("model.hidden") == "55"
    assert plast.Model(cfg).config.get("model.family") == "lstm"
    cfg.set("model.norm", "post")  # set again after the change: an error when the model is built
    with pytest.raises(ValueError, match="model.norm.*applies to stpn only"):
        plast.Model(cfg)


def test_config_dump_roundtrip(tmp_path):
    cfg = small_config()
    p = str(tmp_path / "c.json")
    cfg.dump(p)
    assert plast.Config(p).to_json() == cfg.to_json()


def test_step_equals_forward():
    """T steps of a caller-owned state give what one whole-trial forward gives (the C engine path)."""
    for family in ("duan", "stpn", "lstm"):
        m = plast.Model(small_config(model__family=family))
        rng = np.random.default_rng(0)
        x = rng.uniform(-1, 1, (6, 3, m.input)).astype(plast.dtype)
        y_all = m.forward(x)
        s = m.initial_state(3)
        for t in range(6):
            y, s = m.step(s, x[t])
            np.testing.assert_allclose(y, y_all[t], rtol=2e-4, atol=2e-5, err_msg=family)


def test_gradients_match_the_tape_and_finite_differences():
    m = plast.Model(small_config(model__family="stpn"))
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (5, 2, m.input)).astype(plast.dtype)
    target = rng.uniform(-1, 1, (5, 2, m.output)).astype(plast.dtype)

    def mse(y):
        d = y - target
        return float((d.astype(np.float64) ** 2).mean()), (2 * d / d.size).astype(plast.dtype)

    loss_auto, g_auto = m.value_and_grad(x, mse)
    loss_tape, g_tape = m.value_and_grad(x, mse, engine="tape")
    assert abs(loss_auto - loss_tape) < 1e-5
    assert any(np.abs(g).sum() > 0 for g in g_auto.values())
    for k in g_auto:
        np.testing.assert_allclose(g_auto[k], g_tape[k], rtol=1e-3, atol=1e-6, err_msg=k)
    # one central difference per parameter tensor, in float32: a loose but not vacuous check
    for k, p in m.params.items():
        flat = p.reshape(-1)
        i = int(np.argmax(np.abs(g_auto[k]).reshape(-1)))
        if abs(g_auto[k].reshape(-1)[i]) < 1e-3:
            continue
        old, h = float(flat[i]), 1e-2
        flat[i] = old + h
        lp = mse(m.forward(x))[0]
        flat[i] = old - h
        lm = mse(m.forward(x))[0]
        flat[i] = old
        fd = (lp - lm) / (2 * h)
        assert abs(fd - g_auto[k].reshape(-1)[i]) < 0.05 * abs(fd) + 1e-4, (k, fd, g_auto[k].reshape(-1)[i])


def test_zero_copy_views_and_lifetime():
    m = plast.Model(small_config())
    name = next(iter(m.params))
    view = m.params[name]
    x = np.ones((1, 1, m.input), dtype=plast.dtype)
    y0 = m.forward(x).copy()
    view[...] = 0.0  # writes plast's memory: the output changes
    assert not np.allclose(m.forward(x), y0)
    s = m.initial_state(2)
    h = s.arrays["h"]
    m.step(s, np.ones((2, m.input), dtype=plast.dtype))
    assert np.abs(h).sum() > 0  # the view follows the state
    # a view keeps its owner alive: no use after free when the model and state are dropped first
    del m, s
    gc.collect()
    assert np.isfinite(view.sum()) and np.isfinite(h.sum())


def test_input_is_not_copied_when_contiguous():
    x = np.zeros((2, 3), dtype=plast.dtype)
    assert plast._lib.real_array(x) is x
    assert plast._lib.real_array(x.astype(np.float64)) is not x


def test_save_load_and_errors(tmp_path):
    m = plast.Model(small_config())
    p = str(tmp_path / "m.safetensors")
    m.save(p)
    m2 = plast.Model(small_config(), seed=99)
    k = next(iter(m.params))
    assert not np.array_equal(m.params[k], m2.params[k])
    m2.load(p)
    for k in m.params:
        np.testing.assert_array_equal(m.params[k], m2.params[k])
    with pytest.raises(plast.PlastError, match="m.safetensors"):
        plast.Model(small_config(model__hidden=9)).load(p)
    with pytest.raises(ValueError):
        m.step(m.initial_state(2), np.zeros((3, m.input)))


def test_train_resume_and_load_run(tmp_path):
    cfg = small_config(train__steps=20, train__batch=8, train__val_every=10, train__val_batches=1,
                       train__test_batches=2, train__ckpt_every=5)
    events = []
    out = str(tmp_path / "run")
    res = plast.train(cfg, out=out, callback=lambda e: events.append(e["kind"]))
    assert events[0] == "start" and "validation" in events and events[-1] == "done"
    assert list(res["metrics"]["step"]) == [0.0, 10.0, 20.0]
    assert res["test"]["trials"] == 16 and np.isfinite(res["test"]["loss"])
    # a callback that stops the run; continuing it gives the same metrics as the uninterrupted run
    out2 = str(tmp_path / "run2")
    plast.train(cfg, out=out2, callback=lambda e: e["kind"] == "step" and e["step"] >= 12)
    part = plast.load_run(out2)
    assert part["test"] is None
    full = plast.train(cfg, out=out2)
    np.testing.assert_array_equal(full["metrics"]["val_loss"], res["metrics"]["val_loss"])
    m = plast.Model.from_run(out)
    assert m.describe() == plast.Model(cfg).describe()


def test_callback_exception_propagates(tmp_path):
    cfg = small_config(train__steps=5, train__batch=4, train__val_batches=1, train__test_batches=1)

    def boom(e):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        plast.train(cfg, out=str(tmp_path / "r"), callback=boom)


def test_envs_vector_api():
    env = plast.envs.make("maze", num_envs=3, seed=1)
    assert env.single_action_space.n == 4 and env.single_observation_space.shape == (17,)
    obs, info = env.reset()
    assert obs.shape == (3, 17)
    total = 0.0
    for t in range(200):
        obs, r, term, trunc, info = env.step(np.random.default_rng(t).integers(0, 4, 3))
        total += r.sum()
    assert trunc.all() and not term.any()  # 200-step episodes end together
    obs, r, term, trunc, _ = env.step(np.zeros(3))  # next-step autoreset
    assert (r == 0).all() and not trunc.any() and (obs[:, 11] == 0).all()
    with pytest.raises(plast.PlastError, match="action 7"):
        env.step(np.array([0, 7, 0]))
    with pytest.raises(ValueError, match="env.name"):
        plast.envs.make("atari")


def test_envs_pendulum_and_ponglike():
    env = plast.envs.make("pendulum", num_envs=2, seed=0)
    assert env.single_action_space.low == -3 and env.max_episode_steps == 1000
    env.reset()
    steps = 0
    while True:
        _, r, term, trunc, _ = env.step(np.zeros((2, 1)))
        steps += 1
        if term[0]:
            break
    assert 10 < steps < 100
    pong = plast.envs.make("ponglike", num_envs=2, seed=0)
    assert "not the Arcade Learning Environment" in pong.description
    obs, _ = pong.reset()
    assert obs.shape == (2, 84 * 84) and pong.single_action_space.n == 6
    assert pong.image_shape == (84, 84, 1) and env.image_shape is None
    # Mnih et al.'s preprocessing: 4 frames as channels, channels last; at reset all four are the first frame
    stacked = plast.envs.make("ponglike", num_envs=2, seed=0, frame_stack=4, frame_max=True)
    obs4, _ = stacked.reset()
    assert stacked.image_shape == (84, 84, 4) and obs4.shape == (2, 84 * 84 * 4)
    img = obs4.reshape(-1, *stacked.image_shape)
    assert np.array_equal(img[..., 0], img[..., 3]) and np.array_equal(img[..., 0].reshape(2, -1), obs)


def test_torch_shares_memory():
    torch = pytest.importorskip("torch")
    m = plast.Model(small_config())
    k = next(iter(m.params))
    t = torch.from_numpy(m.params[k])
    t.zero_()
    assert np.abs(m.params[k]).sum() == 0


def test_torch_function_gradients_are_plasts():
    torch = pytest.importorskip("torch")
    import plast.torch_bridge as pt

    m = plast.Model(small_config(model__family="stpn"))
    trial, params = pt.trial_function(m)
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (4, 3, m.input)).astype(plast.dtype)
    target = rng.uniform(-1, 1, (4, 3, m.output)).astype(plast.dtype)
    loss = ((trial(torch.from_numpy(x)) - torch.from_numpy(target)) ** 2).mean()
    loss.backward()

    def mse(y):
        d = y - target
        return float((d ** 2).mean()), (2 * d / d.size).astype(plast.dtype)

    ref_loss, ref = m.value_and_grad(x, mse)
    assert abs(loss.item() - ref_loss) < 1e-5
    for n, p in zip(m.params, params):
        np.testing.assert_allclose(p.grad.numpy(), ref[n], rtol=1e-4, atol=1e-7, err_msg=n)
    before = np.array(m.params[next(iter(m.params))])
    torch.optim.SGD(params, lr=0.1).step()  # updates plast's own memory
    assert not np.array_equal(before, m.params[next(iter(m.params))])


@pytest.mark.parametrize("example", ["train_and_plot.py", "step_custom_loop.py", "numpy_policy_env.py",
                                     "torch_train.py"])
def test_examples_run(example, tmp_path):
    import subprocess
    import sys

    if example == "torch_train.py":
        pytest.importorskip("torch")
    if example == "train_and_plot.py":
        pytest.importorskip("matplotlib")
    env = dict(os.environ, PLAST_EXAMPLE_QUICK="1", PYTHONPATH=os.path.join(ROOT, "python"))
    args = [sys.executable, os.path.join(ROOT, "examples", "python", example)]
    if example == "train_and_plot.py":
        args.append(str(tmp_path / "run"))
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr


def test_state_dict_reference_names_and_dlpack():
    m = plast.Model(small_config())
    sd = m.state_dict(reference_names=True)
    assert set(sd) != set(m.params) and len(sd) == len(m.params)  # Duan's in_fc.* spellings
    m2 = plast.Model(small_config(), seed=5)
    m2.load_state_dict(sd)
    for k in m.params:
        np.testing.assert_array_equal(m.params[k], m2.params[k])
    with pytest.raises(KeyError, match="nope"):
        m2.load_state_dict({"nope": np.zeros(1)})
    torch = pytest.importorskip("torch")
    k = next(iter(m.params))
    t = torch.from_dlpack(m.params[k])  # zero copy through numpy's __dlpack__
    t.fill_(0.5)
    assert np.all(m.params[k] == 0.5)


def test_gymnasium_registration_with_a_stand_in(monkeypatch):
    """Gymnasium is not packaged in Debian 12: a stand-in module with its register/registry/Env/spaces checks what
    plast registers and that the entry points make working environments (single copy and vector)."""
    import types

    registry = {}
    gym = types.ModuleType("gymnasium")
    gym.registry = registry

    def register(id, entry_point, vector_entry_point=None):
        registry[id] = (entry_point, vector_entry_point)

    class Env:
        pass

    spaces = types.ModuleType("gymnasium.spaces")
    spaces.Discrete = lambda n: ("Discrete", n)
    spaces.Box = lambda low, high, shape, dtype=None: ("Box", low, high, shape)
    gym.register, gym.Env, gym.spaces = register, Env, spaces
    monkeypatch.setitem(sys.modules, "gymnasium", gym)
    monkeypatch.setitem(sys.modules, "gymnasium.spaces", spaces)
    ids = plast.envs.register_gymnasium(gym)
    assert sorted(ids) == sorted(plast.envs.GYMNASIUM_IDS.values())
    assert plast.envs.register_gymnasium(gym) == []  # already there
    single, vector = registry["plast/Maze-v0"]
    env = single(seed=3)
    assert isinstance(env, Env) and env.action_space == ("Discrete", 4)
    obs, _ = env.reset()
    assert obs.shape == (17,)
    obs, r, te, tr, _ = env.step(1)
    assert obs.shape == (17,) and isinstance(r, float) and isinstance(te, bool)
    env.close()
    venv = vector(num_envs=3, seed=3)
    o, _ = venv.reset()
    assert o.shape == (3, 17)
    p_single, _ = registry["plast/InvertedPendulum-v0"]
    pe = p_single(seed=0)
    assert pe.observation_space[0] == "Box" and pe.observation_space[3] == (4,)
    o, _ = pe.reset()
    o, r, te, tr, _ = pe.step(np.zeros(1, dtype=plast.dtype))
    assert r == 1.0 and not tr


def test_rl_runs_through_train(tmp_path):
    """The RL learners run through plast.train as supervised runs do: PPO on the pendulum, per-step rewards in the
    callback, the test reward in load_run."""
    cfg = plast.Config(os.path.join(ROOT, "configs/stpn/pendulum_quick.json"))
    cfg.set("train.steps", 4)
    cfg.set("train.val_every", 2)
    rows = []
    plast.train(cfg, out=str(tmp_path / "ppo"), callback=rows.append)
    steps = [r for r in rows if r["kind"] == "step"]
    assert len(steps) == 4 and all(r["metric"] > 0 for r in steps)  # mean episode reward, +1 per step
    run = plast.load_run(str(tmp_path / "ppo"))
    assert run["test"]["metric_name"] == "reward" and run["test"]["metric"] > 0 and run["test"]["energy"] > 0


def test_rl_step_metric_is_weighted_by_ended_episodes(tmp_path):
    """An RL iteration in which no episode ended has no metric (NaN, weight 0), not a reward of 0; the weighted mean
    of the step events is the training metric that metrics.csv logs."""
    cfg = plast.Config(os.path.join(ROOT, "configs/stpn/pendulum_quick.json"))
    for k, v in [("train.steps", 12), ("train.val_every", 12), ("train.log_every", 12), ("ppo.steps", 3),
                 ("ppo.minibatch", 3), ("ppo.seq_len", 3), ("ppo.epochs", 1)]:
        cfg.set(k, v)
    rows = []
    plast.train(cfg, out=str(tmp_path / "ppo"), callback=rows.append)
    steps = [r for r in rows if r["kind"] == "step"]
    w = np.array([r["metric_weight"] for r in steps])
    m = np.array([r["metric"] for r in steps])
    assert len(steps) == 12 and (w == 0).any() and (w > 0).any()  # 3 steps per iteration: some end no episode
    assert np.isnan(m[w == 0]).all() and np.isfinite(m[w > 0]).all()
    run = plast.load_run(str(tmp_path / "ppo"))
    assert abs(np.sum(w[w > 0] * m[w > 0]) / np.sum(w) - run["metrics"]["train_metric"][-1]) < 1e-9
    # learner.csv: one row per iteration, with the same episodes and returns as the step events
    lr = run["learner"]
    assert list(lr["step"]) == list(range(1, 13)) and (lr["episodes"] == w).all()
    assert np.allclose(lr["return"][w > 0], m[w > 0], rtol=1e-12) and np.isnan(lr["return"][w == 0]).all()
    assert np.isfinite(lr["entropy"]).all() and np.isfinite(lr["clip_fraction"]).all()


def test_probe_agent_reports_the_core(tmp_path):
    """tools/probe_agent.py on a short maze run: the hidden state's statistics are in range, the freshly initialised
    STPN core is far from saturation (its h rms about 0.1 on the maze's inputs), and a supervised run is refused with
    the key that says so."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("probe_agent", os.path.join(ROOT, "tools", "probe_agent.py"))
    probe_agent = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe_agent)
    cfg = plast.Config(os.path.join(ROOT, "configs/stpn/maze_quick.json"))
    for k, v in [("train.steps", 3), ("train.val_every", 3), ("train.batch", 4), ("train.test_batches", 1)]:
        cfg.set(k, v)
    out = str(tmp_path / "maze")
    plast.train(cfg, out=out)
    for which in ("last", "init"):
        r = probe_agent.probe(out, which, copies=3, steps=60, warmup=10)
        assert r["hidden"] == int(cfg.get("model.hidden")) and r["copies"] == 3
        assert 0 < r["hidden_rms"] < 1 and 0 <= r["near_one_share"] <= 1
        assert 0 <= r["units_always_near_one"] <= r["hidden"]
        assert r["output_std_over_time"] > 0 and r["output_std_across_copies"] > 0  # the outputs follow the input
    assert r["near_one_share"] < 0.05
    sup = str(tmp_path / "sup")
    plast.train(small_config(train__steps=2, train__val_every=2, train__val_batches=1, train__test_batches=1), out=sup)
    with pytest.raises(ValueError, match="rl.algorithm"):
        probe_agent.probe(sup)
