from __future__ import annotations

import dataclasses
import json

import pytest

from nooverfit.config import RunConfig, check_dropout, check_l2


def test_run_config_defaults_match_the_documented_api():
    config = RunConfig()
    assert (config.model, config.width, config.depth) == ("mlp", 256, 2)
    assert (config.l2, config.weight_decay, config.dropout, config.batchnorm) == (0, 0, 0, False)
    assert (config.optimizer, config.lr, config.batch_size, config.epochs) == (
        "adam",
        1e-3,
        32,
        100,
    )
    assert config.early_stopping is None and config.seed == 0


def test_run_config_is_frozen_and_replace_revalidates():
    config = RunConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.l2 = 1.0  # type: ignore[misc]
    assert config.replace(l2=0.1).l2 == 0.1 and config.l2 == 0
    with pytest.raises(ValueError, match="dropout"):
        config.replace(dropout=1.0)


def test_run_config_dict_round_trip_ignores_unknown_keys():
    config = RunConfig(model="cnn", l2=1e-3, early_stopping="gl:5", train_per_class=20, label="x")
    data = json.loads(json.dumps(config.to_dict()))
    assert RunConfig.from_dict({**data, "future_field": 1}) == config


def test_run_config_key_is_stable_and_distinguishes_configs():
    assert RunConfig(l2=0.1).key == RunConfig(l2=0.1).key
    assert RunConfig(l2=0.1).key != RunConfig(l2=0.2).key
    assert len(RunConfig().key) == 12


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model": "resnet"}, "model must be one of"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of"),
        ({"l2": -1.0}, r"l2 must be a finite number >= 0, got -1.0"),
        ({"l2": float("inf")}, "l2 must be"),
        ({"weight_decay": -0.1}, "weight_decay must be"),
        ({"dropout": 1.0}, r"dropout must be in \[0, 1\), got 1.0"),
        ({"dropout": -0.1}, "dropout must be"),
        ({"width": 0}, "width must be an integer >= 1, got 0"),
        ({"depth": 1.5}, "depth must be an integer"),
        ({"batch_size": 0}, "batch_size"),
        ({"epochs": 0}, "epochs"),
        ({"lr": 0.0}, "lr must be"),
        ({"lr": float("nan")}, "lr must be"),
        ({"augment": 1.5}, r"augment must be in \[0, 1\]"),
        ({"train_size": 0}, "train_size"),
        ({"train_per_class": -3}, "train_per_class"),
        ({"early_stopping": "never"}, "early-stopping criterion 'never' not understood"),
    ],
)
def test_run_config_rejects_bad_values_naming_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(**changes)


def test_check_helpers_return_floats():
    assert check_l2(0) == 0.0 and isinstance(check_l2(1), float)
    assert check_dropout(0.5) == 0.5
    with pytest.raises(ValueError, match="lam must be"):
        check_l2(-1, name="lam")
