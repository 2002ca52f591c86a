"""The network of a recipe, as :mod:`nooverfit.models` builds it: PyTorch and Keras lines.

The lines read the input shape from ``x_train`` when they run, so the same code is right
for any image size: an MLP is ``depth`` x [Linear, (BatchNorm), ReLU, (Dropout)] then a
Linear; a CNN is ``depth`` blocks of ``convs`` x [Conv3x3, (BatchNorm), ReLU], each then
a 2x2 max-pool while the maps are at least 4x4 (:func:`nooverfit.models.cnn` stops
pooling at 2x2), then (Dropout); channels double per block; a convolution followed by
batch norm has no bias in blocks of two or more. Audio networks start with the study's
parameter-free log-spectrogram front end (:func:`nooverfit.models.audio_front`, or the
normalized log-mel :func:`~nooverfit.models.speech_front` of maps already computed).
"""

from __future__ import annotations

from nooverfit.config import RunConfig


def _g(value: float) -> str:
    return f"{value:.3g}"


def _repeat(times: int, line: str) -> list[str]:
    """``line`` inside a block's loop body, in a loop of its own when ``times > 1``."""
    if times == 1:
        return [f"    {line}"]
    return [f"    for _ in range({times}):  # convolutions per block", f"        {line}"]


def _front(*, channel: bool) -> list[str]:
    """Lines defining ``front``, the study's audio front end, as ``build_model`` picks it."""
    return [
        "import math",
        "from nooverfit.models import SPEECH_BANDS, audio_front, speech_front",
        "# the study's log-spectrogram front end (no weights): log-mel maps already computed",
        "# (the spoken data set) are normalized; waveforms go through the whole transform",
        "maps = len(x_train.shape) == 3 and x_train.shape[1] == SPEECH_BANDS",
        f"front = speech_front(channel={channel}) if maps else "
        f"audio_front(math.prod(x_train.shape[1:]), channel={channel})",
    ]


def pytorch_network(c: RunConfig, classes: int, kind: str) -> list[str]:
    """Lines that define ``model``, the network ``c`` describes (front end included)."""
    audio = kind == "audio"
    lines = _front(channel=c.model == "cnn") if audio else []
    head = "front, " if audio else ""
    if c.model == "cnn":
        size = "front(torch.zeros(1, *x_train.shape[1:]))" if audio else "x_train"
        bias = ", bias=False" if c.batchnorm else ""
        norm = ", nn.BatchNorm2d(out)" if c.batchnorm else ""
        lines += [
            f"h, w = {size}.shape[-2:]",
            "layers = []",
            f"for i in range({c.depth}):  # blocks; channels double per block",
            f"    out = {c.width} * 2**i",
            *_repeat(
                c.convs, f"layers += [nn.LazyConv2d(out, 3, padding=1{bias}){norm}, nn.ReLU()]"
            ),
            "    if min(h, w) >= 4:  # pooling stops at 2x2 maps",
            "        layers.append(nn.MaxPool2d(2))",
            "        h, w = h // 2, w // 2",
        ]
        if c.dropout:
            lines.append(f"    layers.append(nn.Dropout({_g(c.dropout)}))")
        lines.append(
            f"model = nn.Sequential({head}*layers, nn.Flatten(), nn.LazyLinear({classes}))"
        )
    else:
        lines.append(f"model = nn.Sequential({head}nn.Flatten(),")
        for i in range(c.depth):
            free = ", bias=False" if c.batchnorm else ""  # batch norm's beta is the shift
            linear = (
                f"nn.LazyLinear({c.width}{free})"
                if i == 0
                else f"nn.Linear({c.width}, {c.width}{free})"
            )
            block = [linear]
            if c.batchnorm:
                block.append(f"nn.BatchNorm1d({c.width})")
            block.append("nn.ReLU()")
            if c.dropout:
                block.append(f"nn.Dropout({_g(c.dropout)})")
            lines.append("    " + ", ".join(block) + ",")
        last = f"nn.Linear({c.width}, {classes})" if c.depth else f"nn.LazyLinear({classes})"
        lines.append(f"    {last})")  # depth 0: the linear rung, logistic regression
    if c.tta:
        lines += [
            "from nooverfit.shifts import CopyMean, ShiftCopies",
            "# test-time shifts: in eval mode, score each image and its four one-pixel shifts",
            "# and average the five predicted distributions (training is unchanged)",
            "model = nn.Sequential(ShiftCopies(), *model, CopyMean())",
        ]
    lines.append("model(torch.zeros(2, *x_train.shape[1:]))  # sizes the lazy layers")
    return lines


def keras_network(c: RunConfig, classes: int, kind: str, reg: str) -> tuple[list[str], list[str]]:
    """``(before, layers)``: lines to run before the model (the audio front end's maps,
    the CNN's blocks) and the lines inside ``keras.Sequential([...])`` after any
    augmentation layers. ``reg`` is the ``, kernel_regularizer=...`` argument or ``""``."""
    before: list[str] = []
    if kind == "audio":
        before = [
            "import torch",
            *_front(channel=False),  # Keras puts channels last, below
            "# Keras has no such layer: the front end's maps, once, are the network's input",
            "x_train, x_val = (front(torch.as_tensor(x, dtype=torch.float32)).numpy()"
            + ("[..., None]" if c.model == "cnn" else "")
            + " for x in (x_train, x_val))",
        ]
    layers: list[str] = []
    if c.model == "cnn":
        bias = ", use_bias=False" if c.batchnorm else ""
        block = f"layers.Conv2D(out, 3, padding='same'{bias}{reg})"
        if c.batchnorm:
            block += ", layers.BatchNormalization()"
        before += [
            "h, w = x_train.shape[1:3]  # channels last: (N, H, W, C)",
            "blocks = []",
            f"for i in range({c.depth}):  # channels double per block",
            f"    out = {c.width} * 2**i",
            *_repeat(c.convs, f"blocks += [{block}, layers.ReLU()]"),
            "    if min(h, w) >= 4:  # pooling stops at 2x2 maps",
            "        blocks.append(layers.MaxPooling2D(2))",
            "        h, w = h // 2, w // 2",
        ]
        if c.dropout:
            before.append(f"    blocks.append(layers.Dropout({_g(c.dropout)}))")
        layers += ["    *blocks,", "    layers.Flatten(),"]
    else:
        layers.append("    layers.Flatten(),")
        for _ in range(c.depth):
            free = ", use_bias=False" if c.batchnorm else ""
            layers.append(f"    layers.Dense({c.width}{free}{reg}),")
            if c.batchnorm:
                layers.append("    layers.BatchNormalization(),")
            layers.append("    layers.ReLU(),")
            if c.dropout:
                layers.append(f"    layers.Dropout({_g(c.dropout)}),")
    layers.append(f"    layers.Dense({classes}{reg}),")
    return before, layers
