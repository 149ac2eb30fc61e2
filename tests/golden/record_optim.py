"""Record torch.optim.SGD (with and without momentum) and torch.optim.Adam over several steps.

Run with PyTorch 2.13 (CPU):  python tests/golden/record_optim.py  ->  tests/golden/optim.npz

Each case optimizes two parameters, "w" (3, 4) and "b" (4,), feeding a fixed
sequence of gradients drawn from a seeded NumPy generator (p.grad is set by
hand before every step). Keys, for a case with T steps:

    <case>/w, <case>/b              initial parameters
    <case>/grad_w, <case>/grad_b    gradients, shape (T, ...)
    <case>/after_w, <case>/after_b  parameters after each step, shape (T, ...)
    <case>/state1_w, ...            optimizer state after each step: momentum buffer (SGD)
    <case>/state2_w, ...              or exp_avg and exp_avg_sq (Adam)
    <case>/lr, momentum, beta1, beta2, eps   hyper-parameters (0-d arrays)
"""

from pathlib import Path

import numpy as np
import torch

STEPS = 6
OUT = Path(__file__).with_name("optim.npz")


def gradients(rng, steps, scale):
    """A gradient sequence; some entries are exactly zero so that eps and zero moments matter."""
    grad_w = rng.normal(scale=scale, size=(steps, 3, 4))
    grad_b = rng.normal(scale=scale, size=(steps, 4))
    grad_w[:, 0, 0] = 0.0
    grad_b[0, 1] = 0.0
    return grad_w, grad_b


def record(case, rng, make_optimizer, hyper, state_names, scale=1.0):
    init = {"w": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    grads = dict(zip(("w", "b"), gradients(rng, STEPS, scale)))
    tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in init.items()}
    optimizer = make_optimizer(list(tensors.values()))
    after = {k: [] for k in tensors}
    states = {(i, k): [] for i in range(len(state_names)) for k in tensors}
    for step in range(STEPS):
        for k, p in tensors.items():
            p.grad = torch.tensor(grads[k][step], dtype=torch.float64)
        optimizer.step()
        for k, p in tensors.items():
            after[k].append(p.detach().numpy().copy())
            for i, name in enumerate(state_names):
                states[i, k].append(optimizer.state[p][name].numpy().copy())
    data = {}
    for k in tensors:
        data[f"{case}/{k}"] = init[k]
        data[f"{case}/grad_{k}"] = grads[k]
        data[f"{case}/after_{k}"] = np.stack(after[k])
        for i in range(len(state_names)):
            data[f"{case}/state{i + 1}_{k}"] = np.stack(states[i, k])
    for name, value in hyper.items():
        data[f"{case}/{name}"] = np.array(value)
    return data


def main():
    rng = np.random.default_rng(20240707)
    data = {}
    data.update(record("sgd", rng, lambda p: torch.optim.SGD(p, lr=0.1), {"lr": 0.1}, []))
    for case, lr, mu in (("momentum", 0.1, 0.9), ("momentum_half", 0.03, 0.5)):
        data.update(record(case, rng, lambda p, lr=lr, mu=mu: torch.optim.SGD(p, lr=lr, momentum=mu),
                           {"lr": lr, "momentum": mu}, ["momentum_buffer"]))
    adam_cases = (
        ("adam", 1e-3, 0.9, 0.999, 1e-8, 1.0),
        ("adam_custom", 0.05, 0.8, 0.99, 1e-6, 1e-3),
    )
    for case, lr, b1, b2, eps, scale in adam_cases:
        data.update(record(case, rng,
                           lambda p, lr=lr, b1=b1, b2=b2, eps=eps: torch.optim.Adam(p, lr=lr, betas=(b1, b2), eps=eps),
                           {"lr": lr, "beta1": b1, "beta2": b2, "eps": eps}, ["exp_avg", "exp_avg_sq"], scale))
    np.savez(OUT, **data)
    print(f"wrote {OUT} ({len(data)} arrays) with torch {torch.__version__}")


if __name__ == "__main__":
    main()
