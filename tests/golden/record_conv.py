"""Record PyTorch's conv2d (forward and backward), conv_transpose2d and output sizes.

Run with a Python that has torch (see README.md); writes ``conv.npz`` beside this file:

    conv2d_<case>/x, w, b, stride, pad      inputs (float64; stride, pad as 0-d ints)
    conv2d_<case>/out                       F.conv2d(x, w, b, stride, pad)
    conv2d_<case>/dout                      a random upstream gradient of out's shape
    conv2d_<case>/dx, dw, db                autograd of sum(out * dout)
    transpose_<case>/x, w, stride, pad, out F.conv_transpose2d(x, w, None, stride, pad)
    sizes/valid                             rows (n, k, stride, pad, dilation, out) of conv1d output lengths
    sizes/invalid                           rows (n, k, stride, pad, dilation) that PyTorch rejects
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).with_name("conv.npz")

# name: (N, C, H, W, F, KH, KW, stride, pad)
CONV2D_CASES = {
    "s1_p0": (2, 3, 7, 6, 4, 3, 3, 1, 0),
    "s2_p1": (2, 2, 8, 9, 3, 3, 3, 2, 1),
    "s3_p2_batch1_c1": (1, 1, 11, 10, 2, 5, 4, 3, 2),
    "nonsquare_p1": (3, 4, 5, 9, 2, 2, 5, 1, 1),
    "one_by_one_s2": (1, 3, 9, 7, 5, 1, 1, 2, 0),
    "s2_p2_odd": (2, 1, 7, 5, 1, 3, 2, 2, 2),
    "kernel_fills_input": (2, 2, 4, 5, 3, 4, 5, 1, 0),
}

# name: (N, C_in, H, W, C_out, KH, KW, stride, pad)
TRANSPOSE_CASES = {
    "s1_p0": (2, 3, 4, 5, 2, 3, 3, 1, 0),
    "s2_p1": (2, 2, 5, 4, 3, 3, 3, 2, 1),
    "s3_p0_nonsquare": (1, 1, 3, 4, 2, 2, 5, 3, 0),
    "s2_p2_batch1": (1, 4, 6, 5, 1, 5, 4, 2, 2),
}


def record_conv2d(rng, shape):
    n, c, h, w, f, kh, kw, stride, pad = shape
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((f, c, kh, kw))
    bias = rng.standard_normal(f)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, weight, bias))
    out = F.conv2d(tx, tw, tb, stride=stride, padding=pad)
    dout = rng.standard_normal(tuple(out.shape))
    (out * torch.tensor(dout)).sum().backward()
    return {
        "x": x, "w": weight, "b": bias, "stride": np.array(stride), "pad": np.array(pad),
        "out": out.detach().numpy(), "dout": dout,
        "dx": tx.grad.numpy(), "dw": tw.grad.numpy(), "db": tb.grad.numpy(),
    }


def record_transpose(rng, shape):
    n, c_in, h, w, c_out, kh, kw, stride, pad = shape
    x = rng.standard_normal((n, c_in, h, w))
    weight = rng.standard_normal((c_in, c_out, kh, kw))
    out = F.conv_transpose2d(torch.tensor(x), torch.tensor(weight), None, stride=stride, padding=pad)
    return {"x": x, "w": weight, "stride": np.array(stride), "pad": np.array(pad), "out": out.numpy()}


def record_sizes():
    valid, invalid = [], []
    for n in range(1, 13):
        for k in range(1, 6):
            for stride in (1, 2, 3):
                for pad in (0, 1, 2):
                    for dilation in (1, 2, 3):
                        x = torch.zeros(1, 1, n, dtype=torch.float64)
                        w = torch.zeros(1, 1, k, dtype=torch.float64)
                        try:
                            out = F.conv1d(x, w, stride=stride, padding=pad, dilation=dilation)
                        except RuntimeError:
                            invalid.append((n, k, stride, pad, dilation))
                            continue
                        valid.append((n, k, stride, pad, dilation, out.shape[-1]))
    return {"valid": np.array(valid, dtype=np.int64), "invalid": np.array(invalid, dtype=np.int64)}


def main():
    rng = np.random.default_rng(20240101)
    arrays = {}
    for prefix, cases, record in (("conv2d", CONV2D_CASES, record_conv2d), ("transpose", TRANSPOSE_CASES, record_transpose)):
        for name, shape in cases.items():
            for key, value in record(rng, shape).items():
                arrays[f"{prefix}_{name}/{key}"] = value
    for key, value in record_sizes().items():
        arrays[f"sizes/{key}"] = value
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {len(arrays)} arrays to {OUT} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
