"""Classic ConvNets written down as lists of layers, with a parameter and MAC counter.

A network is a list of layers. Every layer knows three things about one image
of shape ``(C, H, W)`` (or ``(D,)`` after flattening):

- ``output_shape(shape)``  the shape it produces,
- ``params(shape)``        its learnable parameters,
- ``macs(shape)``          its multiply-accumulates (only conv and linear layers
                           count, as in the published figures),

and ``window()``, its ``(kernel, stride)`` for receptive fields. Two layers
hold branches, each a list of layers (the empty list is the identity):
``Add`` (a residual connection) and ``Concat`` (Inception, DenseNet). ``Block``
names a group of layers, so that a summary stays readable.

    >>> rows = summary(resnet18(), (3, 224, 224))
    >>> count(resnet18(), (3, 224, 224))
    (11689512, 1814073344)

The networks follow torchvision's definitions (and the papers where they
differ); see each function's docstring.
"""

from dataclasses import dataclass
from functools import partial

from .nn import arch as _arch
from .nn import conv as _conv

__all__ = [
    "Conv", "Pool", "GlobalAvgPool", "Flatten", "Linear", "BatchNorm", "Activation",
    "Add", "Concat", "Block",
    "count", "summary", "format_summary", "windows", "network_receptive_field",
    "INCEPTION_V1", "inception", "basic_block", "bottleneck_block", "dense_layer",
    "lenet5", "alexnet", "vgg16", "googlenet", "resnet18", "resnet50", "densenet121",
]


# -- layers --------------------------------------------------------------------------

def _spatial(shape, name):
    if len(shape) != 3:
        raise ValueError(f"{name} needs an image shape (C, H, W), got {shape}; is a Flatten missing or misplaced?")
    return shape


def _sliding_window_hw(shape, kernel, stride, pad, name):
    """Height and width after a ``kernel`` x ``kernel`` window slides with ``stride`` over the padded image."""
    _, h, w = _spatial(shape, name)
    return (_conv.conv_output_size(h, kernel, stride, pad), _conv.conv_output_size(w, kernel, stride, pad))


@dataclass(frozen=True)
class Conv:
    """``out_channels`` filters of size ``kernel`` x ``kernel``."""
    out_channels: int
    kernel: int
    stride: int = 1
    pad: int = 0
    bias: bool = True

    def describe(self):
        return f"conv {self.kernel}x{self.kernel}/{self.stride}, {self.out_channels}"

    def output_shape(self, shape):
        return (self.out_channels,) + _sliding_window_hw(shape, self.kernel, self.stride, self.pad, "Conv")

    def params(self, shape):
        return _conv.conv_param_count(shape[0], self.out_channels, self.kernel, self.kernel, self.bias)

    def macs(self, shape):
        _, oh, ow = self.output_shape(shape)
        return _conv.conv_macs(shape[0], self.out_channels, self.kernel, self.kernel, oh, ow)

    def window(self):
        return (self.kernel, self.stride)


@dataclass(frozen=True)
class Pool:
    """Max or average pooling over ``kernel`` x ``kernel`` windows (no parameters)."""
    kernel: int
    stride: int
    pad: int = 0
    kind: str = "max"

    def describe(self):
        return f"{self.kind} pool {self.kernel}x{self.kernel}/{self.stride}"

    def output_shape(self, shape):
        return (shape[0],) + _sliding_window_hw(shape, self.kernel, self.stride, self.pad, "Pool")

    def params(self, shape):
        return 0

    def macs(self, shape):
        return 0

    def window(self):
        return (self.kernel, self.stride)


class _ShapeKeeping:
    """A layer with no window that keeps the shape (normalization, activation)."""

    def output_shape(self, shape):
        return shape

    def params(self, shape):
        return 0

    def macs(self, shape):
        return 0

    def window(self):
        return (1, 1)


@dataclass(frozen=True)
class BatchNorm(_ShapeKeeping):
    """Batch normalization: a scale and a shift per channel (running statistics are not learned)."""

    def describe(self):
        return "batch norm"

    def params(self, shape):
        return 2 * shape[0]


