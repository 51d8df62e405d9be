#!/usr/bin/python3
"""The PyTorch peer of plast-bench's PPO cases (bench/plast_bench.c, src/cli/bench_cases.c): one PPO iteration on
the inverted pendulum as src/rl/ppo.c and the STPN paper's script run it (docs/RL.md), written as a competent PyTorch
user would:

1. a rollout of T steps in B copies, the model stepped without gradients, the diagonal Gaussian policy with a
   state-dependent softplus standard deviation, actions unsquashed to the control range, the recurrent and plastic
   state recorded at the start of every sequence (at most 20 steps, cut at episode starts);
2. GAE (gamma 0.99, lambda 0.95) standardised over the batch;
3. 10 epochs over the sequences in random order, minibatches of 3 sequences (64 / 20) padded and masked, each
   replayed from its recorded state as one batched unroll under autograd; the loss of ppo.c (clipped surrogate,
   adaptive KL from 0.2, the rllib2022 value clip at 10, entropy 0.01) averaged over the valid steps; global clip
   40; Adam 3e-4.

The environment is plast's own (the Python bindings, python/plast: MuJoCo 2.2.2 through libplast.so), so both sides
step the same physics and the comparison is the learner's. A recurrent model with no state (the MLP) runs each
minibatch as one batch of rows.

    /usr/bin/python3 bench/torch_peer_ppo.py --case NAME --spec JSON [--steps N]

(JSON as bench/torch_peer.py's, with "env") prints one JSON object: the times of the timed iterations and an
evaluation rollout of T steps without updates. Exits with status 3 and {"error": ...} for a case it has no peer for.
"""
import math
import os
import statistics
import sys

import numpy as np
import torch

import peer_common

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

SEQ = 20
CLIP, VF_CLIP, KL_TARGET, GRAD_CLIP = 0.2, 10.0, 0.01, 40.0


def uniform(shape, bound):
    return torch.nn.Parameter(torch.empty(shape).uniform_(-bound, bound))


class MLP(torch.nn.Module):
    """h = tanh(x W + b), the pendulum baseline; no state."""

    def __init__(self, I, O, H, **_):
        super().__init__()
        self.l1, self.lin, self.H = torch.nn.Linear(I, H), torch.nn.Linear(H, O), H

    def init_state(self, B):
        return None

    def step(self, x, state):
        return self.lin(torch.tanh(self.l1(x))), None


class STPNf(torch.nn.Module):
    """STPNf without normalisation (the pendulum's): h = tanh(x (W + F) + b), F <- clamp(lam F + gam x (x) h)."""

    def __init__(self, I, O, H, clamp=0.1, **_):
        super().__init__()
        s = 1 / math.sqrt(I)
        self.W, self.b = uniform((I, H), s), uniform((H,), s)
        self.lam = torch.nn.Parameter(torch.rand(I, H))
        self.gam = uniform((I, H), 0.001 * s)
        self.lin, self.H, self.clamp = torch.nn.Linear(H, O), H, clamp or 0.1

    def init_state(self, B):
        return torch.zeros(B, *self.W.shape)

    def step(self, x, F_):
        h = torch.tanh(torch.bmm(x.unsqueeze(1), self.W + F_).squeeze(1) + self.b)
        F_ = torch.clamp(self.lam * F_ + self.gam * torch.bmm(x.unsqueeze(2), h.unsqueeze(1)), -self.clamp, self.clamp)
        return self.lin(h), F_


