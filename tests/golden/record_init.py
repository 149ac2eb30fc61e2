"""Record PyTorch's init rules: calculate_gain, fans, and large-sample statistics of its initializers.

Run with a Python that has torch (see README.md); writes ``init.npz`` beside this file:

    gain/names, gain/params, gain/values  torch.nn.init.calculate_gain(name, param); param NaN means None
    fans/shapes, fans/values              course shapes (zero-padded to 4 entries) and their (fan_in, fan_out);
                                          a linear (D_in, D_out) is torch's weight (D_out, D_in) transposed
    <init>_<case>/shape, mode, nonlinearity, gain, n
                                          an initializer call on a large tensor (course shape)
    <init>_<case>/var, max_abs            torch's sample variance and largest |w| of that tensor
"""

from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).with_name("init.npz")

GAIN_CASES = [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose1d", None),
    ("conv_transpose2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None),
    ("relu", None), ("selu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0.0),
    ("leaky_relu", -0.5), ("leaky_relu", 3), ("relu", 0.3),
]

# course shapes: linear (D_in, D_out), conv (F, C, KH, KW)
FAN_SHAPES = [(3, 7), (64, 256), (1, 1), (8, 3, 3, 3), (16, 4, 5, 1), (1, 1, 1, 1), (32, 16, 1, 1)]

# name: (initializer, course shape, mode, nonlinearity, gain)
INIT_CASES = {
    "xavier_uniform_linear": ("xavier_uniform", (300, 200), "", "", 1.0),
    "xavier_uniform_conv_gain": ("xavier_uniform", (40, 30, 3, 3), "", "", 5 / 3),
    "xavier_normal_linear": ("xavier_normal", (200, 500), "", "", 1.0),
    "kaiming_normal_conv_fan_in": ("kaiming_normal", (40, 30, 3, 3), "fan_in", "relu", 0.0),
    "kaiming_normal_conv_fan_out": ("kaiming_normal", (40, 30, 3, 3), "fan_out", "relu", 0.0),
    "kaiming_uniform_linear_tanh": ("kaiming_uniform", (250, 400), "fan_in", "tanh", 0.0),
    "kaiming_uniform_linear_fan_out": ("kaiming_uniform", (250, 400), "fan_out", "relu", 0.0),
}


def torch_shape(shape):
    """torch stores a linear weight as (D_out, D_in)."""
    return tuple(reversed(shape)) if len(shape) == 2 else tuple(shape)


def record_gains():
    names = [name for name, _ in GAIN_CASES]
    params = [np.nan if p is None else p for _, p in GAIN_CASES]
    values = [torch.nn.init.calculate_gain(name, param) for name, param in GAIN_CASES]
    return {"names": np.array(names), "params": np.array(params, dtype=np.float64), "values": np.array(values)}


def record_fans():
    shapes, values = [], []
    for shape in FAN_SHAPES:
        fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(torch_shape(shape)))
        shapes.append(list(shape) + [0] * (4 - len(shape)))
        values.append((fan_in, fan_out))
    return {"shapes": np.array(shapes, dtype=np.int64), "values": np.array(values, dtype=np.int64)}


def record_init(kind, shape, mode, nonlinearity, gain):
    tensor = torch.empty(torch_shape(shape), dtype=torch.float64)
    if kind.startswith("xavier"):
        getattr(torch.nn.init, kind + "_")(tensor, gain=gain)
    else:
        getattr(torch.nn.init, kind + "_")(tensor, mode=mode, nonlinearity=nonlinearity)
    w = tensor.numpy()
    return {
        "shape": np.array(shape, dtype=np.int64), "mode": np.array(mode), "nonlinearity": np.array(nonlinearity),
        "gain": np.array(gain), "n": np.array(w.size), "var": np.array(w.var()), "max_abs": np.array(np.abs(w).max()),
    }


def main():
    torch.manual_seed(20240606)
    arrays = {}
    for prefix, record in (("gain", record_gains), ("fans", record_fans)):
        for key, value in record().items():
            arrays[f"{prefix}/{key}"] = value
    for name, args in INIT_CASES.items():
        for key, value in record_init(*args).items():
            arrays[f"{name}/{key}"] = value
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {len(arrays)} arrays to {OUT} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
