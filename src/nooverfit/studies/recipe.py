"""The recommended configuration as code a user can paste: PyTorch and Keras.

The code builds the same network family (``nn.LazyLinear`` / ``Dense`` infer the input
size), applies L2 to weights only (not biases or normalization parameters, as nooverfit
does), and converts lambda between conventions with :func:`nooverfit.convert_l2`:
nooverfit's ``l2`` is PyTorch's coupled ``weight_decay`` and twice Keras's
``regularizers.L2``. Early stopping restores the best epoch's weights, as in the study.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from nooverfit._words import counted
from nooverfit.augmentation_words import audio_pytorch, image_policy_used, image_pytorch
from nooverfit.config import RunConfig
from nooverfit.regularize import convert_l2
from nooverfit.studies.recipe_net import keras_network, pytorch_network


@dataclass(frozen=True)
class Recipe:
    """The configuration as source code.

    Attributes:
        pytorch: model, optimizer, augmentation and early-stopping lines for PyTorch.
        keras: the Keras 3 equivalent.
        notes: where the two differ from the study's training (empty if nowhere).
    """

    pytorch: str
    keras: str
    notes: tuple[str, ...]


def _number(value: float) -> str:
    return f"{value:.3g}"


def member_changes(configs: list[RunConfig]) -> list[str]:
    """How each member of an ensemble differs from the first (whose code a recipe shows):
    ``"dropout 0.3, batchnorm True"``; ``"the same configuration"`` where only the label
    differs (a copy differs in ``init``, its initial weights)."""
    first = configs[0]
    out = []
    for c in configs:
        changes = [
            f"{f.name.replace('_', ' ')} {getattr(c, f.name)}"
            for f in dataclasses.fields(c)
            if f.name != "label" and getattr(c, f.name) != getattr(first, f.name)
        ]
        out.append(", ".join(changes) or "the same configuration")
    return out


def _patience(spec: str | None) -> int | None:
    if spec is None or not spec.startswith("patience:"):
        return None
    return int(spec.split(":", 1)[1])


def recipe(
    config: RunConfig, *, classes: int, kind: str = "image", data: str = "digits"
) -> Recipe:
    """The code of ``config`` for a ``classes``-way classifier.

    Args:
        config: the configuration (typically a study's recommendation).
        classes: number of classes.
        kind: ``"image"``, ``"tabular"`` (augmentation: Gaussian noise on standardized
            features) or ``"audio"`` (the study's log-spectrogram front end first).
        data: the data set's spec (``"digits"``, ``"folder:PATH"``, ``"spoken"``, ...),
            which decides the augmentation the study applied.
    """
    return Recipe(
        pytorch=_pytorch(config, classes, kind, data),
        keras=_keras(config, classes, kind, data),
        notes=_notes(config, kind, data),
    )


def ensemble_recipe(
    configs: Sequence[RunConfig],
    names: Sequence[str],
    *,
    classes: int,
    kind: str = "image",
    data: str = "digits",
) -> Recipe:
    """The code of an ensemble of networks trained as ``configs`` (named ``names``): the
    first member's whole :func:`recipe`, then for each other member how its training
    differs (:func:`member_changes`) and the augmentation it trained with, in the lines its
    own recipe has (or "none"); the notes of every member, each once.
    """
    first = recipe(configs[0], classes=classes, kind=kind, data=data)
    pytorch, keras, notes = [first.pytorch], [first.keras], list(first.notes)
    changes = member_changes(list(configs))
    for i, (c, name, change) in enumerate(zip(configs, names, changes, strict=True)):
        if i == 0:
            continue
        head = f"# member {i + 1} ({name}), the code above changed: {change}."
        lines = pytorch_augmentation(c, kind, data)
        said = ":" if lines else ": none."
        pytorch.append("\n".join([f"{head} Its augmentation{said}", *lines]))
        layers = [f"#{x}" for x in keras_augmentation(c, kind, data)]
        said = ", first in keras.Sequential:" if layers else ": none."
        keras.append("\n".join([f"{head} Its augmentation layers{said}", *layers]))
        notes += [n for n in _notes(c, kind, data) if n not in notes]
    return Recipe("\n\n".join(pytorch), "\n\n".join(keras), tuple(notes))


def _pytorch(
    c: RunConfig, classes: int, kind: str, data: str, network: Sequence[str] | None = None
) -> str:
    """The PyTorch lines; ``network``: lines that make ``model``, ``optimizer`` and
    ``loss_fn`` in place of a fresh network's (a transfer network's,
    :mod:`.recipe_transfer`)."""
    lines = ["import torch", "from torch import nn", ""]
    if network is None:
        lines += pytorch_network(c, classes, kind)
        lines += _pytorch_optimizer(c)
    else:
        lines += network
    lines += pytorch_augmentation(c, kind, data)
    if c.ema:
        lines += [
            "from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn",
            f"average = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn({_number(c.ema)}))",
            "# after each optimizer.step(): average.update_parameters(model);"
            " evaluate and keep average.module",
        ]
    if c.early_stopping:
        lines += [
            "import nooverfit as no  # or your own patience loop",
            f'stopper = no.EarlyStopping("{c.early_stopping}")',
            "# each epoch: if stopper.update(epoch, val_loss, train_loss): break;",
            "# then load the weights saved at stopper.best_epoch",
        ]
    if c.cosine:
        lines += [
            "# the rate annealed along a half cosine, set once per epoch:",
            f"schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max={c.epochs})",
            "# after each epoch: schedule.step()",
        ]
    lines.append(f"# train for at most {counted(c.epochs, 'epoch')}, batch size {c.batch_size}")
    return "\n".join(lines)


def pytorch_augmentation(c: RunConfig, kind: str, data: str) -> list[str]:
    """The PyTorch lines of ``c``'s augmentation (the data set's own, cutout, mixup); none
    without."""
    lines: list[str] = []
    if c.augment:
        if kind == "image":
            lines += image_pytorch(data, c.augment)
        elif kind == "audio":
            lines += audio_pytorch(data, c.augment)
        else:
            lines.append(
                f"augment = lambda x: x + {_number(0.1 * c.augment)} * torch.randn_like(x)"
                "  # standardized features"
            )
    if c.cutout:
        lines += [
            "from nooverfit.data.augment import cutout  # after any augmentation, per batch:",
            f"# xb = cutout(xb, torch.full((len(xb),), {_number(c.cutout)}), gen): one random "
            f"square of side {_number(c.cutout)} x the image side set to 0 in each image",
        ]
    if c.mixup:
        lines += [
            f"# mixup (alpha {_number(c.mixup)}), on each training batch xb, yb:",
            f"lam = torch.distributions.Beta({_number(c.mixup)}, {_number(c.mixup)})"
            ".sample((len(xb),))",
            "perm = torch.randperm(len(xb)); lx = lam.view(-1, *[1] * (xb.ndim - 1))",
            "logits = model(lx * xb + (1 - lx) * xb[perm])",
            "loss = (lam * nn.functional.cross_entropy(logits, yb, reduction='none')"
            " + (1 - lam) * nn.functional.cross_entropy(logits, yb[perm], reduction='none'))"
            ".mean()",
        ]
    return lines


def _pytorch_optimizer(c: RunConfig) -> list[str]:
    """The optimizer and loss lines, as nooverfit trains (see ``train.make_optimizer``):
    Adam takes nooverfit's coupled ``l2`` as its own ``weight_decay`` (added to the
    gradient) and ``weight_decay`` in AdamW's decoupled form; SGD couples both."""
    lines = [
        "weights = [p for p in model.parameters() if p.ndim >= 2]  # no decay on biases, norms",
        "others = [p for p in model.parameters() if p.ndim < 2]",
    ]
    extra = ""
    if c.optimizer == "sgd":
        name, decay, extra = "SGD", c.l2 + c.weight_decay, ", momentum=0.9"
        if c.l2:  # (no comment on a penalty the recipe does not use)
            lines.append(f"# coupled L2: nooverfit l2={_number(c.l2)} is SGD's weight_decay")
    elif c.weight_decay:
        name, decay = "AdamW", c.weight_decay
        lines.append(f"# decoupled weight decay: W -= lr * {_number(c.weight_decay)} * W")
    else:
        name, decay = "Adam", c.l2
        if c.l2:
            lines.append(f"# coupled L2: nooverfit l2={_number(c.l2)} is Adam's weight_decay")
    lines.append(
        f"optimizer = torch.optim.{name}("
        f'[{{"params": weights, "weight_decay": {_number(decay)}}}, '
        f'{{"params": others, "weight_decay": 0.0}}], lr={_number(c.lr)}{extra})'
    )
    smoothing = f"label_smoothing={_number(c.label_smoothing)}" if c.label_smoothing else ""
    lines.append(f"loss_fn = nn.CrossEntropyLoss({smoothing})  # on logits")
    if c.optimizer != "sgd" and c.weight_decay and c.l2:
        lines.append(
            f"# and coupled L2 in the loss: loss = loss_fn(model(x), y) + {_number(c.l2 / 2)}"
            " * sum((w ** 2).sum() for w in weights)"
        )
    return lines


