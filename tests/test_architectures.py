"""coursekit.architectures against published parameter, MAC and receptive-field figures.

The published figures are typed in here from their sources, independently of
the code under test:

- torchvision model cards (``torchvision.models.*_Weights.IMAGENET1K_V1.meta``):
  ``num_params`` is an exact count; ``_ops`` is in GFLOPS as torchvision counts
  them, one per multiply-accumulate of conv and linear layers, printed with 3 decimals
  (VGG-16: 2 decimals).
- He et al., "Deep Residual Learning for Image Recognition" (CVPR 2016), Table 1:
  1.8 and 3.8 x 10^9 multiply-adds for ResNet-18 and ResNet-50 (the original,
  "v1", ResNet-50 with its stride in the first 1x1 conv of a stage).
- LeCun et al., "Gradient-Based Learning Applied to Document Recognition" (1998),
  Sec. II.B: C1 156, C3 1,516, C5 48,120, F6 10,164 trainable parameters;
  S2 12 and S4 32 (a trainable scale and bias per map); about 60,000 in total.
- Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural
  Networks" (Distill, 2019), Table 1: AlexNet 195, VGG-16 212, ResNet-50 (v1) 483 pixels.

Tolerance: exact counts are compared exactly; a rounded figure is matched to
within one unit of its last printed digit (the source does not say whether it
rounded or truncated), e.g. 1.8e9 +- 0.1e9 and 0.714e9 +- 0.001e9.
"""

import pytest

from coursekit import architectures as A
from coursekit import nn

IMAGENET = (3, 224, 224)

# network, torchvision num_params (exact), torchvision _ops in G, one unit of its last digit
TORCHVISION = [
    (A.alexnet, 61_100_840, 0.714, 0.001),
    (A.vgg16, 138_357_544, 15.47, 0.01),
    (lambda: A.googlenet(torchvision_variant=True), 6_624_904, 1.498, 0.001),
    (A.resnet18, 11_689_512, 1.814, 0.001),
    (A.resnet50, 25_557_032, 4.089, 0.001),
    (A.densenet121, 7_978_856, 2.834, 0.001),
]


@pytest.mark.parametrize("make, params, gmacs, unit", TORCHVISION, ids=["alexnet", "vgg16", "googlenet", "resnet18", "resnet50", "densenet121"])
def test_counts_match_torchvision_model_cards(make, params, gmacs, unit):
    ours_params, ours_macs = A.count(make(), IMAGENET)
    assert ours_params == params
    assert abs(ours_macs / 1e9 - gmacs) <= unit


@pytest.mark.parametrize("make, gmacs", [(A.resnet18, 1.8), (lambda: A.resnet50(stride_on_3x3=False), 3.8)], ids=["resnet18", "resnet50_v1"])
def test_macs_match_the_resnet_paper(make, gmacs):
    _, macs = A.count(make(), IMAGENET)
    assert abs(macs / 1e9 - gmacs) <= 0.1


def test_resnet50_stride_placement_changes_macs_not_params():
    v1, v15 = A.count(A.resnet50(stride_on_3x3=False), IMAGENET), A.count(A.resnet50(), IMAGENET)
    assert v1[0] == v15[0]
    assert v1[1] < v15[1]


def test_lenet5_reconciles_with_the_paper():
    rows = A.summary(A.lenet5(), (1, 32, 32))
    params = [row["params"] for row in rows if row["params"]]
    c1, c3, c5, f6, output = params
    assert (c1, c5, f6) == (156, 48_120, 10_164)
    # Ours: full C3 (16 maps x 6 inputs), parameter-free pooling, a linear output layer (84 x 10 + 10).
    assert c3 == 16 * (6 * 25 + 1) and output == 850
    paper_total = 156 + 12 + 1_516 + 32 + 48_120 + 10_164
    assert paper_total == 60_000
    assert sum(params) == paper_total - 1_516 + c3 - 12 - 32 + output == 61_706
    assert rows[-1]["output"] == (10,)


def test_googlenet_paper_versus_torchvision_variant():
    # The variants differ by (a) 5x5 instead of 3x3 convs in the third branch and
    # (b) conv bias (C per conv) instead of batch norm (2C per conv).
    paper, _ = A.count(A.googlenet(), IMAGENET)
    variant, _ = A.count(A.googlenet(torchvision_variant=True), IMAGENET)
    bigger_kernels = sum((25 - 9) * reduce * out for _, _, _, reduce, out, _ in A.INCEPTION_V1.values())
    conv_channels = 64 + 64 + 192 + sum(sum(module) for module in A.INCEPTION_V1.values())
    assert paper - variant == bigger_kernels - conv_channels


@pytest.mark.parametrize("make, field", [(A.alexnet, 195), (A.vgg16, 212), (lambda: A.resnet50(stride_on_3x3=False), 483)],
                         ids=["alexnet", "vgg16", "resnet50_v1"])
def test_receptive_fields_match_araujo_et_al(make, field):
    assert A.network_receptive_field(make()) == field


def test_output_shapes_end_in_1000_classes_and_stages_have_the_published_sizes():
    for make in (A.alexnet, A.vgg16, A.googlenet, A.resnet18, A.resnet50, A.densenet121):
        assert A.summary(make(), IMAGENET)[-1]["output"] == (1000,)
    shapes = [row["output"] for row in A.summary(A.resnet50(), IMAGENET)]
    assert shapes[:5] == [(64, 56, 56), (256, 56, 56), (512, 28, 28), (1024, 14, 14), (2048, 7, 7)]
    dense = [row["output"] for row in A.summary(A.densenet121(), IMAGENET) if row["layer"].startswith("dense")]
    assert dense == [(256, 56, 56), (512, 28, 28), (1024, 14, 14), (1024, 7, 7)]


def test_layers_by_hand():
    assert A.count([A.Conv(8, 3, pad=1)], (3, 5, 5)) == (8 * 27 + 8, 8 * 27 * 25)
    assert A.count([A.Flatten(), A.Linear(4)], (2, 3, 3)) == (18 * 4 + 4, 72)
    assert A.count([A.BatchNorm()], (7, 2, 2)) == (14, 0)
    block = A.Concat([], [A.Conv(3, 3, pad=1, bias=False)])
    assert A.summary([block], (2, 4, 4))[0]["output"] == (5, 4, 4)
    assert A.count([A.Add([A.Conv(2, 1)], [])], (2, 4, 4)) == (6, 2 * 2 * 16)
    # A branch acts as one window as wide as its receptive field.
    assert A.network_receptive_field([A.Add([A.Conv(1, 3, pad=1), A.Conv(1, 3, pad=1)], [])]) == 5
    assert A.network_receptive_field([A.Conv(1, 3)] * 4) == nn.receptive_field([(3, 1)] * 4)


def test_shape_errors_are_explained():
    with pytest.raises(ValueError, match="Flatten"):
        A.count([A.Linear(3)], (2, 4, 4))
    with pytest.raises(ValueError, match="Add"):
        A.count([A.Add([A.Conv(3, 1)], [])], (2, 4, 4))
    with pytest.raises(ValueError, match="Concat"):
        A.count([A.Concat([A.Conv(3, 3)], [])], (2, 4, 4))
