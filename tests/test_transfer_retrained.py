"""What each transfer strategy retrains and keeps frozen, read from the prepared network
(:mod:`nooverfit.transfer.retrained`) and checked against the weights a run actually
changes: the study's runs (``transfer_runs``) compared before and after training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.data import Dataset, make_split, prepare
from nooverfit.models import build_model
from nooverfit.transfer import Pretrained, Source, as_pretrained, transfer_model, transfer_runs
from nooverfit.transfer.retrained import retrained, retrained_words

SOURCE = RunConfig(model="cnn", width=4, depth=2, batchnorm=True)


def _data(channels: int = 1, size: int = 8, n: int = 48, classes: int = 3):
    rng = np.random.default_rng(0)
    y = np.arange(n) % classes
    x = rng.random((n, channels, size, size), dtype=np.float32) + y[:, None, None, None]
    ds = Dataset("toy", x, y.astype(np.int64), tuple(map(str, range(classes))), "image")
    return prepare(ds, make_split(ds.y, test=0.2, val=0.2, seed=0), device="cpu")


def _source(config: RunConfig = SOURCE) -> Source:
    torch.manual_seed(0)
    model = build_model(config, (1, 8, 8), 5)
    with torch.no_grad():  # running statistics worth keeping
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
    return Source(config, (1, 8, 8), 5, model.state_dict(), "toy-source")


def _pretrained(source: Source) -> Pretrained:
    return as_pretrained(source)


def _layers(said: tuple[str, ...]) -> set[str]:
    """``{"0", "9"}`` of ``("adapted input layer 0 (Conv2d 3→4)", "4 (Conv2d 4→8)")``."""
    return {s.split(" (")[0].split()[-1] for s in said}


@pytest.mark.parametrize(
    "settings",
    [{}, {"l2": 0.01}, {"optimizer": "sgd", "weight_decay": 0.01}, {"ema": 0.9}, {"mixup": 0.4}],
)
def test_transfer_runs_change_exactly_the_layers_the_strategy_retrains(settings):
    """Head and io runs of the study's hook, with the regularizers a baseline can carry:
    every weight of a frozen layer and its batch norm (statistics too) is bit-identical
    after training, every retrained layer moved."""
    source, data = _source(), _data()
    config = RunConfig(model="cnn", width=4, depth=2, epochs=2, lr=1e-2, seed=0, **settings)
    runs = transfer_runs(
        data, source=source, strategies=["head", "io"], base_config=config, scratch=False,
        check=False,
    )  # fmt: skip
    for run in runs:
        strategy = run.config.label.partition(":")[2]
        plan = retrained(transfer_model(_pretrained(source), data, strategy=strategy))
        changed = {k for k, v in run.state.items() if not torch.equal(v, source.state[k])}
        # Conv "0" feeds batch norm "1", conv "4" norm "5", the output Linear is "9"
        trained, frozen = _layers(plan.trained), _layers(plan.frozen)
        assert {k.split(".")[0] for k in changed if "weight" in k} >= trained
        if strategy == "head":
            assert trained == {"9"} and frozen == {"0", "4"}
            assert changed == {"9.weight", "9.bias"}
        else:
            assert trained == {"0", "9"} and frozen == {"4"}
            assert not any(k.startswith(("4.", "5.")) for k in changed)
            assert {"0.weight", "1.weight", "1.running_mean"} <= changed


def test_retrained_says_what_io_froze_and_names_adapted_and_new_layers():
    source = _pretrained(_source())
    plan = retrained(transfer_model(source, _data(channels=3, size=16), strategy="io"))
    assert plan.trained == (
        "adapted input layer 0 (Conv2d 3→4)",
        "new output layer 9 (Linear 32→3)",
    )
    assert plan.frozen == ("4 (Conv2d 4→8)",) and plan.frozen_norms
    said = retrained_words(plan)
    assert said == (
        "retrains only adapted input layer 0 (Conv2d 3→4) and new output layer 9 "
        "(Linear 32→3); 1 pretrained layer stays frozen at the source's weights, with its "
        "normalization: 4 (Conv2d 4→8)"
    )


def test_retrained_words_of_full_gradual_and_a_source_without_middle_layers():
    source, data = _pretrained(_source()), _data()
    full = retrained_words(retrained(transfer_model(source, data, strategy="full")))
    assert full.startswith("retrains every layer, input layer 0 (Conv2d 1→4), layer 4")
    assert full.endswith("new ones at lr, pretrained at 0.1 × lr")
    gradual = retrained_words(retrained(transfer_model(source, data, strategy="gradual")))
    assert gradual.startswith("retrains only new output layer 9 (Linear 32→3) at first; 2 ")
    assert "every 5 epochs one more block" in gradual
    shallow = _pretrained(_source(RunConfig(model="mlp", width=4, depth=1)))
    io = retrained_words(retrained(transfer_model(shallow, data, strategy="io")))
    assert "none frozen: the source has no layer between its input and output layers" in io
    assert io.endswith("all at lr")


def test_transfer_words_say_how_the_data_was_fitted_to_the_source():
    from nooverfit.studies.transfer_stage import transfer_words

    config = RunConfig(model="cnn", width=4, depth=2)
    words = transfer_words(_source(), _data(channels=3, size=16), config, ["io"])
    assert words["source"] == "toy-source"
    assert words["input"] == (
        "images resized from 16x16 to the source's 8x8; the input layer adapted from the "
        "source's 1 channel to 3 (its weights averaged over channels)"
    )
    assert words["strategies"]["transfer:io"].startswith(
        "retrains only adapted input layer 0 (Conv2d 3→4) and new output layer 9"
    )


@pytest.mark.parametrize(
    ("epochs", "end"),
    [
        (None, "is unfrozen, at 0.1 × lr"),
        (5, "at 0.1 × lr: none within its 5 epochs, so it trains as head does"),
        (6, "at 0.1 × lr: 1 of the 2 within its 6 epochs"),
        (30, "at 0.1 × lr: 2 of the 2 within its 30 epochs"),
    ],
)
def test_gradual_says_how_many_blocks_unfreeze_in_time_to_train(epochs, end):
    """A 5-epoch run unfreezes its first block after its last epoch: it trains as head."""
    plan = retrained(transfer_model(_pretrained(_source()), _data(), strategy="gradual"))
    assert plan.frozen_blocks == 2
    assert retrained_words(plan, epochs=epochs).endswith(end)


def test_gradual_with_a_short_run_trains_exactly_as_head():
    source, data = _source(), _data()
    config = RunConfig(model="cnn", width=4, depth=2, epochs=5, lr=1e-2, seed=0)
    head, gradual = transfer_runs(
        data, source=source, strategies=["head", "gradual"], base_config=config, scratch=False,
        check=False,
    )  # fmt: skip
    for name, value in head.state.items():
        assert torch.equal(value, gradual.state[name]), name
