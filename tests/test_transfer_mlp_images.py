"""An MLP pretrained on images of one channel count transfers to images of another: its
first Linear layer reads flattened ``(C, H, W)`` images and is adapted as an input
convolution is (it raised "in_channels needs an nn.Conv2d input layer, got Linear(...)",
and a study raised it only after training its baseline and remedies). A source that
cannot be prepared for the data at all is refused before the study's first run."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from typer.testing import CliRunner

from nooverfit import study
from nooverfit.cli import app
from nooverfit.config import RunConfig
from nooverfit.data import Dataset, make_split, prepare
from nooverfit.models import build_model
from nooverfit.transfer import Pretrained, Source, adapt_channels, transfer_model

MLP = RunConfig(model="mlp", width=6, depth=2)


def _images(channels: int, n: int = 40, classes: int = 2, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    x = rng.random((n, channels, 8, 8), dtype=np.float32)
    ds = Dataset("toy", x, y.astype(np.int64), tuple(map(str, range(classes))), "image")
    return prepare(ds, make_split(ds.y, test=0.2, val=0.2, seed=seed), device="cpu")


@pytest.mark.parametrize(("had", "channels"), [(1, 3), (3, 1)])
def test_adapt_channels_of_a_linear_layer_gives_grey_images_the_same_response(had, channels):
    torch.manual_seed(0)
    linear = nn.Linear(had * 64, 5)
    adapted = adapt_channels(linear, channels, source_channels=had)
    grey = torch.rand(4, 1, 8, 8)
    torch.testing.assert_close(
        adapted(grey.expand(-1, channels, -1, -1).flatten(1)),
        linear(grey.expand(-1, had, -1, -1).flatten(1)),
    )


def test_adapt_channels_of_a_linear_layer_needs_the_source_channels():
    with pytest.raises(ValueError, match="without the source's channel count"):
        adapt_channels(nn.Linear(64, 5), 3)
    with pytest.raises(ValueError, match="expected a divisor of 64"):
        adapt_channels(nn.Linear(64, 5), 3, source_channels=3)


def test_transfer_model_adapts_an_mlp_of_grey_images_to_rgb_ones():
    source = build_model(MLP, (1, 8, 8), 4)
    data = _images(3)
    transfer = transfer_model(Pretrained(source, (1, 8, 8), "grey.pt"), data, strategy="io")
    assert transfer.model(data.x[:2]).shape == (2, 2)
    assert transfer.new_layers == ("5", "1")  # the new output layer, the adapted input
    first = transfer.model.get_submodule("1")
    assert isinstance(first, nn.Linear) and first.in_features == 3 * 64
    # the pretrained middle layer stays as it was and frozen
    assert torch.equal(transfer.model.get_submodule("3").weight, source.get_submodule("3").weight)
    assert not transfer.model.get_submodule("3").weight.requires_grad


def _folder(root, mode: str, classes: int = 2, per: int = 8):
    rng = np.random.default_rng(0)
    for c in range(classes):
        (root / str(c)).mkdir(parents=True)
        for k in range(per):
            pixels = (rng.random((8, 8)) * 255).astype(np.uint8)
            Image.fromarray(pixels, "L").convert(mode).save(root / str(c) / f"{k}.png")
    return root


def test_a_study_of_rgb_images_transfers_from_an_mlp_of_grey_ones(tmp_path):
    path = tmp_path / "grey.pt"
    Source(MLP, (1, 8, 8), 4, build_model(MLP, (1, 8, 8), 4).state_dict(), "grey").save(path)
    root = _folder(tmp_path / "rgb", "RGB")
    out = tmp_path / "study"
    args = ["study", "--data", f"folder:{root}", "--model", "cnn", "--width", "2"]
    args += ["--epochs", "1", "--train-per-class", "2", "--seeds", "1", "--no-classic"]
    result = CliRunner().invoke(app, [*args, "--source", str(path), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").is_file()


class _ConvHead(nn.Module):
    """A network whose output layer is a convolution: prepare cannot replace it."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Conv2d(1, 2, 3, padding=1)
        self.head = nn.Conv2d(2, 2, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.body(x))).flatten(1)


def test_a_study_refuses_a_source_it_cannot_prepare_before_any_run(tmp_path):
    source = Pretrained(_ConvHead(), (1, 8, 8), "conv-head")
    out = tmp_path / "study"
    with pytest.raises(ValueError) as err:
        study("digits", source=source, seeds=1, epochs=1, train_per_class=2, out=out,
              classic=False)  # fmt: skip
    assert str(err.value).startswith("source conv-head cannot be prepared for samples of shape")
    assert "must be nn.Linear to replace" in str(err.value)
    assert not (out / "runs").exists() or not any((out / "runs").iterdir())