class MnihSTPNr(torch.nn.Module):
    """PongLike's agent: Mnih et al. 2016's two convolutions (16 maps 8 x 8 stride 4, 32 maps 4 x 4 stride 2, ReLU,
    no dense layer) on one 84 x 84 frame, then STPNr with "pre" normalisation: h = tanh(p (G / n) + b),
    F <- lam (F / n) + gam p (x) h, p = [features; h]."""

    def __init__(self, I, O, H, **_):
        super().__init__()
        self.side = int(round(math.sqrt(I)))
        self.conv = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 8, 4), torch.nn.ReLU(), torch.nn.Conv2d(16, 32, 4, 2),
                                        torch.nn.ReLU(), torch.nn.Flatten())
        feat = 32 * 9 * 9
        s = 1 / math.sqrt(H)
        self.W, self.b = uniform((feat + H, H), s), uniform((H,), s)
        self.lam = torch.nn.Parameter(torch.rand(feat + H, H))
        self.gam = uniform((feat + H, H), 0.001 * s)
        self.lin, self.H = torch.nn.Linear(H, O), H

    def init_state(self, B):
        return (torch.zeros(B, self.H), torch.zeros(B, *self.W.shape))

    def features(self, x):  # (rows, I) -> (rows, 2592), every frame of a sequence at once
        return self.conv(x.reshape(-1, 1, self.side, self.side))

    def step(self, x, state, feats=None):
        h, F_ = state
        p = torch.cat([self.features(x) if feats is None else feats, h], 1)
        G = self.W + F_
        n = G.norm(dim=1, keepdim=True) + 1e-16
        h = torch.tanh(torch.bmm(p.unsqueeze(1), G / n).squeeze(1) + self.b)
        F_ = self.lam * (F_ / n) + self.gam * torch.bmm(p.unsqueeze(2), h.unsqueeze(1))
        return self.lin(h), (h, F_)


def build(c):
    if c["family"] == "mlp":
        return MLP(c["I"], c["O"], c["H"])
    if c["family"] == "stpn" and c.get("variant") == "f" and c.get("norm") == "none":
        return STPNf(c["I"], c["O"], c["H"], clamp=c.get("clamp", 0.1))
    if c["family"] == "stpn" and c.get("variant") == "r" and c.get("encoder") != "conv4" and c["I"] == 84 * 84:
        return MnihSTPNr(c["I"], c["O"], c["H"])
    return None


# the two settings of src/rl/ppo.c the bench cases use (configs/stpn/pendulum.json, configs/stpn/ponglike.json)
SETTINGS = {
    "pendulum": dict(objective="ppo", discrete=False, minibatch=64, epochs=10, gamma=0.99, lam=0.95, adv_norm=True,
                     value_coef=1.0, entropy_coef=0.01, kl_coef=0.2, lr=3e-4),
    "ponglike": dict(objective="a2c", discrete=True, minibatch=200, epochs=1, gamma=0.99, lam=1.0, adv_norm=False,
                     value_coef=0.5, entropy_coef=0.01, kl_coef=0.0, lr=7e-4),
}


LOG_2PI = math.log(2 * math.pi)


def gauss_logp(a, mu, sd):
    """log N(a; mu, sd) summed over the action dimensions"""
    return (-0.5 * ((a - mu) / sd) ** 2 - sd.log() - 0.5 * LOG_2PI).sum(-1)


def state_row(state, b):
    """copy b's row of the state (None, a tensor or a tuple of tensors), detached"""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s[b].clone() for s in state)
    return state[b].clone()


def state_stack(rows, like):
    """a batch of recorded rows, zeros where a row is None (an episode's start)"""
    if like is None:
        return None
    if isinstance(like, tuple):
        return tuple(torch.stack([r[k] if r is not None else torch.zeros_like(like[k][0]) for r in rows])
                     for k in range(len(like)))
    return torch.stack([r if r is not None else torch.zeros_like(like[0]) for r in rows])


def state_zero(state, mask):
    """the rows of copies whose episode ended set to zero"""
    if state is None:
        return None
    m = torch.from_numpy(~mask).float()
    if isinstance(state, tuple):
        return tuple(s * m.view(-1, *([1] * (s.dim() - 1))) for s in state)
    return state * m.view(-1, *([1] * (state.dim() - 1)))


