"""The recommended configuration as code a user can paste: PyTorch and Keras.

The code builds the same network family (``nn.LazyLinear`` / ``Dense`` infer the input
size), applies L2 to weights only (not biases or normalization parameters, as nooverfit
does), and converts lambda between conventions with :func:`nooverfit.convert_l2`:
nooverfit's ``l2`` is PyTorch's coupled ``weight_decay`` and twice Keras's
``regularizers.L2``. Early stopping restores the best epoch's weights, as in the study.
"""

from __future__ import annotations

from dataclasses import dataclass

from nooverfit.config import RunConfig
from nooverfit.regularize import convert_l2


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


def _patience(spec: str | None) -> int | None:
    if spec is None or not spec.startswith("patience:"):
        return None
    return int(spec.split(":", 1)[1])


def recipe(config: RunConfig, *, classes: int, kind: str = "image") -> Recipe:
    """The code of ``config`` for a ``classes``-way classifier.

    Args:
        config: the configuration (typically a study's recommendation).
        classes: number of classes.
        kind: ``"image"`` (augmentation: random rotation, shift and zoom) or ``"tabular"``
            (augmentation: Gaussian noise on standardized features).
    """
    return Recipe(
        pytorch=_pytorch(config, classes, kind),
        keras=_keras(config, classes, kind),
        notes=_notes(config),
    )


def _pytorch(c: RunConfig, classes: int, kind: str) -> str:
    lines = ["import torch", "from torch import nn", ""]
    if c.model == "cnn":
        lines.append("layers = []")
        for i in range(c.depth):
            out = c.width * 2**i
            lines.append(
                f"layers += [nn.LazyConv2d({out}, 3, padding=1)"
                + (f", nn.BatchNorm2d({out})" if c.batchnorm else "")
                + ", nn.ReLU(), nn.MaxPool2d(2)"
                + (f", nn.Dropout({_number(c.dropout)})" if c.dropout else "")
                + "]"
            )
        lines.append(f"model = nn.Sequential(*layers, nn.Flatten(), nn.LazyLinear({classes}))")
    else:
        lines.append("model = nn.Sequential(nn.Flatten(),")
        for i in range(c.depth):
            linear = f"nn.LazyLinear({c.width})" if i == 0 else f"nn.Linear({c.width}, {c.width})"
            block = [linear]
            if c.batchnorm:
                block.append(f"nn.BatchNorm1d({c.width})")
            block.append("nn.ReLU()")
            if c.dropout:
                block.append(f"nn.Dropout({_number(c.dropout)})")
            lines.append("    " + ", ".join(block) + ",")
        last = f"nn.Linear({c.width}, {classes})" if c.depth else f"nn.LazyLinear({classes})"
        lines.append(f"    {last})")  # depth 0: the linear rung, logistic regression
    lines.append("model(torch.zeros(2, *x_train.shape[1:]))  # sizes the lazy layers")
    lines += _pytorch_optimizer(c)
    if c.augment:
        s = c.augment
        if kind == "image":
            lines += [
                "from torchvision.transforms import v2  # on each training batch",
                f"augment = v2.RandomAffine(degrees={_number(15 * s)}, "
                f"translate=({_number(0.1 * s)}, {_number(0.1 * s)}), "
                f"scale=({_number(1 - 0.1 * s)}, {_number(1 + 0.1 * s)}))",
            ]
        else:
            lines.append(
                f"augment = lambda x: x + {_number(0.1 * s)} * torch.randn_like(x)"
                "  # standardized features"
            )
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
    lines.append(f"# train for at most {c.epochs} epochs, batch size {c.batch_size}")
    return "\n".join(lines)


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
        lines.append(f"# coupled L2: nooverfit l2={_number(c.l2)} is SGD's weight_decay")
    elif c.weight_decay:
        name, decay = "AdamW", c.weight_decay
        lines.append(f"# decoupled weight decay: W -= lr * {_number(c.weight_decay)} * W")
    else:
        name, decay = "Adam", c.l2
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


def _keras(c: RunConfig, classes: int, kind: str) -> str:
    # SGD's weight decay is coupled too, so it joins the regularizer; Adam's is AdamW's.
    coupled = c.l2 + (c.weight_decay if c.optimizer == "sgd" else 0.0)
    keras_l2 = convert_l2(coupled, source="nooverfit", target="keras")
    reg = f", kernel_regularizer=regularizers.L2({_number(keras_l2)})" if coupled else ""
    lines = [
        "import keras",
        "from keras import layers, regularizers",
        "",
        "model = keras.Sequential([",
    ]
    if c.augment and kind == "image":
        s = c.augment
        lines += [
            f"    layers.RandomRotation({_number(15 * s / 360)}),  # fraction of a turn",
            f"    layers.RandomTranslation({_number(0.1 * s)}, {_number(0.1 * s)}),",
            f"    layers.RandomZoom({_number(0.1 * s)}),",
        ]
    elif c.augment:
        lines.append(f"    layers.GaussianNoise({_number(0.1 * c.augment)}),")
    if c.model == "cnn":
        for i in range(c.depth):
            lines.append(f"    layers.Conv2D({c.width * 2**i}, 3, padding='same'{reg}),")
            if c.batchnorm:
                lines.append("    layers.BatchNormalization(),")
            lines += ["    layers.ReLU(),", "    layers.MaxPooling2D(2),"]
            if c.dropout:
                lines.append(f"    layers.Dropout({_number(c.dropout)}),")
        lines.append("    layers.Flatten(),")
    else:
        lines.append("    layers.Flatten(),")
        for _ in range(c.depth):
            lines.append(f"    layers.Dense({c.width}{reg}),")
            if c.batchnorm:
                lines.append("    layers.BatchNormalization(),")
            lines.append("    layers.ReLU(),")
            if c.dropout:
                lines.append(f"    layers.Dropout({_number(c.dropout)}),")
    lines += [f"    layers.Dense({classes}{reg}),", "])"]
    if coupled:
        lines.insert(
            3,
            f"# Keras's L2(l) adds l * sum(W^2): nooverfit l2={_number(coupled)} "
            f"is l={_number(keras_l2)}",
        )
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


def _notes(c: RunConfig) -> tuple[str, ...]:
    notes = []
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
            f"{c.inputs!r}), statistics of the training pool only), not standardized."
        )
    notes.append(
        "Keras's Dense layers use Glorot initialization and PyTorch's Linear layers Kaiming "
        "uniform: expect close, not identical, curves."
    )
    return tuple(notes)
