import numpy as np
import pytest
import torch
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.data import Dataset, make_split, prepare
from nooverfit.models import cnn, mlp
from nooverfit.train import fit
from nooverfit.transfer import (
    FrozenBatchNorm2d,
    GradualUnfreeze,
    adapt_channels,
    find_blocks,
)
from nooverfit.transfer import (
    prepare as prepare_transfer,
)
from nooverfit.transfer.blocks import snapshot


def _data(n=60, classes=3, shape=(1, 8, 8), seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.normal(size=(n, *shape)).astype(np.float32) + y[:, None, None, None]
    ds = Dataset("toy", x, y.astype(np.int64), tuple(map(str, range(classes))), "image")
    return prepare(ds, make_split(ds.y, test=0.2, val=0.2, seed=seed), device="cpu")


def _source(classes=5, seed=0):
    torch.manual_seed(seed)
    model = cnn((1, 8, 8), classes, channels=4, depth=2, batchnorm=True)
    with torch.no_grad():  # non-trivial running statistics to keep
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
    return model


CONFIG = RunConfig(model="cnn", width=4, depth=2, batchnorm=True, epochs=3, lr=1e-2)


def test_find_blocks_groups_cnn_layers_by_weight_layer():
    blocks = find_blocks(cnn((1, 8, 8), 5, channels=4, depth=2, batchnorm=True))
    # Conv BN ReLU Pool | Conv BN ReLU Pool Flatten | Linear
    assert [b.modules for b in blocks] == [
        ("0", "1", "2", "3"),
        ("4", "5", "6", "7", "8"),
        ("9",),
    ]
    assert [b.name for b in find_blocks(mlp(64, 5, width=8))] == ["1", "3", "5"]


def test_find_blocks_split_merges_head():
    model = nn.Sequential()
    model.add_module("body", nn.Linear(4, 4))
    model.add_module("neck", nn.Linear(4, 4))
    model.add_module("fc", nn.Linear(4, 2))
    blocks = find_blocks(model, split="neck")
    assert [b.modules for b in blocks] == [("body",), ("neck", "fc")]
    with pytest.raises(ValueError, match="split must name"):
        find_blocks(model, split="nope")


@pytest.mark.parametrize("strategy", ["head", "io"])
def test_prepare_frozen_params_and_bn_stats_bit_identical_after_fit(strategy):
    model = _source()
    transfer = prepare_transfer(model, strategy=strategy, classes=3)
    before = snapshot(model)
    fit(model, _data(), CONFIG, optimizer=transfer.optimizer(CONFIG))
    after = snapshot(model)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    # Conv0 is at "0", its BN "1", conv1 "4", BN "5", the output Linear "9"
    expected = {"9.weight", "9.bias"}
    if strategy == "io":
        expected |= {"0.weight", "1.weight", "1.bias"}  # conv0 feeds batch norm: no bias
        expected |= {"1.running_mean", "1.running_var", "1.num_batches_tracked"}
    assert changed == expected
    assert isinstance(model[5], FrozenBatchNorm2d) and not model[5].training


def test_prepare_train_bn_trains_affine_but_keeps_stats():
    model = _source()
    transfer = prepare_transfer(model, strategy="head", classes=3, train_bn=True)
    before = snapshot(model)
    fit(model, _data(), CONFIG, optimizer=transfer.optimizer(CONFIG))
    after = snapshot(model)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"9.weight", "9.bias", "1.weight", "1.bias", "5.weight", "5.bias"}


def test_frozen_batchnorm_matches_eval_mode_reference():
    bn = nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([0.5, -1.0, 2.0]))
        bn.running_var.copy_(torch.tensor([2.0, 0.5, 1.0]))
    x = torch.randn(4, 3, 5, 5)
    expected = (x - bn.running_mean.view(1, 3, 1, 1)) / torch.sqrt(
        bn.running_var.view(1, 3, 1, 1) + bn.eps
    )
    model = nn.Sequential(nn.Conv2d(3, 3, 1), bn, nn.Flatten(), nn.Linear(75, 2))
    prepare_transfer(model, strategy="head")
    model.train()
    assert not bn.training
    torch.testing.assert_close(bn(x), expected)