class Learner:
    def __init__(self, model, env, c, k):
        self.model, self.env, self.B, self.T, self.k = model, env, c["B"], c["T"], k
        space = env.single_action_space
        self.A = space.n if k["discrete"] else space.shape[0]
        if not k["discrete"]:
            self.lo, self.hi = float(space.low), float(space.high)
        self.obs, _ = env.reset()
        self.state = model.init_state(self.B)
        self.fresh = np.ones(self.B, dtype=bool)
        self.kl_coef = k["kl_coef"]
        self.opt = torch.optim.Adam(model.parameters(), lr=k["lr"])
        self.gen = torch.Generator().manual_seed(0)

    def policy(self, y):
        """the policy's parameters and the value from outputs y: (logits, None, v) or (mu, std, v)"""
        A = self.A
        if self.k["discrete"]:
            return y[..., :A], None, y[..., A]
        return y[..., :A], torch.nn.functional.softplus(y[..., A:2 * A]), y[..., 2 * A]

    def sample(self, y):
        mu, sd, v = self.policy(y)
        if self.k["discrete"]:
            lsm = torch.log_softmax(mu, -1)
            a = torch.multinomial(lsm.exp(), 1, generator=self.gen).squeeze(1)
            return a.float(), lsm.gather(1, a.unsqueeze(1)).squeeze(1), mu, torch.zeros_like(mu), v, a.int().numpy()
        a = mu + sd * torch.randn(mu.shape, generator=self.gen)
        lp = gauss_logp(a, mu, sd)
        env_a = np.clip(self.lo + (a.numpy() + 1) * (self.hi - self.lo) / 2, self.lo, self.hi)
        return a, lp, mu, sd, v, env_a

    def rollout(self):
        B, T, A = self.B, self.T, self.A
        AD = 1 if self.k["discrete"] else A
        obs = np.zeros((T, B, self.obs.shape[1]), np.float32)
        act = np.zeros((T, B, AD), np.float32)
        mean, std = np.zeros((T, B, A)), np.zeros((T, B, A))
        logp, value, reward = np.zeros((T, B)), np.zeros((T, B)), np.zeros((T, B))
        ended = np.zeros((T, B), dtype=bool)
        seqs = []  # [copy, t0, len, recorded state or None]
        open_seq = [None] * B
        with torch.no_grad():
            for t in range(T):
                for b in range(B):
                    q = open_seq[b]
                    if q is None or self.fresh[b] or seqs[q][2] == SEQ:
                        seqs.append([b, t, 0, None if self.fresh[b] else state_row(self.state, b)])
                        open_seq[b] = len(seqs) - 1
                    seqs[open_seq[b]][2] += 1
                obs[t] = self.obs
                y, self.state = self.model.step(torch.from_numpy(self.obs).float(), self.state)
                a, lp, mu, sd, v, env_a = self.sample(y)
                act[t] = a.numpy().reshape(B, AD)
                mean[t], std[t], logp[t], value[t] = mu.numpy(), sd.numpy(), lp.numpy(), v.numpy()
                self.obs, r, term, trunc, _ = self.env.step(env_a)
                reward[t], ended[t] = r, term | trunc
                self.fresh = ended[t].copy()
                if ended[t].any():
                    if B == 1:  # Gymnasium's vector API resets on the next step; one copy: at once, as ppo.c
                        self.obs, _ = self.env.reset()
                    self.state = state_zero(self.state, ended[t])
            y, _ = self.model.step(torch.from_numpy(self.obs).float(), self.state)
            last_v = self.policy(y)[2].numpy()
        adv, ret = np.zeros((T, B)), np.zeros((T, B))
        nxt = np.zeros(B)
        g, gl = self.k["gamma"], self.k["gamma"] * self.k["lam"]
        for t in reversed(range(T)):
            next_v = np.where(ended[t], 0.0, last_v if t == T - 1 else value[t + 1])
            nxt = np.where(ended[t], 0.0, nxt)
            nxt = reward[t] + g * next_v - value[t] + gl * nxt
            adv[t], ret[t] = nxt, nxt + value[t]
        if self.k["adv_norm"]:  # population std, at least 1e-4
            adv = (adv - adv.mean()) / max(1e-4, adv.std())
        return dict(obs=obs, act=act, mean=mean, std=std, logp=logp, value=value, adv=adv, ret=ret), seqs

    def minibatch(self, r, seqs, idx):
        M, k = len(idx), self.k
        t_idx = np.zeros((SEQ, M), dtype=np.int64)
        b_idx = np.zeros((SEQ, M), dtype=np.int64)
        valid = np.zeros((SEQ, M), dtype=bool)
        for j, q in enumerate(idx):
            b, t0, n, _ = seqs[q]
            t_idx[:n, j], b_idx[:n, j], valid[:n, j] = np.arange(t0, t0 + n), b, True
        g = lambda key: torch.from_numpy(r[key][t_idx, b_idx]).float()  # noqa: E731
        x, a, mo, so, lpo, vo, adv, ret = g("obs"), g("act"), g("mean"), g("std"), g("logp"), g("value"), g("adv"), g("ret")
        vmask = torch.from_numpy(valid).float()
        if self.state is None:  # no state: every row at once
            y, _ = self.model.step(x.reshape(SEQ * M, -1), None)
            y = y.reshape(SEQ, M, -1)
        else:
            st = state_stack([seqs[q][3] for q in idx], self.state)
            feats = self.model.features(x.reshape(SEQ * M, -1)).reshape(SEQ, M, -1) if hasattr(self.model, "features") else None
            ys = []
            for t in range(SEQ):
                yt, st = self.model.step(x[t], st, feats[t]) if feats is not None else self.model.step(x[t], st)
                ys.append(yt)
            y = torch.stack(ys)
        mu, sd, v = self.policy(y)
        if k["discrete"]:
            lsm = torch.log_softmax(mu, -1)
            lp = lsm.gather(2, a.long()).squeeze(2)
            ent = -(lsm.exp() * lsm).sum(-1)
            lso = torch.log_softmax(mo, -1)
            kl = (lso.exp() * (lso - lsm)).sum(-1)
        else:
            lp = gauss_logp(a, mu, sd)
            ent = (0.5 + 0.5 * LOG_2PI + sd.log()).sum(-1)
            kl = (torch.log(sd / so) + (so * so + (mu - mo) ** 2) / (2 * sd * sd) - 0.5).sum(-1)
        if k["objective"] == "a2c":  # RLlib's A2C: sums over the slice
            per = -lp * adv + k["value_coef"] * 0.5 * (v - ret) ** 2 - k["entropy_coef"] * ent
            loss = (per * vmask).sum()
        else:
            rho = torch.exp(lp - lpo)
            pg = -torch.min(adv * rho, adv * torch.clamp(rho, 1 - CLIP, 1 + CLIP))
            vc = vo + torch.clamp(v - vo, -VF_CLIP, VF_CLIP)
            vf = torch.max((v - ret) ** 2, (vc - ret) ** 2)
            per = pg + self.kl_coef * kl + k["value_coef"] * vf - k["entropy_coef"] * ent
            loss = (per * vmask).sum() / vmask.sum()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), GRAD_CLIP)
        self.opt.step()
        return float((kl * vmask).sum() / vmask.sum())

    def iterate(self):
        r, seqs = self.rollout()
        M = max(1, self.k["minibatch"] // SEQ)
        kls = []
        for _ in range(self.k["epochs"]):
            perm = torch.randperm(len(seqs), generator=self.gen).tolist()
            for first in range(0, len(seqs), M):
                kls.append(self.minibatch(r, seqs, perm[first:first + M]))
        if self.kl_coef > 0:  # RLlib's update_kl
            kl = statistics.mean(kls)
            if kl > 2 * KL_TARGET:
                self.kl_coef *= 1.5
            elif kl < 0.5 * KL_TARGET:
                self.kl_coef *= 0.5


def main():
    a, c = peer_common.parse_args("ppo")
    torch.manual_seed(0)
    model = build(c)
    if c.get("env") not in SETTINGS or model is None:
        return peer_common.decline(a.case, "no PyTorch peer for this case (the PPO peer has the pendulum's MLP and "
                                           "STPNf and PongLike's conv + STPNr)")
    import plast
    extra = dict(obs="rllib", frameskip=1, sticky=0) if c["env"] == "ponglike" else {}
    env = plast.envs.make(c["env"], num_envs=c["B"], seed=0, **extra)
    learner = Learner(model, env, c, SETTINGS[c["env"]])
    return peer_common.time_iterations(a, "ppo", learner.iterate, learner.rollout)


if __name__ == "__main__":
    sys.exit(main())
