"""Record the residual block relu(conv3x3(relu(conv3x3(x, w1, b1)), w2, b2) + x) and its autograd gradients.

Run with PyTorch 2.13 (CPU):  python tests/golden/record_arch.py  ->  tests/golden/arch.npz

Keys per case: x, w1, b1, w2, b2, dout (inputs); out; dx, dw1, db1, dw2, db2.
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).with_name("arch.npz")

# case name -> (N, C, H, W, F): batch, channels of x, height, width, hidden channels
CASES = {
    "basic": (2, 3, 5, 6, 4),
    "single_image": (1, 2, 4, 4, 2),
    "wide_hidden": (3, 1, 7, 5, 5),
}


def residual_block(x, w1, b1, w2, b2):
    h = F.relu(F.conv2d(x, w1, b1, stride=1, padding=1))
    return F.relu(F.conv2d(h, w2, b2, stride=1, padding=1) + x)


def main():
    rng = np.random.default_rng(80808)
    data = {}
    for case, (n, c, h, w, f) in CASES.items():
        inputs = {
            "x": rng.normal(size=(n, c, h, w)),
            "w1": rng.normal(scale=0.5, size=(f, c, 3, 3)),
            "b1": rng.normal(size=f),
            "w2": rng.normal(scale=0.5, size=(c, f, 3, 3)),
            "b2": rng.normal(size=c),
        }
        dout = rng.normal(size=(n, c, h, w))
        tensors = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in inputs.items()}
        out = residual_block(**tensors)
        out.backward(torch.tensor(dout, dtype=torch.float64))
        for k, v in inputs.items():
            data[f"{case}/{k}"] = v
            data[f"{case}/d{k}"] = tensors[k].grad.numpy()
        data[f"{case}/dout"] = dout
        data[f"{case}/out"] = out.detach().numpy()
    np.savez(OUT, **data)
    print(f"wrote {OUT} ({len(data)} arrays) with torch {torch.__version__}")


if __name__ == "__main__":
    main()
