"""Record PyTorch's linear layer, activations and losses into linear.npz (run with a PyTorch venv).

    /tmp/torchenv/bin/python tests/golden/record_linear.py

Every case stores its NumPy inputs and what PyTorch (float64, CPU) computes from
them: forward values and the autograd gradients for the upstream gradient ``dout``.
Conventions of the course that differ from PyTorch's defaults:

- ``mse_loss`` is ``0.5 * sum((pred - target)**2) / N``: recorded as
  ``0.5 * F.mse_loss(pred, target, reduction="sum") / N`` and its autograd gradient.
- ``softmax_cross_entropy`` is ``F.cross_entropy`` with the default mean reduction.
- A linear layer is ``x @ w + b`` with ``w`` (D_in, D_out), i.e. ``F.linear(x, w.T, b)``.
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).with_name("linear.npz")


def tensor(array):
    return torch.tensor(array, dtype=torch.float64, requires_grad=True)


def numpy(t):
    return t.detach().numpy().copy()


def record_linear(rng, cases, name, n, d_in, d_out):
    x, w, b = rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_out)), rng.normal(size=d_out)
    dout = rng.normal(size=(n, d_out))
    tx, tw, tb = tensor(x), tensor(w), tensor(b)
    out = F.linear(tx, tw.T, tb)
    out.backward(torch.tensor(dout))
    cases[name] = dict(x=x, w=w, b=b, dout=dout, out=numpy(out), dx=numpy(tx.grad), dw=numpy(tw.grad), db=numpy(tb.grad))


def record_activation(cases, name, torch_function, x, dout):
    tx = tensor(x)
    out = torch_function(tx)
    out.backward(torch.tensor(dout))
    cases[name] = dict(x=x, dout=dout, out=numpy(out), dx=numpy(tx.grad))


def record_cross_entropy(cases, name, logits, y):
    tlogits = tensor(logits)
    loss = F.cross_entropy(tlogits, torch.tensor(y))
    loss.backward()
    cases[name] = dict(logits=logits, y=y, loss=np.array(loss.item()), dlogits=numpy(tlogits.grad))


def record_mse(cases, name, pred, target):
    tpred = tensor(pred)
    loss = 0.5 * F.mse_loss(tpred, torch.tensor(target), reduction="sum") / pred.shape[0]
    loss.backward()
    cases[name] = dict(pred=pred, target=target, loss=np.array(loss.item()), dpred=numpy(tpred.grad))


def record_mlp2(rng, cases, name, n, d, hidden, classes):
    params = {
        "w1": rng.normal(size=(d, hidden)) / np.sqrt(d),
        "b1": rng.normal(size=hidden) * 0.1,
        "w2": rng.normal(size=(hidden, classes)) / np.sqrt(hidden),
        "b2": rng.normal(size=classes) * 0.1,
    }
    x, y = rng.normal(size=(n, d)), rng.integers(0, classes, size=n)
    t = {key: tensor(value) for key, value in params.items()}
    hidden_act = F.relu(F.linear(torch.tensor(x), t["w1"].T, t["b1"]))
    loss = F.cross_entropy(F.linear(hidden_act, t["w2"].T, t["b2"]), torch.tensor(y))
    loss.backward()
    case = dict(x=x, y=y, loss=np.array(loss.item()))
    case.update({key: value for key, value in params.items()})
    case.update({f"d{key}": numpy(t[key].grad) for key in params})
    cases[name] = case


def main():
    rng = np.random.default_rng(2024)
    cases = {}
    record_linear(rng, cases, "linear", 5, 4, 3)
    record_linear(rng, cases, "linear_batch1", 1, 7, 2)

    # ReLU: exact zeros included (PyTorch's gradient there is 0).
    x = rng.normal(size=(4, 6))
    x[0, :3] = 0.0
    record_activation(cases, "relu", F.relu, x, rng.normal(size=x.shape))
    record_activation(cases, "sigmoid", torch.sigmoid, rng.normal(scale=3.0, size=(3, 5)), rng.normal(size=(3, 5)))
    extreme = np.array([[-1e3, -700.0, -50.0, -1e-8, 0.0, 1e-8, 50.0, 700.0, 1e3]])
    record_activation(cases, "sigmoid_extreme", torch.sigmoid, extreme, np.ones_like(extreme))
    record_activation(cases, "tanh", torch.tanh, rng.normal(scale=2.0, size=(2, 3, 4)), rng.normal(size=(2, 3, 4)))

    record_cross_entropy(cases, "ce", rng.normal(size=(6, 4)), rng.integers(0, 4, size=6))
    record_cross_entropy(cases, "ce_batch1", rng.normal(size=(1, 3)), np.array([2]))
    large = rng.normal(size=(5, 4)) * 1e4
    record_cross_entropy(cases, "ce_large", large, rng.integers(0, 4, size=5))

    record_mse(cases, "mse", rng.normal(size=(5, 3)), rng.normal(size=(5, 3)))
    record_mse(cases, "mse_4d", rng.normal(size=(2, 3, 2, 2)), rng.normal(size=(2, 3, 2, 2)))

    record_mlp2(rng, cases, "mlp2", 8, 5, 6, 3)
    record_mlp2(rng, cases, "mlp2_batch1", 1, 4, 3, 5)

    arrays = {f"{case}/{key}": np.asarray(value) for case, values in cases.items() for key, value in values.items()}
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {len(arrays)} arrays ({len(cases)} cases) to {OUT} with torch {torch.__version__}")


if __name__ == "__main__":
    main()
