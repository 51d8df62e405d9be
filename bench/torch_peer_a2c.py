#!/usr/bin/python3
"""The PyTorch peer of plast-bench's maze A2C cases (bench/plast_bench.c, src/cli/bench_cases.c): one iteration of
advantage actor-critic on the grid maze as Rodriguez et al. 2022 and Miconi et al. 2019 run it, written as a
competent PyTorch user would: the B mazes stepped as tensors, the agent stepped with autograd recording the
episode, the reference's loss (sum of pi^2 penalty, copy 0's value as the baseline, / T / B), backward, global
clip 4, Adam (eps 1e-4).

    /usr/bin/python3 bench/torch_peer_a2c.py --case NAME --spec JSON [--steps N]

(JSON: family, I, O, H, B, T, norm, clamp, size) prints one JSON object like bench/torch_peer.py: the times of the
timed iterations and an evaluation rollout without gradients. If the recorded episode cannot fit in the memory
available, it prints {"error": ...} and exits with status 3 instead of driving the machine into swap.
"""
import math
import sys

import torch

import peer_common


def uniform(shape, bound):
    return torch.nn.Parameter(torch.empty(shape).uniform_(-bound, bound))


class Maze:
    """B copies of the 13 x 13 maze (docs/envs/maze.md), stepped together as tensors."""

    def __init__(self, B, size=13, length=200, gen=None):
        S = size
        r = torch.arange(S).view(S, 1).expand(S, S)
        c = torch.arange(S).view(1, S).expand(S, S)
        wall = (r == 0) | (c == 0) | (r == S - 1) | (c == S - 1) | ((r % 2 == 0) & (c % 2 == 0))
        wall[S // 2, S // 2] = False
        self.wall = wall.flatten()
        self.free = torch.nonzero(~self.wall).flatten()
        self.S, self.B, self.T, self.gen = S, B, length, gen
        self.window = torch.tensor([-S - 1, -S, -S + 1, -1, 0, 1, S - 1, S, S + 1])
        self.delta = torch.tensor([-S, S, -1, 1])

    def reset(self):
        B = self.B
        self.pos = torch.full((B,), (self.S // 2) * self.S + self.S // 2, dtype=torch.long)
        self.goal = self.free[torch.randint(len(self.free), (B,), generator=self.gen)]
        self.prev_a = torch.zeros(B, dtype=torch.long)
        self.prev_r = torch.zeros(B)
        self.t = 0
        return self.obs()

    def obs(self):
        B = self.B
        o = torch.zeros(B, 17)
        o[:, :9] = self.wall[self.pos.unsqueeze(1) + self.window].float()
        o[:, 10] = 1
        o[:, 11] = self.t / self.T
        o[:, 12] = self.prev_r
        o[torch.arange(B), 13 + self.prev_a] = 1
        return o

    def step(self, a):
        target = self.pos + self.delta[a]
        hit = self.wall[target]
        self.pos = torch.where(hit, self.pos, target)
        r = torch.zeros(self.B)
        at = self.pos == self.goal
        r[at] += 10.0
        k = torch.randint(len(self.free) - 1, (self.B,), generator=self.gen)
        cell = self.free[k]
        cell = torch.where(cell >= self.goal, self.free[k + 1], cell)
        self.pos = torch.where(at, cell, self.pos)
        self.prev_a, self.prev_r, self.t = a, r, self.t + 1
        return self.obs(), r


class STPN(torch.nn.Module):
    """STPNr with post normalisation and a clamp (the maze's main configuration), stepped."""

    def __init__(self, I, O, H, clamp=1.0, **_):
        super().__init__()
        s = 1 / math.sqrt(H)
        self.W, self.b = uniform((I + H, H), s), uniform((H,), s)
        self.lam = torch.nn.Parameter(torch.rand(I + H, H))
        self.gam = uniform((I + H, H), 0.001 * s)
        self.lin, self.H, self.clamp = torch.nn.Linear(H, O), H, clamp or 1.0

    def init_state(self, B):
        return (torch.zeros(B, self.H), torch.zeros(B, *self.W.shape))

    def step(self, x, state):
        h, F_ = state
        p = torch.cat([x, h], 1)
        G = self.W + F_
        n = G.norm(dim=1, keepdim=True) + 1e-16
        h = torch.tanh(torch.bmm(p.unsqueeze(1), G / n).squeeze(1) + self.b)
        F_ = torch.clamp(self.lam * F_ + self.gam * torch.bmm(p.unsqueeze(2), h.unsqueeze(1)), -self.clamp, self.clamp)
        F_ = F_ / ((self.W + F_).norm(dim=1, keepdim=True) + 1e-16)
        return self.lin(h), (h, F_)


class Cell(torch.nn.Module):
    def __init__(self, I, O, H, kind="lstm", **_):
        super().__init__()
        self.kind, self.H = kind, H
        self.cell = torch.nn.LSTMCell(I, H) if kind == "lstm" else torch.nn.RNNCell(I, H, nonlinearity="tanh")
        self.lin = torch.nn.Linear(H, O)

    def init_state(self, B):
        return (torch.zeros(B, self.H), torch.zeros(B, self.H))

    def step(self, x, state):
        if self.kind == "lstm":
            h, c = self.cell(x, state)
        else:
            h, c = self.cell(x, state[0]), state[1]
        return self.lin(h), (h, c)


class ModPlast(torch.nn.Module):
    """Simple neuromodulated plasticity (Miconi et al. 2019), stepped."""

    def __init__(self, I, O, H, **_):
        super().__init__()
        self.i2h = torch.nn.Linear(I, H)
        self.w = torch.nn.Parameter(0.01 * torch.rand(H, H))
        self.alpha = torch.nn.Parameter(0.01 * torch.rand(H, H))
        self.h2mod = torch.nn.Linear(H, 1)
        self.lin, self.H = torch.nn.Linear(H, O), H

    def init_state(self, B):
        return (torch.zeros(B, self.H), torch.zeros(B, self.H, self.H))

    def step(self, x, state):
        h, hebb = state
        hn = torch.tanh(self.i2h(x) + torch.bmm(h.unsqueeze(1), self.w + self.alpha * hebb).squeeze(1))
        M = torch.tanh(self.h2mod(hn)).view(-1, 1, 1)
        hebb = torch.clamp(hebb + M * torch.bmm(h.unsqueeze(2), hn.unsqueeze(1)), -1, 1)
        return self.lin(hn), (hn, hebb)


def build(c):
    f = c["family"]
    if f == "stpn":
        return STPN(c["I"], c["O"], c["H"], clamp=c.get("clamp", 1.0))
    if f in ("lstm", "rnn"):
        return Cell(c["I"], c["O"], c["H"], kind=f)
    if f == "modplast":
        return ModPlast(c["I"], c["O"], c["H"])
    raise SystemExit("no A2C peer for family " + f)



def iteration(model, opt, env, c, update=True):
    B, T = c["B"], c["T"]
    obs = env.reset()
    state = model.init_state(B)
    logits, values, actions, rewards = [], [], [], []
    with torch.set_grad_enabled(update):
        for t in range(T):
            y, state = model.step(obs, state)
            lg, v = y[:, :4], y[:, 4]
            a = torch.multinomial(torch.softmax(lg.detach(), 1), 1).squeeze(1)
            obs, r = env.step(a)
            logits.append(lg), values.append(v), actions.append(a), rewards.append(r)
        if not update:
            return
        lg, v = torch.stack(logits), torch.stack(values)          # (T, B, 4), (T, B)
        R, returns = torch.zeros(B), []
        for t in reversed(range(T)):
            R = rewards[t] + 0.9 * R
            returns.append(R)
        Rs = torch.stack(returns[::-1])                               # (T, B)
        adv = Rs - v[:, 0:1]                                          # the reference's baseline: copy 0's value
        logp = torch.log_softmax(lg, 2)
        pi = logp.exp()
        a = torch.stack(actions)
        lp_a = logp.gather(2, a.unsqueeze(2)).squeeze(2)
        loss = (0.03 * (pi * pi).sum() - (lp_a * adv.detach()).sum() + 0.1 * (adv * adv).sum()) / (T * B)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 4.0)
        opt.step()


def main():
    a, c = peer_common.parse_args("a2c")
    if c.get("I") != 17:  # the maze's observations: this peer has the maze only
        return peer_common.decline(a.case, "no PyTorch peer for this case (the A2C peer has the maze only)")
    why = peer_common.too_big(c, "a2c")
    if why:
        return peer_common.decline(a.case, why)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = build(c)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, eps=1e-4)
    env = Maze(c["B"], c.get("size", 13), c["T"], gen)
    return peer_common.time_iterations(a, "a2c", lambda: iteration(model, opt, env, c),
                                       lambda: iteration(model, opt, env, c, update=False))


if __name__ == "__main__":
    sys.exit(main())