def test_prepare_full_uses_lower_rate_for_pretrained_blocks():
    transfer = prepare_transfer(_source(), strategy="full", classes=3)
    opt = transfer.optimizer(CONFIG)
    rates = {g["name"]: g["lr"] for g in opt.param_groups}
    assert rates == pytest.approx({"output": 1e-2, "4": 1e-3, "0": 1e-3})
    assert len(transfer.trainable()) == len(list(transfer.model.parameters()))


def test_prepare_discriminative_rates_shrink_with_depth():
    transfer = prepare_transfer(
        mlp(64, 5, width=8, depth=3), strategy="full", classes=2, lr_scale=0.5, lr_decay=0.1
    )
    opt = transfer.optimizer(CONFIG.replace(weight_decay=0.01))
    rates = {g["name"]: g["lr"] for g in opt.param_groups}
    # blocks input-first "1", "3", "5", head "7" (only the new output layer, at lr);
    # block d below the head: lr * 0.5 * 0.1**d
    assert rates == pytest.approx({"output": 1e-2, "5": 5e-4, "3": 5e-5, "1": 5e-6})
    decays = {(g["name"], g["params"][0].ndim): g["weight_decay"] for g in opt.param_groups}
    assert decays[("1", 2)] == 0.01 and decays[("1", 1)] == 0.0


def test_gradual_unfreezes_one_block_from_the_top_every_n_epochs():
    model = _source()
    transfer = prepare_transfer(model, strategy="gradual", classes=3, every=2)
    (callback,) = transfer.callbacks()
    assert isinstance(callback, GradualUnfreeze)
    first = snapshot(model)
    fit(model, _data(), CONFIG.replace(epochs=5), callbacks=[callback],
        optimizer=transfer.optimizer(CONFIG))  # fmt: skip
    assert callback.unfrozen == ["4", "0"]  # after epochs 1 and 3
    assert type(model[5]) is nn.BatchNorm2d and type(model[1]) is nn.BatchNorm2d
    assert not torch.equal(first["0.weight"], model[0].weight)


def test_adapt_channels_gives_grey_images_the_same_response():
    torch.manual_seed(0)
    rgb = nn.Conv2d(3, 4, 3, padding=1)
    grey = adapt_channels(rgb, 1)
    x = torch.randn(2, 1, 6, 6)
    torch.testing.assert_close(grey(x), rgb(x.expand(-1, 3, -1, -1)))


def test_prepare_new_output_and_resized_input():
    model = _source(classes=5)
    transfer = prepare_transfer(model, strategy="head", classes=7, in_size=(8, 8))
    assert transfer.output_layer == "9"
    assert model(torch.randn(2, 1, 16, 16)).shape == (2, 7)
    assert set(model.state_dict()) == set(_source().state_dict())


def test_prepare_takes_a_loaded_pretrained_network():
    """Review i39: the README's ``as_pretrained`` result given to ``prepare`` raised
    AttributeError 'named_children'; it stands for its network now."""
    from nooverfit.transfer.backbones import Pretrained

    model = _source(classes=5)
    transfer = prepare_transfer(Pretrained(model, (1, 8, 8), "src"), strategy="head", classes=7)
    assert transfer.model is model and model(torch.randn(2, 1, 8, 8)).shape == (2, 7)
    with pytest.raises(TypeError, match=r"model must be an nn\.Module or a loaded pretrained"):
        prepare_transfer("source.pt", strategy="head")


def test_prepare_rejects_unknown_strategy():
    with pytest.raises(ValueError, match="strategy must be one of"):
        prepare_transfer(_source(), strategy="tail")


def test_prepare_io_on_mobilenet_trains_stem_and_output_only():
    import torchvision

    model = torchvision.models.mobilenet_v3_small(weights=None)
    transfer = prepare_transfer(model, strategy="io", classes=3, in_channels=1)
    assert transfer.input_layer == "features.0.0" and transfer.output_layer == "classifier.3"
    assert transfer.trainable() == [
        "features.0.0.weight",
        "features.0.1.weight",
        "features.0.1.bias",
        "classifier.3.weight",
        "classifier.3.bias",
    ]
    model.train()
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 3)
    assert not model.features[1].block[0][1].training  # frozen BN inside a frozen stage
