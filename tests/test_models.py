from __future__ import annotations

import pytest
import torch
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.models import LogSpectrogram, Network, build_model, cnn, mlp
from nooverfit.seeding import seeded


def _layout(model: nn.Module) -> list[str]:
    return [type(m).__name__ for m in model.children()]


def test_mlp_layout_and_parameter_count():
    model = mlp(64, 10, width=32, depth=2, dropout=0.3, batchnorm=True)
    assert _layout(model) == [
        "Flatten",
        *["Linear", "BatchNorm1d", "ReLU", "Dropout"] * 2,
        "Linear",
    ]
    # 64*32 + 2*32 (BN) + 32*32 + 2*32 + (32*10 + 10): no bias before batch norm
    assert model.num_parameters == 2048 + 64 + 1024 + 64 + 330
    assert [m.bias is None for m in model if isinstance(m, nn.Linear)] == [True, True, False]
    plain = mlp(64, 10, width=32, depth=2)  # no batch norm: biases kept
    assert all(m.bias is not None for m in plain if isinstance(m, nn.Linear))
    assert model.num_parameters == sum(p.numel() for p in model.parameters())


def test_mlp_depth_zero_is_logistic_regression():
    model = mlp(5, 3, depth=0)
    assert _layout(model) == ["Flatten", "Linear"] and model.num_parameters == 18


def test_mlp_flattens_image_input():
    model = mlp(64, 10, width=8)
    assert model(torch.zeros(4, 1, 8, 8)).shape == (4, 10)


def test_cnn_layout_output_and_parameter_count():
    model = cnn((1, 8, 8), 10, channels=4, depth=2, dropout=0.2, batchnorm=True)
    assert _layout(model) == [
        *["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Dropout"] * 2,
        "Flatten",
        "Linear",
    ]
    assert model(torch.zeros(3, 1, 8, 8)).shape == (3, 10)
    # conv1 1->4: 36, bn 8; conv2 4->8: 288, bn 16; linear 8*2*2*10 + 10 (no conv biases)
    assert model.num_parameters == 36 + 8 + 288 + 16 + 330


def test_cnn_two_convs_per_block_layout_and_parameter_count():
    model = cnn((1, 8, 8), 10, channels=4, depth=2, batchnorm=True, convs=2)
    assert _layout(model) == [
        *["Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"] * 2,
        "Flatten",
        "Linear",
    ]
    assert model(torch.zeros(3, 1, 8, 8)).shape == (3, 10)
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    assert [tuple(c.weight.shape) for c in convs] == [
        (4, 1, 3, 3),
        (4, 4, 3, 3),
        (8, 4, 3, 3),
        (8, 8, 3, 3),
    ]
    assert all(c.bias is None for c in convs)  # each feeds a batch norm, whose beta shifts
    # convs 36 + 144 + 288 + 576 (no biases), 4 BNs 8 + 8 + 16 + 16, linear 8*2*2*10 + 10
    assert model.num_parameters == 1044 + 48 + 330
    plain = cnn((1, 8, 8), 10, channels=4, depth=2, convs=2)  # no batch norm: biases kept
    assert all(m.bias is not None for m in plain if isinstance(m, nn.Conv2d))
    assert plain.num_parameters == 1044 + 4 + 4 + 8 + 8 + 330


def test_cnn_one_conv_per_block_before_batchnorm_has_no_bias():
    a = cnn((1, 8, 8), 10, channels=4, batchnorm=True, convs=1)
    assert all(m.bias is None for m in a if isinstance(m, nn.Conv2d))
    assert all(m.bias is not None for m in cnn((1, 8, 8), 10) if isinstance(m, nn.Conv2d))


def test_cnn_rejects_bad_convs():
    with pytest.raises(ValueError, match="convs must be an integer >= 1, got 0"):
        cnn((1, 8, 8), 2, convs=0)


