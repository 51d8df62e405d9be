"""plast models inside torch programs (torch is optional; import this module only where it is installed).

    import plast.torch_bridge as pt
    trial, params = pt.trial_function(model)    # params: torch tensors sharing plast's parameter memory
    y = trial(x)                                # x (T, B, I) torch tensor -> y (T, B, O), differentiable
    loss = ...; loss.backward(); torch.optim.Adam(params).step()   # updates plast's parameters in place
"""
import numpy as np
import torch


def state_dict(model):
    """The parameters as torch tensors sharing plast's memory (torch.from_numpy on the views)."""
    return {k: torch.from_numpy(v) for k, v in model.params.items()}


def trial_function(model, engine="auto"):
    """A differentiable function x (T, B, I) -> y (T, B, O) running plast's whole-trial forward and backward (BPTT
    in C), and the list of parameter tensors it differentiates, which share plast's memory."""
    names = list(model.params)
    params = [torch.from_numpy(model.params[n]).requires_grad_() for n in names]

    class PlastTrial(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, *ps):
            return torch.from_numpy(model.forward(x.detach().cpu().numpy(), train=True, engine=engine))

        @staticmethod
        def backward(ctx, gy):
            grads = model.backward(gy.detach().contiguous().cpu().numpy())
            return (None,) + tuple(torch.from_numpy(np.array(grads[n])) for n in names)

    return (lambda x: PlastTrial.apply(x, *params)), params