@dataclass(frozen=True)
class Activation(_ShapeKeeping):
    """An elementwise nonlinearity such as ``"relu"`` or ``"tanh"``."""
    name: str = "relu"

    def describe(self):
        return self.name


class _Reshaping:
    """A layer without parameters or arithmetic that changes the shape and ends the spatial stack."""

    def params(self, shape):
        return 0

    def macs(self, shape):
        return 0

    def window(self):
        return None


@dataclass(frozen=True)
class GlobalAvgPool(_Reshaping):
    """Average each channel over the whole image: (C, H, W) -> (C,)."""

    def describe(self):
        return "global avg pool"

    def output_shape(self, shape):
        return (_spatial(shape, "GlobalAvgPool")[0],)


@dataclass(frozen=True)
class Flatten(_Reshaping):
    """(C, H, W) -> (C*H*W,)."""

    def describe(self):
        return "flatten"

    def output_shape(self, shape):
        c, h, w = _spatial(shape, "Flatten")
        return (c * h * w,)


@dataclass(frozen=True)
class Linear:
    """``x @ w + b`` with ``out_features`` outputs, on a flat input (D,)."""
    out_features: int
    bias: bool = True

    def describe(self):
        return f"linear {self.out_features}"

    def output_shape(self, shape):
        if len(shape) != 1:
            raise ValueError(f"Linear needs a flat input (D,), got {shape}; add a Flatten or GlobalAvgPool first")
        return (self.out_features,)

    def params(self, shape):
        return _arch.linear_param_count(shape[0], self.out_features, self.bias)

    def macs(self, shape):
        return shape[0] * self.out_features

    def window(self):
        return None


# -- layers with branches ---------------------------------------------------------------

def _run(layers, shape):
    """Push ``shape`` through ``layers``: returns ``(output_shape, params, macs)``."""
    params = macs = 0
    for layer in layers:
        params += layer.params(shape)
        macs += layer.macs(shape)
        shape = layer.output_shape(shape)
    return shape, params, macs


def _branch_window(layers):
    """A branch seen from outside: one window as wide as its receptive field, with its total stride."""
    pairs = windows(layers)
    stride = 1
    for _, s in pairs:
        stride *= s
    return (_arch.receptive_field(pairs), stride)


class _Branches:
    """Shared by ``Add`` and ``Concat``: branches run on the same input."""

    def __init__(self, *branches):
        self.branches = tuple(tuple(branch) for branch in branches)

    def __eq__(self, other):
        return type(self) is type(other) and self.branches == other.branches

    def _outputs(self, shape):
        return [_run(branch, shape) for branch in self.branches]

    def params(self, shape):
        return sum(params for _, params, _ in self._outputs(shape))

    def macs(self, shape):
        return sum(macs for _, _, macs in self._outputs(shape))

    def window(self):
        branch_windows = [_branch_window(branch) for branch in self.branches]
        if len({stride for _, stride in branch_windows}) != 1:
            raise ValueError(f"the branches of {self.describe()} have different strides {branch_windows}")
        return max(branch_windows)


class Add(_Branches):
    """The sum of the branches' outputs (all of the same shape), e.g. ``Add(body, [])`` for a residual block."""

    def describe(self):
        return "add(" + " | ".join(_describe_branch(b) for b in self.branches) + ")"

    def output_shape(self, shape):
        shapes = {out for out, _, _ in self._outputs(shape)}
        if len(shapes) != 1:
            raise ValueError(f"Add needs branches with equal output shapes, got {sorted(shapes)}")
        return shapes.pop()


class Concat(_Branches):
    """The branches' outputs stacked along the channels (same height and width), e.g. an Inception module."""

    def describe(self):
        return "concat(" + " | ".join(_describe_branch(b) for b in self.branches) + ")"

    def output_shape(self, shape):
        shapes = [_spatial(out, "Concat") for out, _, _ in self._outputs(shape)]
        if len({out[1:] for out in shapes}) != 1:
            raise ValueError(f"Concat needs branches with equal height and width, got {shapes}")
        return (sum(out[0] for out in shapes),) + shapes[0][1:]