def test_cnn_stops_pooling_at_small_maps():
    model = cnn((3, 8, 8), 5, channels=2, depth=4)
    assert sum(isinstance(m, nn.MaxPool2d) for m in model) == 2
    assert model(torch.zeros(2, 3, 8, 8)).shape == (2, 5)


def test_cnn_rejects_non_image_shapes():
    with pytest.raises(ValueError, match=r"cnn needs image inputs \(C, H, W\), got shape \(20,\)"):
        cnn((20,), 2)


@pytest.mark.parametrize(
    "make", [lambda: mlp(4, 2, dropout=1.0), lambda: cnn((1, 8, 8), 2, dropout=-0.5)]
)
def test_models_reject_bad_dropout(make):
    with pytest.raises(ValueError, match="dropout must be in"):
        make()


def test_build_model_is_seeded_and_leaves_global_rng_alone():
    config = RunConfig(width=8, seed=3)
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    a = build_model(config, (1, 8, 8), 10)
    assert torch.equal(torch.random.get_rng_state(), state)
    b = build_model(config, (1, 8, 8), 10)
    c = build_model(config.replace(seed=4), (1, 8, 8), 10)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(x, y), name
    assert not torch.equal(a[1].weight, c[1].weight)
    # the same as building it by hand after manual_seed
    torch.manual_seed(3)
    reference = mlp(64, 10, width=8)
    assert torch.equal(a[1].weight, reference[1].weight)


def test_build_model_follows_config():
    model = build_model(RunConfig(model="cnn", width=4, depth=1, batchnorm=True), (1, 8, 8), 10)
    assert isinstance(model, Network)
    assert _layout(model) == ["Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Flatten", "Linear"]
    deeper = build_model(RunConfig(model="cnn", width=4, depth=1, convs=2), (1, 8, 8), 10)
    assert _layout(deeper) == [
        "Conv2d",
        "ReLU",
        "Conv2d",
        "ReLU",
        "MaxPool2d",
        "Flatten",
        "Linear",
    ]
    tabular = build_model(RunConfig(width=6, depth=1, dropout=0.5), (7,), 3)
    assert _layout(tabular) == ["Flatten", "Linear", "ReLU", "Dropout", "Linear"]
    assert tabular[1].in_features == 7 and tabular[-1].out_features == 3


def test_build_model_puts_a_log_spectrogram_before_audio_networks():
    waves = torch.randn(3, 2000)
    config = RunConfig(width=8, seed=4)
    net = build_model(config, (2000,), 4, kind="audio")
    assert _layout(net)[:2] == ["LogSpectrogram", "Flatten"]
    front = LogSpectrogram()
    assert front(waves).shape == (3, *front.out_shape(2000)) == (3, 65, 32)
    plain = build_model(config, (65, 32), 4)  # the same body, initialized alike
    assert net(waves).shape == (3, 4)
    torch.testing.assert_close(net(waves), plain(front(waves)))
    cnn_net = build_model(config.replace(model="cnn", width=4), (2000,), 4, kind="audio")
    assert cnn_net(waves).shape == (3, 4) and cnn_net[0].out_shape(2000) == (1, 65, 32)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"depth": 0},
        {"depth": 3, "dropout": 0.3},
        {"batchnorm": True, "width": 16},
    ],
)
def test_build_model_of_a_plain_mlp_is_mlp(options):
    # one member, no PLR: build_model's tabular_mlp is mlp()'s layers, order and weights
    config = RunConfig(model="mlp", **options)
    built = build_model(config, (3, 4), 5)
    with seeded(config.init_seed):
        reference = mlp(12, 5, **options)
    assert type(built) is Network
    assert [type(m) for m in built] == [type(m) for m in reference]
    for (name, a), (ref_name, b) in zip(
        built.state_dict().items(), reference.state_dict().items(), strict=True
    ):
        assert name == ref_name
        torch.testing.assert_close(a, b, rtol=0, atol=0)