def _keras(c: RunConfig, classes: int, kind: str, data: str) -> str:
    # SGD's weight decay is coupled too, so it joins the regularizer; Adam's is AdamW's.
    coupled = c.l2 + (c.weight_decay if c.optimizer == "sgd" else 0.0)
    keras_l2 = convert_l2(coupled, source="nooverfit", target="keras")
    reg = f", kernel_regularizer=regularizers.L2({_number(keras_l2)})" if coupled else ""
    lines = ["import keras", "from keras import layers, regularizers", ""]
    if coupled:
        lines.append(
            f"# Keras's L2(l) adds l * sum(W^2): nooverfit l2={_number(coupled)} "
            f"is l={_number(keras_l2)}"
        )
    before, network = keras_network(c, classes, kind, reg)
    lines += [*before, "model = keras.Sequential([", *keras_augmentation(c, kind, data)]
    lines += [*network, "])"]
    args = f"learning_rate={_number(c.lr)}"
    if c.optimizer == "sgd":
        optimizer = "SGD"
        args += ", momentum=0.9"
    elif c.weight_decay:
        optimizer = "AdamW"  # Keras's AdamW decays every weight, biases too
        args += f", weight_decay={_number(c.weight_decay)}"
    else:
        optimizer = "Adam"
    if c.ema:  # Keras's optimizers keep the average; fit() ends with it in the model
        args += f", use_ema=True, ema_momentum={_number(c.ema)}"
    if c.label_smoothing:
        # Keras's sparse loss has no label smoothing: one-hot labels and the dense loss.
        loss = (
            "keras.losses.CategoricalCrossentropy(from_logits=True, "
            f"label_smoothing={_number(c.label_smoothing)})"
        )
        lines.append(
            f"y_train, y_val = (keras.utils.to_categorical(y, {classes}) "
            "for y in (y_train, y_val))"
        )
    else:
        loss = "keras.losses.SparseCategoricalCrossentropy(from_logits=True)"
    lines += [
        f"model.compile(optimizer=keras.optimizers.{optimizer}({args}),",
        f'              loss={loss}, metrics=["accuracy"])',
    ]
    callbacks = []
    patience = _patience(c.early_stopping)
    if patience is not None:
        callbacks.append("stop")
        lines.append(
            f'stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience={patience}, '
            "restore_best_weights=True)"
        )
    if c.cosine:  # the rate of epoch e: lr * (1 + cos(pi * e / epochs)) / 2
        callbacks.append("anneal")
        lines += [
            "import math",
            "anneal = keras.callbacks.LearningRateScheduler(",
            f"    lambda e: {_number(c.lr)} * (1 + math.cos(math.pi * e / {c.epochs})) / 2)",
        ]
    lines.append(
        f"model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs={c.epochs}, "
        f"batch_size={c.batch_size}, callbacks=[{', '.join(callbacks)}])"
    )
    return "\n".join(lines)