def _describe_branch(layers):
    return "identity" if not layers else ", ".join(layer.describe() for layer in layers)


class Block:
    """A named group of layers, run one after another (a stage, a residual block, an Inception module)."""

    def __init__(self, name, layers):
        self.name = name
        self.layers = tuple(layers)

    def __eq__(self, other):
        return type(self) is type(other) and (self.name, self.layers) == (other.name, other.layers)

    def describe(self):
        return self.name

    def output_shape(self, shape):
        return _run(self.layers, shape)[0]

    def params(self, shape):
        return _run(self.layers, shape)[1]

    def macs(self, shape):
        return _run(self.layers, shape)[2]

    def window(self):
        if any(layer.window() is None for layer in self.layers):
            return None
        return _branch_window(self.layers)


# -- counting -----------------------------------------------------------------------------

def count(layers, input_shape):
    """``(params, macs)`` of a network for one image of ``input_shape``."""
    _, params, macs = _run(layers, tuple(input_shape))
    return params, macs


def summary(layers, input_shape):
    """One row per top-level layer: ``{"layer", "output", "params", "macs"}``."""
    rows, shape = [], tuple(input_shape)
    for layer in layers:
        rows.append({"layer": layer.describe(), "output": layer.output_shape(shape),
                     "params": layer.params(shape), "macs": layer.macs(shape)})
        shape = rows[-1]["output"]
    return rows


def format_summary(rows, width=34):
    """A text table of ``summary`` rows with totals."""
    lines = [f"{'layer':<{width}} {'output':>15} {'params':>12} {'MACs':>15}"]
    for row in rows:
        name = row["layer"] if len(row["layer"]) <= width else row["layer"][:width - 3] + "..."
        output = "x".join(str(n) for n in row["output"])
        lines.append(f"{name:<{width}} {output:>15} {row['params']:>12,} {row['macs']:>15,}")
    total_params = sum(row["params"] for row in rows)
    total_macs = sum(row["macs"] for row in rows)
    lines.append(f"{'total':<{width}} {'':>15} {total_params:>12,} {total_macs:>15,}")
    return "\n".join(lines)


def windows(layers):
    """``(kernel, stride)`` of every layer up to the first one that sees the whole image (flatten, global pool).

    Blocks are opened up; a layer with branches is one window (``Add``, ``Concat``); layers
    that change nothing, with window ``(1, 1)`` (activations, batch norm, 1x1 convs), are left out.
    """
    pairs = []
    for layer in layers:
        if isinstance(layer, Block):
            inner = windows(layer.layers)
            pairs += inner
            if any(item.window() is None for item in layer.layers):
                break
            continue
        window = layer.window()
        if window is None:
            break
        if window != (1, 1):
            pairs.append(window)
    return pairs


def network_receptive_field(layers):
    """Receptive field of the last spatial layer, in input pixels (the largest over parallel branches)."""
    return _arch.receptive_field(windows(layers))


# -- the networks ---------------------------------------------------------------------------

RELU = Activation("relu")


def lenet5():
    """LeNet-5 (LeCun et al., 1998) for a 1x32x32 image, in its common modern form.

    The paper's C3 connects each of its 16 maps to only some of S2's 6 maps
    (1,516 parameters instead of 2,416), its subsampling layers S2 and S4 have a
    trainable scale and bias per map (12 and 32 parameters) and its output
    layer is a fixed RBF layer; here C3 is a full conv, pooling has no
    parameters and the output is a linear layer. C5 is a 5x5 conv on a 5x5
    input, i.e. a linear layer 400 -> 120.
    """
    tanh = Activation("tanh")
    return [
        Conv(6, 5), tanh, Pool(2, 2, kind="avg"),
        Conv(16, 5), tanh, Pool(2, 2, kind="avg"),
        Conv(120, 5), tanh, Flatten(),
        Linear(84), tanh,
        Linear(10),
    ]


