"""Record PyTorch's batch_norm, layer_norm and group_norm (forward and autograd backward) in float64.

Run with a Python that has torch (see README.md); writes ``norm.npz`` beside this file:

    bn_<case>/x, gamma, beta, running_mean, running_var, momentum, eps   inputs ((N, D) or NCHW)
    bn_<case>/out, new_running_mean, new_running_var     F.batch_norm(training=True): running stats updated by torch
    bn_<case>/eval_out                                   F.batch_norm(training=False) with the *input* running stats
    bn_<case>/dout, dx, dgamma, dbeta                    autograd of sum(out * dout), train mode
    ln_<case>/x, gamma, beta, eps, out, dout, dx, dgamma, dbeta       F.layer_norm over the last axis of (N, D)
    gn_<case>/x, gamma, beta, groups, eps, out, dout, dx, dgamma, dbeta   F.group_norm of NCHW x
    fold_<case>/x, w, b, gamma, beta, running_mean, running_var, eps, out
                                                         F.batch_norm(F.conv2d(x, w, b), eval): what a folded conv must give
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).with_name("norm.npz")

# name: (x shape, momentum, eps)
BN_CASES = {
    "fc_4x3": ((4, 3), 0.1, 1e-5),
    "fc_7x5_m03": ((7, 5), 0.3, 1e-5),
    "fc_2x6_eps1e-3": ((2, 6), 0.1, 1e-3),
    "fc_16x1": ((16, 1), 0.1, 1e-5),
    "spatial_2x3x4x5": ((2, 3, 4, 5), 0.1, 1e-5),
    "spatial_batch1_1x4x3x3": ((1, 4, 3, 3), 0.2, 1e-5),
    "spatial_3x2x1x1": ((3, 2, 1, 1), 0.1, 1e-5),
    "spatial_2x1x5x2_m1": ((2, 1, 5, 2), 1.0, 1e-4),
}

# name: (x shape, eps)
LN_CASES = {
    "3x4": ((3, 4), 1e-5),
    "batch1_1x7": ((1, 7), 1e-5),
    "5x2_eps1e-2": ((5, 2), 1e-2),
}

# name: (x shape, groups, eps)
GN_CASES = {
    "layer_g1": ((2, 4, 3, 3), 1, 1e-5),
    "g2": ((2, 4, 3, 2), 2, 1e-5),
    "instance_g4": ((2, 4, 2, 3), 4, 1e-5),
    "g3_c6_batch1": ((1, 6, 4, 3), 3, 1e-5),
    "g2_c6_1x1": ((3, 6, 1, 1), 2, 1e-3),
}

# name: (N, C, H, W, F, KH, KW)
FOLD_CASES = {
    "3x3": (2, 3, 6, 5, 4, 3, 3),
    "1x1_batch1": (1, 2, 4, 4, 3, 1, 1),
}


def tensors(*arrays):
    return [torch.tensor(a, requires_grad=True) for a in arrays]


def affine(rng, channels):
    return rng.normal(1.0, 0.5, channels), rng.normal(0.0, 0.5, channels)


def running(rng, channels):
    return rng.normal(0.0, 1.0, channels), rng.uniform(0.5, 2.0, channels)


def record_bn(rng, shape, momentum, eps):
    channels = shape[1]
    x = rng.normal(0.5, 2.0, shape)
    gamma, beta = affine(rng, channels)
    running_mean, running_var = running(rng, channels)
    tx, tgamma, tbeta = tensors(x, gamma, beta)
    t_mean, t_var = torch.tensor(running_mean), torch.tensor(running_var)   # updated in place by torch
    out = F.batch_norm(tx, t_mean, t_var, tgamma, tbeta, training=True, momentum=momentum, eps=eps)
    dout = rng.standard_normal(shape)
    (out * torch.tensor(dout)).sum().backward()
    eval_out = F.batch_norm(torch.tensor(x), torch.tensor(running_mean), torch.tensor(running_var),
                            torch.tensor(gamma), torch.tensor(beta), training=False, momentum=momentum, eps=eps)
    return {
        "x": x, "gamma": gamma, "beta": beta, "running_mean": running_mean, "running_var": running_var,
        "momentum": np.array(momentum), "eps": np.array(eps),
        "out": out.detach().numpy(), "new_running_mean": t_mean.numpy(), "new_running_var": t_var.numpy(),
        "eval_out": eval_out.numpy(),
        "dout": dout, "dx": tx.grad.numpy(), "dgamma": tgamma.grad.numpy(), "dbeta": tbeta.grad.numpy(),
    }


def record_ln(rng, shape, eps):
    x = rng.normal(-0.3, 1.5, shape)
    gamma, beta = affine(rng, shape[1])
    tx, tgamma, tbeta = tensors(x, gamma, beta)
    out = F.layer_norm(tx, (shape[1],), tgamma, tbeta, eps=eps)
    dout = rng.standard_normal(shape)
    (out * torch.tensor(dout)).sum().backward()
    return {
        "x": x, "gamma": gamma, "beta": beta, "eps": np.array(eps), "out": out.detach().numpy(),
        "dout": dout, "dx": tx.grad.numpy(), "dgamma": tgamma.grad.numpy(), "dbeta": tbeta.grad.numpy(),
    }


def record_gn(rng, shape, groups, eps):
    x = rng.normal(0.2, 1.3, shape)
    gamma, beta = affine(rng, shape[1])
    tx, tgamma, tbeta = tensors(x, gamma, beta)
    out = F.group_norm(tx, groups, tgamma, tbeta, eps=eps)
    dout = rng.standard_normal(shape)
    (out * torch.tensor(dout)).sum().backward()
    return {
        "x": x, "gamma": gamma, "beta": beta, "groups": np.array(groups), "eps": np.array(eps),
        "out": out.detach().numpy(),
        "dout": dout, "dx": tx.grad.numpy(), "dgamma": tgamma.grad.numpy(), "dbeta": tbeta.grad.numpy(),
    }


def record_fold(rng, n, c, h, w, f, kh, kw):
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((f, c, kh, kw))
    bias = rng.standard_normal(f)
    gamma, beta = affine(rng, f)
    running_mean, running_var = running(rng, f)
    eps = 1e-5
    conv = F.conv2d(torch.tensor(x), torch.tensor(weight), torch.tensor(bias))
    out = F.batch_norm(conv, torch.tensor(running_mean), torch.tensor(running_var), torch.tensor(gamma),
                       torch.tensor(beta), training=False, eps=eps)
    return {
        "x": x, "w": weight, "b": bias, "gamma": gamma, "beta": beta,
        "running_mean": running_mean, "running_var": running_var, "eps": np.array(eps), "out": out.numpy(),
    }


def main():
    rng = np.random.default_rng(20240505)
    arrays = {}
    for prefix, cases, record in (("bn", BN_CASES, record_bn), ("ln", LN_CASES, record_ln),
                                  ("gn", GN_CASES, record_gn), ("fold", FOLD_CASES, record_fold)):
        for name, args in cases.items():
            for key, value in record(rng, *args).items():
                arrays[f"{prefix}_{name}/{key}"] = value
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {len(arrays)} arrays to {OUT} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