def keras_augmentation(c: RunConfig, kind: str, data: str) -> list[str]:
    """The Keras layers of ``c``'s augmentation, first in ``keras.Sequential`` (none for
    audio, nor for cutout and mixup: :func:`_notes` says so)."""
    if c.augment and kind == "image":
        return _keras_image_augment(data, c.augment)
    if c.augment and kind != "audio":
        return [f"    layers.GaussianNoise({_number(0.1 * c.augment)}),"]
    return []


def _keras_image_augment(data: str, strength: float) -> list[str]:
    """Keras preprocessing layers closest to the study's image augmentation (see
    :func:`_notes` for where they differ)."""
    p, s = image_policy_used(data), strength
    lines = []
    if p.crop:  # a crop keeping area a, resized back, is a zoom in by 1 - sqrt(a)
        lines.append(f"    layers.RandomZoom(({_number(-(1 - (1 - p.crop * s) ** 0.5))}, 0.0)),")
    if p.rotate:
        lines.append(f"    layers.RandomRotation({_number(p.rotate * s / 360)}),  # of a turn")
    if p.shift:
        lines.append(
            f"    layers.RandomTranslation({_number(p.shift * s)}, {_number(p.shift * s)}),"
        )
    if p.scale:
        lines.append(f"    layers.RandomZoom({_number(p.scale * s)}),")
    if p.flip:
        lines.append('    layers.RandomFlip("horizontal"),')
    if p.color:
        c = p.color * s
        lines += [
            f"    layers.RandomBrightness({_number(c)}, value_range=(0, 1)),",
            f"    layers.RandomContrast({_number(c)}),",
        ]
    return lines