def alexnet():
    """AlexNet as in torchvision (one-GPU variant with 64-192-384-256-256 channels), 3x224x224.

    torchvision's adaptive average pooling to 6x6 is left out: at 224x224 the
    feature map is already 6x6. Dropout has no parameters and is left out.
    """
    return [
        Conv(64, 11, stride=4, pad=2), RELU, Pool(3, 2),
        Conv(192, 5, pad=2), RELU, Pool(3, 2),
        Conv(384, 3, pad=1), RELU,
        Conv(256, 3, pad=1), RELU,
        Conv(256, 3, pad=1), RELU, Pool(3, 2),
        Flatten(),
        Linear(4096), RELU,
        Linear(4096), RELU,
        Linear(1000),
    ]


def vgg16():
    """VGG-16 (configuration D of Simonyan & Zisserman, 2015), 3x224x224: thirteen 3x3 convs, five 2x2 pools."""
    layers = []
    for n_convs, channels in ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)):
        stage = []
        for _ in range(n_convs):
            stage += [Conv(channels, 3, pad=1), RELU]
        layers.append(Block(f"{n_convs} x conv 3x3, {channels} + pool", stage + [Pool(2, 2)]))
    return layers + [Flatten(), Linear(4096), RELU, Linear(4096), RELU, Linear(1000)]


def _conv_unit(channels, kernel, stride=1, pad=0, batch_norm=False):
    """Conv + ReLU, or (batch_norm) conv without bias + BN + ReLU."""
    if batch_norm:
        return [Conv(channels, kernel, stride, pad, bias=False), BatchNorm(), RELU]
    return [Conv(channels, kernel, stride, pad), RELU]


# name, then the six numbers of the paper's Table 1:
# #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
INCEPTION_V1 = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}


