import os

import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.models import build_model
from nooverfit.regularize import convert_l2
from nooverfit.studies.recipe import recipe

CONFIGS = [
    RunConfig(width=64, l2=1e-4, dropout=0.3, batchnorm=True, early_stopping="patience:10"),
    RunConfig(model="cnn", width=8, depth=2, dropout=0.2, augment=0.5, l2=1e-3),
    RunConfig(width=32, depth=1, optimizer="sgd", lr=0.05, early_stopping="gl:5"),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_recipe_pytorch_builds_the_studied_network(config):
    code = recipe(config, classes=10).pytorch
    namespace = {"x_train": torch.zeros(4, 1, 8, 8)}
    exec(code, namespace)
    model, optimizer = namespace["model"], namespace["optimizer"]
    reference = build_model(config, (1, 8, 8), 10)
    assert sum(p.numel() for p in model.parameters()) == reference.num_parameters
    assert [type(m) for m in model if not isinstance(m, torch.nn.Identity)] == [
        type(m) for m in reference
    ] or config.model == "cnn"  # the CNN recipe uses lazy convolutions
    decay, rest = optimizer.param_groups
    assert decay["weight_decay"] == pytest.approx(config.l2)  # nooverfit l2 == coupled wd
    assert rest["weight_decay"] == 0 and all(p.ndim < 2 for p in rest["params"])
    assert optimizer.defaults["lr"] == pytest.approx(config.lr)


def test_recipe_keras_converts_lambda_and_stopping():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    config = CONFIGS[0]
    code = recipe(config, classes=10).keras
    build = code.split("model.fit(")[0]  # everything but training
    namespace: dict = {}
    exec(build, namespace)
    model = namespace["model"]
    model.build((None, 8, 8))
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    expected = convert_l2(config.l2, source="nooverfit", target="keras")
    assert [float(layer.kernel_regularizer.l2) for layer in dense] == pytest.approx([expected] * 3)
    assert model.count_params() - 4 * 64 == build_model(config, (1, 8, 8), 10).num_parameters
    stop = namespace["stop"]
    assert stop.patience == 10 and stop.restore_best_weights


def test_recipe_notes_a_criterion_keras_lacks():
    notes = recipe(CONFIGS[2], classes=10).notes
    assert any("GL criterion" in n for n in notes)


def test_recipe_pytorch_decoupled_decay_and_label_smoothing_as_trained():
    from nooverfit.train import make_optimizer

    config = RunConfig(width=32, weight_decay=0.3, label_smoothing=0.1)
    namespace = {"x_train": torch.zeros(4, 1, 8, 8)}
    exec(recipe(config, classes=10).pytorch, namespace)
    optimizer, loss_fn = namespace["optimizer"], namespace["loss_fn"]
    reference = make_optimizer(build_model(config, (1, 8, 8), 10), config)
    assert type(optimizer) is type(reference) is torch.optim.AdamW
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.3, 0.0]
    assert loss_fn.label_smoothing == pytest.approx(0.1)


def test_recipe_keras_label_smoothing_and_logits():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    for config, smoothing in ((CONFIGS[0], None), (RunConfig(label_smoothing=0.2), 0.2)):
        code = recipe(config, classes=10).keras.split("model.fit(")[0]
        namespace: dict = {"y_train": [1, 2], "y_val": [3]}
        exec(code, namespace)
        loss = namespace["model"].loss
        assert loss.get_config()["from_logits"] is True  # the last Dense has no softmax
        if smoothing is not None:
            assert loss.get_config()["label_smoothing"] == pytest.approx(smoothing)
            assert namespace["y_train"].shape == (2, 10)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_recipe_pytorch_names_coupled_l2_only_when_it_is_used(optimizer):
    """The comment mapping nooverfit's ``l2`` to the optimizer's ``weight_decay`` comes
    with a penalty; without one it described a setting the code does not use."""
    plain = recipe(RunConfig(optimizer=optimizer), classes=10).pytorch
    assert "coupled L2" not in plain and '"weight_decay": 0}' in plain
    penalized = recipe(RunConfig(optimizer=optimizer, l2=1e-3), classes=10).pytorch
    assert "# coupled L2: nooverfit l2=0.001 is" in penalized
    assert '"weight_decay": 0.001}' in penalized


def test_recipe_pytorch_counts_one_epoch_in_the_singular():
    assert (
        "# train for at most 1 epoch, batch size"
        in recipe(RunConfig(epochs=1), classes=10).pytorch
    )
    assert "# train for at most 7 epochs," in recipe(RunConfig(epochs=7), classes=10).pytorch