def _notes(c: RunConfig, kind: str = "image", data: str = "digits") -> tuple[str, ...]:
    notes = []
    if kind == "audio":
        notes.append(
            "Audio: the Keras form feeds the network the study's front-end maps, computed "
            "once with nooverfit (Keras has no such layer)"
            + (
                ", and leaves out the audio augmentation (the PyTorch form applies it)."
                if c.augment
                else "."
            )
        )
    if c.augment and kind == "image" and image_policy_used(data).pipelined:
        notes.append(
            "Keras's layers approximate the study's torchvision pipeline: the random-resized "
            "crop as a zoom, flips of half the images at every strength, additive brightness."
        )
    if c.cutout:
        notes.append("Keras has no cutout layer: erase the squares in your input pipeline.")
    if c.tta:
        notes.append(
            "The Keras form leaves out the test-time shifts: average the softmax of each "
            "image and its four one-pixel shifts at prediction time."
        )
    if c.early_stopping and _patience(c.early_stopping) is None:
        notes.append(
            f"Keras has no {c.early_stopping.split(':')[0].upper()} criterion; "
            "nooverfit.EarlyStopping implements it, or use Keras's patience."
        )
    if c.optimizer != "sgd" and c.weight_decay and c.l2:
        notes.append("AdamW's weight decay is decoupled; the coupled L2 is the Keras regularizer.")
    if c.mixup:
        notes.append(
            "Keras has no mixup layer for any data: blend each batch and its one-hot labels "
            "as the PyTorch lines do (e.g. in a keras.utils.PyDataset)."
        )
    if c.ema:
        notes.append(
            "nooverfit's weight average warms up (decay min(d, (1 + t) / (4 + t)) at step t) "
            "and scores every epoch with it; torch's and Keras's averages do not warm up."
        )
    if c.inputs != "standard":
        notes.append(
            f"The features are encoded as '{c.inputs}' before the network "
            "(nooverfit.data.tabular.scale_features(x, pool, "
            f"{c.inputs!r}), statistics of the training pool only; onehot counts its "
            "columns over every row's features), not standardized."
        )
    notes.append(
        "Keras's Dense layers use Glorot initialization and PyTorch's Linear layers Kaiming "
        "uniform: expect close, not identical, curves."
    )
    return tuple(notes)
