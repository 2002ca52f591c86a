"""The recipe's code builds the network the study trains (models.build_model), for every
kind of data, and augments as the study's augmenter does."""

import os

import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.data.augment import image_pipeline, image_policy
from nooverfit.models import build_model
from nooverfit.studies.recipe import recipe

CASES = [
    (RunConfig(width=64, depth=2, dropout=0.3, batchnorm=True), (1, 8, 8), "image"),
    (RunConfig(width=32, depth=0), (5,), "tabular"),
    (RunConfig(model="cnn", width=16, depth=2), (1, 8, 8), "image"),
    (RunConfig(model="cnn", width=16, depth=3), (1, 8, 8), "image"),  # pooling stops at 2x2
    (RunConfig(model="cnn", width=16, depth=2, convs=2, batchnorm=True), (1, 8, 8), "image"),
    (RunConfig(model="cnn", width=8, depth=3, convs=2, dropout=0.2), (1, 28, 28), "image"),
    (RunConfig(model="cnn", width=4, depth=2, tta=True, cutout=0.3), (3, 16, 16), "image"),
    (RunConfig(width=32, depth=2, augment=0.5), (2000,), "audio"),  # keywords: 4 kHz
    (RunConfig(width=16, depth=1), (16000,), "audio"),  # speech: the mel front end
    (RunConfig(model="cnn", width=4, depth=2), (2000,), "audio"),
    (RunConfig(width=16, depth=1, batchnorm=True), (40, 26), "audio"),  # spoken's maps
    (RunConfig(model="cnn", width=4, depth=3, batchnorm=True, convs=2), (40, 26), "audio"),
]


def _count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(("config", "shape", "kind"), CASES)
def test_recipe_pytorch_has_the_studied_network_parameters(config, shape, kind):
    data = {"audio": "keywords", "tabular": "csv:x.csv"}.get(kind, "digits")
    code = recipe(config, classes=10, kind=kind, data=data).pytorch
    namespace = {"x_train": torch.zeros(4, *shape)}
    exec(code, namespace)
    model, study = namespace["model"], build_model(config, shape, 10, kind=kind)
    assert _count(model) == _count(study)
    model.eval(), study.eval()
    assert model(torch.zeros(3, *shape)).shape == study(torch.zeros(3, *shape)).shape == (3, 10)
    # the same layers in the same order (lazy layers materialize as their plain kind)
    kinds = [type(m).__name__.replace("Lazy", "") for m in model.modules() if not m._modules]
    assert kinds == [type(m).__name__ for m in study.modules() if not m._modules]


@pytest.mark.parametrize("data", ["folder:imgs", "cifar10", "fashion-mnist", "digits"])
def test_recipe_image_augmentation_is_the_study_policy(data):
    config = RunConfig(model="cnn", width=4, depth=1, augment=0.5)
    code = recipe(config, classes=3, kind="image", data=data).pytorch
    namespace = {"x_train": torch.zeros(4, 3, 16, 16)}
    exec(code, namespace)
    written = repr(namespace["augment"])
    if data == "digits":  # the batched affine map: 15 degrees, 10 % shift and zoom at 1
        assert "degrees=[-7.5, 7.5]" in written and "Flip" not in written
    else:
        assert written == repr(image_pipeline(image_policy(data), 0.5, size=(16, 16)))
    if data == "folder:imgs":
        assert "RandomResizedCrop" in written and "RandomAffine(degrees=[-7.5" not in written


def test_recipe_audio_augmentation_is_the_study_augmenter():
    from nooverfit.data.augment_audio import audio_augment

    code = recipe(RunConfig(augment=1.0), classes=4, kind="audio", data="keywords").pytorch
    namespace = {"x_train": torch.zeros(4, 2000)}
    exec(code, namespace)
    assert namespace["augment"] is audio_augment
    assert "standardized features" not in code and "time shift" in code


def test_recipe_keras_has_the_studied_network_parameters():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    import numpy as np

    for config, shape, kind in CASES[2:6] + CASES[9:11]:
        data = "keywords" if kind == "audio" else "digits"
        code = recipe(config, classes=10, kind=kind, data=data).keras.split("model.compile(")[0]
        channels_last = (*shape[1:], shape[0]) if len(shape) == 3 else shape
        x = np.zeros((2, *channels_last), np.float32)
        namespace: dict = {"x_train": x, "x_val": x}
        exec(code, namespace)
        model = namespace["model"]
        model(namespace["x_train"][:1])
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        assert trainable == _count(build_model(config, shape, 10, kind=kind)), config
