"""A recommended transfer network's recipe starts from the source and freezes what the
strategy froze (it wrote a fresh network, which trains from scratch), and the report says
what each transfer strategy retrained and kept frozen."""

from __future__ import annotations

import dataclasses
import html

import numpy as np
import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.data import Dataset, load_dataset, make_split, prepare
from nooverfit.models import build_model
from nooverfit.studies.recipe_transfer import transfer_recipe
from nooverfit.transfer import Source, load_pretrained, transfer_model
from nooverfit.transfer.architecture import record

SOURCE = RunConfig(model="cnn", width=4, depth=2, batchnorm=True)


def _rgb(size: int = 16, n: int = 30, classes: int = 3):
    rng = np.random.default_rng(0)
    y = np.arange(n) % classes
    x = rng.random((n, 3, size, size), dtype=np.float32)
    ds = Dataset("rgb", x, y.astype(np.int64), tuple(map(str, range(classes))), "image")
    return prepare(ds, make_split(ds.y, test=0.2, val=0.2, seed=0), device="cpu")


def _trainable(model: torch.nn.Module) -> list[str]:
    return [n for n, p in model.named_parameters() if p.requires_grad]


@pytest.mark.parametrize("bare", [False, True])
@pytest.mark.parametrize("strategy", ["head", "io", "gradual"])
def test_transfer_recipe_code_builds_the_network_the_run_trained(tmp_path, strategy, bare):
    torch.manual_seed(0)
    model = build_model(SOURCE, (1, 8, 8), 5)
    path = tmp_path / "source.pt"
    if bare:  # a train run's model.pt: rebuilt from the config the recipe writes
        torch.save(model.state_dict(), path)
    else:
        Source(SOURCE, (1, 8, 8), 5, model.state_dict(), "toy").save(path)
    data = _rgb()
    architecture = record(str(path), SOURCE, (1, 8, 8))
    config = RunConfig(
        model="cnn", width=4, depth=2, epochs=3, lr=0.01, label=f"transfer:{strategy}"
    )
    code = transfer_recipe(
        config, strategy=strategy, source=str(path), architecture=architecture,
        in_shape=data.in_shape, classes=3, retrained="retrains only what it says",
    )  # fmt: skip
    scope: dict[str, object] = {}
    exec(code.pytorch, scope)  # the code as a user pastes it
    made = scope["model"]
    assert isinstance(made, torch.nn.Module)
    pretrained = load_pretrained(str(path), config=SOURCE, in_shape=(1, 8, 8))
    ran = transfer_model(pretrained, data, strategy=strategy).model
    assert _trainable(made) == _trainable(ran)
    for name, value in ran.state_dict().items():  # the pretrained weights, the new layers'
        torch.testing.assert_close(made.state_dict()[name], value)
    assert made(data.x[:2]).shape == (2, 3)  # 3-channel 16x16 images: adapted and resized
    assert "in_channels=3, source_channels=1, in_size=(8, 8)" in code.pytorch
    assert code.notes[0] == f"transfer:{strategy} retrains only what it says."
    assert code.keras == ""  # no Keras lines, so no Keras heading in the report
    assert any("Keras cannot load" in note for note in code.notes)


def test_the_report_says_what_transfer_froze_and_codes_a_transfer_recommendation(tmp_path):
    from conftest import TINY
    from nooverfit import study
    from nooverfit.report import render
    from nooverfit.transfer.pretrain import class_subset, pretrain

    source = pretrain(
        class_subset(load_dataset("digits"), range(5)),
        RunConfig(model="cnn", width=4, depth=2, epochs=1),
    )
    path = tmp_path / "source.pt"
    source.save(path)
    result = study(
        "digits", classes="5-9", model="cnn", width=4, train_per_class=3, budget=TINY,
        seeds=1, epochs=1, source=str(path), learning_curves=False, classic=False,
    )  # fmt: skip
    words = result.extras["transfer"]
    assert words["source"] == str(path) and words["input"] == ""
    assert set(words["strategies"]) == {f"transfer:{s}" for s in ("head", "io", "full", "gradual")}
    assert words["strategies"]["transfer:io"] == (
        "retrains only input layer 0 (Conv2d 1→4) and new output layer 7 (Linear 32→5); 1 "
        "pretrained layer stays frozen at the source's weights: 3 (Conv2d 4→8)"
    )
    page = html.unescape(render(result, {}))
    assert "The transfer rows start from the source" in page
    assert words["strategies"]["transfer:head"] in page
    # were transfer:io recommended, its code starts from the source
    io = next(v for v in result.variants if v.name == "transfer:io")
    card = {**result.best_card, "source": record(str(path), io.config, (1, 8, 8))}
    card["members"] = [{**card["members"][0], "in_shape": [1, 8, 8]}]
    forced = dataclasses.replace(result, recommended=io, best_card=card)
    page = html.unescape(render(forced, {}))
    assert f"pretrained = load_pretrained('{path}')" in page
    assert 'prepare(pretrained, strategy="io", classes=5, seed=0)' in page
    assert "nn.LazyConv2d" not in page  # not a fresh network
    assert f"transfer:io {words['strategies']['transfer:io']}." in page