def inception(name, n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj, batch_norm=False, big_kernel=5):
    """An Inception module: four branches concatenated; 1x1 convs shrink the channels before the big kernels."""
    unit = partial(_conv_unit, batch_norm=batch_norm)
    return Block(f"inception ({name})", [Concat(
        unit(n1x1, 1),
        unit(n3x3_reduce, 1) + unit(n3x3, 3, pad=1),
        unit(n5x5_reduce, 1) + unit(n5x5, big_kernel, pad=big_kernel // 2),
        [Pool(3, 1, pad=1)] + unit(pool_proj, 1),
    )])


def googlenet(torchvision_variant=False):
    """GoogLeNet / Inception v1 (Szegedy et al., 2015), 3x224x224, without the auxiliary classifiers.

    The paper's convs have biases (its local response normalization has no
    parameters and is left out). ``torchvision_variant=True`` gives
    torchvision's ``googlenet``: batch norm after every conv (convs without
    bias) and a 3x3 conv where the paper has the 5x5 one (a known quirk kept
    for its pretrained weights).
    """
    unit = partial(_conv_unit, batch_norm=torchvision_variant)
    big_kernel = 3 if torchvision_variant else 5

    def module(name):
        return inception(name, *INCEPTION_V1[name], batch_norm=torchvision_variant, big_kernel=big_kernel)

    pool = Pool(3, 2, pad=1)
    return [
        Block("stem: conv 7x7/2, 64 + pool", unit(64, 7, stride=2, pad=3) + [pool]),
        Block("conv 1x1, 64 + conv 3x3, 192 + pool", unit(64, 1) + unit(192, 3, pad=1) + [pool]),
        module("3a"), module("3b"), pool,
        module("4a"), module("4b"), module("4c"), module("4d"), module("4e"), pool,
        module("5a"), module("5b"),
        GlobalAvgPool(), Linear(1000),
    ]


def _resnet_stem():
    return Block("stem: conv 7x7/2, 64 + pool", [
        Conv(64, 7, stride=2, pad=3, bias=False), BatchNorm(), RELU, Pool(3, 2, pad=1),
    ])


def _shortcut(in_channels, out_channels, stride):
    """Identity when shapes match, else a strided 1x1 conv (+ BN) that makes them match."""
    if stride == 1 and in_channels == out_channels:
        return []
    return [Conv(out_channels, 1, stride=stride, bias=False), BatchNorm()]


def basic_block(in_channels, channels, stride=1):
    """ResNet-18/34 block: relu(bn(conv3x3(relu(bn(conv3x3(x))))) + shortcut(x))."""
    body = [
        Conv(channels, 3, stride=stride, pad=1, bias=False), BatchNorm(), RELU,
        Conv(channels, 3, pad=1, bias=False), BatchNorm(),
    ]
    return [Add(body, _shortcut(in_channels, channels, stride)), RELU]


def bottleneck_block(in_channels, channels, stride=1, stride_on_3x3=True):
    """ResNet-50 block: 1x1 (shrink to ``channels``) -> 3x3 -> 1x1 (expand to ``4 * channels``), plus shortcut."""
    first_stride, middle_stride = (1, stride) if stride_on_3x3 else (stride, 1)
    body = [
        Conv(channels, 1, stride=first_stride, bias=False), BatchNorm(), RELU,
        Conv(channels, 3, stride=middle_stride, pad=1, bias=False), BatchNorm(), RELU,
        Conv(4 * channels, 1, bias=False), BatchNorm(),
    ]
    return [Add(body, _shortcut(in_channels, 4 * channels, stride)), RELU]


def _resnet(block, expansion, blocks_per_stage, **block_options):
    layers, in_channels = [_resnet_stem()], 64
    for stage, (n_blocks, channels) in enumerate(zip(blocks_per_stage, (64, 128, 256, 512))):
        stage_layers = []
        for index in range(n_blocks):
            stride = 2 if stage > 0 and index == 0 else 1
            stage_layers += block(in_channels, channels, stride, **block_options)
            in_channels = expansion * channels
        layers.append(Block(f"layer{stage + 1}: {n_blocks} blocks, {in_channels} channels", stage_layers))
    return layers + [GlobalAvgPool(), Linear(1000)]


def resnet18():
    """ResNet-18 (He et al., 2016) as in torchvision, 3x224x224: four stages of two basic blocks."""
    return _resnet(basic_block, 1, (2, 2, 2, 2))


def resnet50(stride_on_3x3=True):
    """ResNet-50 as in torchvision, 3x224x224: stages of 3, 4, 6 and 3 bottleneck blocks.

    torchvision ("ResNet v1.5") downsamples in the 3x3 conv of a stage's first
    block; the paper did it in the first 1x1 conv (``stride_on_3x3=False``):
    same parameters, fewer MACs (3.8 G in the paper's Table 1 instead of 4.1 G).
    """
    return _resnet(bottleneck_block, 4, (3, 4, 6, 3), stride_on_3x3=stride_on_3x3)


def dense_layer(growth, bottleneck_width=4):
    """DenseNet-BC layer: BN-ReLU-conv1x1 (to ``4 * growth``) - BN-ReLU-conv3x3 (to ``growth``), concatenated to its input."""
    body = [
        BatchNorm(), RELU, Conv(bottleneck_width * growth, 1, bias=False),
        BatchNorm(), RELU, Conv(growth, 3, pad=1, bias=False),
    ]
    return Concat([], body)


def densenet121(growth=32):
    """DenseNet-121 (Huang et al., 2017) as in torchvision, 3x224x224: dense blocks of 6, 12, 24 and 16 layers.

    A transition (BN-ReLU-conv1x1 halving the channels, 2x2 average pool)
    follows every dense block but the last.
    """
    layers = [Block("stem: conv 7x7/2, 64 + pool", [
        Conv(64, 7, stride=2, pad=3, bias=False), BatchNorm(), RELU, Pool(3, 2, pad=1),
    ])]
    channels = 64
    blocks = (6, 12, 24, 16)
    for index, n_layers in enumerate(blocks):
        new_channels = channels + growth * n_layers  # every layer concatenates growth new channels
        layers.append(Block(f"dense block {index + 1}: {n_layers} layers, {channels} -> {new_channels}",
                            [dense_layer(growth) for _ in range(n_layers)]))
        channels = new_channels
        if index < len(blocks) - 1:
            channels //= 2
            layers.append(Block(f"transition {index + 1}: -> {channels}", [
                BatchNorm(), RELU, Conv(channels, 1, bias=False), Pool(2, 2, kind="avg"),
            ]))
    return layers + [BatchNorm(), RELU, GlobalAvgPool(), Linear(1000)]
