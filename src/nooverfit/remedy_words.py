"""A remedy in a framework's words: the setting of each :class:`~nooverfit.diagnosis.Remedy`
written for the framework that trained the run.

The advice (:mod:`nooverfit._advice`) states each remedy's settings as values
(:class:`~nooverfit.diagnosis.Knob`: ``l2`` 1e-3, ``early_stopping`` with patience 10 and
13 epochs to the best evaluation, ``lr`` ten times lower). This module writes them as
nooverfit's own flags (the remedy's ``setting``, unchanged), as Keras 3, PyTorch,
Lightning or Hugging Face Trainer code, or, for a log whose writer is not known, in plain
words naming the knob and its value without any one framework's syntax.

The penalties differ in scale: nooverfit's ``l2`` is the coupled penalty
``loss += l2 / 2 * sum(||W||^2)`` (gradient ``l2 * W``: PyTorch's ``weight_decay`` of SGD or
Adam), while Keras's ``L2(c)`` adds ``c * sum(W^2)`` (gradient ``2 c W``), so ``l2`` reads
as ``L2(l2 / 2)``. AdamW's decoupled weight decay (the Hugging Face Trainer's optimizer)
is on no such scale; its own default, 1e-2, is the start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from nooverfit._curves import higher_is_better
from nooverfit.diagnosis import Diagnosis, Knob, Remedy

#: The frameworks a remedy can be written for (``diagnose --for``).
FRAMEWORKS = ("nooverfit", "keras", "pytorch", "lightning", "hf")
#: How the texts name each framework (nooverfit's own words and plain words are not named).
FRAMEWORK_NAMES = {
    "keras": "Keras",
    "pytorch": "PyTorch",
    "lightning": "Lightning",
    "hf": "Hugging Face Trainer",
}
#: The framework of a log whose writer is not known: plain words.
NEUTRAL = ""
#: AdamW's decoupled weight decay: its default (the start) and the range to tune over.
_DECOUPLED = (1e-2, 1e-4, 1e-1)


def in_words(
    diagnosis: Diagnosis, framework: str, *, logged_as: Mapping[str, str] | None = None
) -> Diagnosis:
    """The same diagnosis with each remedy's ``setting`` written for ``framework``.

    Args:
        diagnosis: a diagnosis whose remedies hold nooverfit's settings.
        framework: one of :data:`FRAMEWORKS`, or :data:`NEUTRAL` (``""``) for plain words.
        logged_as: the names the log gave its curves
            (:attr:`~nooverfit.history.History.logged_as`): early stopping watches the
            validation curve decided on under its logged name (Lightning's
            ``monitor="val/loss"``); ``None``: ``val_<monitor>``.

    Returns:
        The diagnosis unchanged for ``"nooverfit"``; otherwise each remedy's ``setting`` in
        the framework's words and its ``code`` (nooverfit's Python API) emptied.

    Raises:
        ValueError: an unknown framework.
    """
    _check(framework)
    if framework == "nooverfit":
        return diagnosis
    monitor = diagnosis.monitor
    watched = (logged_as or {}).get("val_loss" if monitor == "loss" else f"val_{monitor}", "")
    watched = "" if " + " in watched else watched  # (a sum of losses logged apart: no name)
    remedies = tuple(
        replace(r, setting=remedy_words(r, framework, monitor=monitor, watched=watched), code="")
        for r in diagnosis.remedies
    )
    return replace(diagnosis, remedies=remedies)


def remedy_words(
    remedy: Remedy, framework: str, *, monitor: str = "loss", watched: str = ""
) -> str:
    """The remedy's setting written for ``framework`` (see :func:`in_words`).

    Args:
        remedy: the remedy, with its knobs.
        framework: one of :data:`FRAMEWORKS`, or ``""`` for plain words.
        monitor: the curve the diagnosis decided on (``"loss"``, default, or a metric),
            which early stopping watches.
        watched: the name the log gave that curve's validation values (``val/loss``),
            the name early stopping must watch; ``""`` (default): ``val_<monitor>``.

    Raises:
        ValueError: an unknown framework.
    """
    _check(framework)
    if framework == "nooverfit":
        return remedy.setting
    if not remedy.knobs:  # (more data, transfer learning: by kind, plain words else)
        words = _KINDS.get(remedy.kind, {})
        return words.get(framework, words.get(NEUTRAL, ""))
    if framework == "hf" and {k.name for k in remedy.knobs} & {"width", "depth"}:
        # a Trainer fine-tunes a checkpoint: its size is chosen by picking another
        larger = all((k.factor or 1) > 1 or (k.step or 0) > 0 for k in remedy.knobs)
        return f"a {'larger' if larger else 'smaller'} pretrained checkpoint of the same family"
    return "; ".join(
        _early_stopping(k, framework, monitor, watched)
        if k.name == "early_stopping"
        else _knob_words(k, framework, monitor)
        for k in remedy.knobs
    )


def _check(framework: str) -> None:
    """Refuse a framework not in :data:`FRAMEWORKS` (nor plain words)."""
    if framework != NEUTRAL and framework not in FRAMEWORKS:
        raise ValueError(
            f"framework must be one of {', '.join(FRAMEWORKS)} (or '' for plain words), "
            f"got {framework!r}"
        )


def _knob_words(knob: Knob, framework: str, monitor: str) -> str:
    """One knob in ``framework``'s words."""
    words = {
        "l2": _l2,
        "dropout": _dropout,
        "epochs": _epochs,
        "lr": _lr,
        "width": _width,
        "depth": _depth,
        "batchnorm": _batchnorm,
        "clip_grad_norm": _clip,
        "augment": _augment,
    }[knob.name]
    return words(knob, framework, monitor)


def number(x: float) -> str:
    """A value as the settings write it: ``1e-3``, ``5e-4``, ``1e-2``, ``0.3``, ``13``."""
    return _power(x) if 0 < abs(x) <= 0.01 else f"{x:g}"


def _times(factor: float) -> str:
    """A factor as the settings write it: "10x lower", "3x higher", "halved"."""
    if factor == 0.5:
        return "halved"
    if factor == 2:
        return "doubled"
    return f"{number(1 / factor)}x lower" if factor < 1 else f"{number(factor)}x higher"


def _tuned(low: float | None, high: float | None, scale: float = 1.0) -> str:
    """ ", tuned over 5e-6..5e-2" for a range scaled by ``scale``, or nothing."""
    if low is None or high is None:
        return ""
    return f", tuned over {_power(low * scale)}..{_power(high * scale)}"


def _power(x: float) -> str:
    """A range's end as a power of ten: ``1e-1``, ``5e-2``."""
    mantissa, exponent = f"{x:.2e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def _l2(knob: Knob, framework: str, monitor: str) -> str:
    if knob.factor is not None:
        lower = _times(knob.factor)
        return {
            "keras": f"the L2 factors of the kernel_regularizers {lower}",
            "hf": f"TrainingArguments(weight_decay=...) {lower}",
        }.get(framework, f"weight_decay {lower}" if framework else f"any L2 penalty {lower}")
    value = knob.value or 0.0
    decay, low, high = _DECOUPLED
    if framework == "keras":
        # Keras's L2(c) adds c * sum(w**2): half the coupled l2 gives the same gradient
        return (
            f"kernel_regularizer=keras.regularizers.L2({number(value / 2)}) on each Dense/Conv "
            f"layer{_tuned(knob.low, knob.high, 0.5)}"
        )
    adamw = f"weight_decay={number(decay)}){_tuned(low, high)}"
    if framework in ("pytorch", "lightning"):
        where = " in configure_optimizers" if framework == "lightning" else ""
        return (
            f"torch.optim.AdamW(params, {adamw}{where}, or the L2 penalty "
            f"torch.optim.Adam(params, weight_decay={number(value)})"
        )
    if framework == "hf":
        return f"TrainingArguments({adamw}; the Trainer's AdamW decouples it, default 0"
    return (
        f"L2 penalty {number(value)} on the weights (loss + {number(value / 2)} * sum(w**2))"
        f"{_tuned(knob.low, knob.high)}"
    )


def _dropout(knob: Knob, framework: str, monitor: str) -> str:
    if knob.factor is not None:
        change = _times(knob.factor)
        return {
            "keras": f"the Dropout rates {change}",
            "pytorch": f"the nn.Dropout p {change}",
            "lightning": f"the nn.Dropout p {change}",
            "hf": f"the model config's dropout probabilities {change}",
        }.get(framework, f"dropout rates {change}")
    p = number(knob.value or 0.0)
    return {
        "keras": f"keras.layers.Dropout({p}) after each hidden layer",
        "pytorch": f"nn.Dropout(p={p}) after each hidden layer",
        "lightning": f"nn.Dropout(p={p}) after each hidden layer",
        "hf": f"the model config's dropout at {p} (from_pretrained(name, hidden_dropout_prob={p}) "
        "for BERT-like models)",
    }.get(framework, f"dropout {p} after each hidden layer")


def _early_stopping(knob: Knob, framework: str, monitor: str, watched: str) -> str:
    """Early stopping on the curve logged as ``watched`` (where a name the framework logs:
    Keras's ``val_`` names, any name Lightning's ``self.log`` gave, the Trainer's ``eval_``
    names), else ``val_<monitor>``; ``mode="max"`` for a score (Keras's ``"auto"`` reads
    the direction from built-in metrics only, Lightning's default is ``"min"``)."""
    patience, epochs = int(knob.value or 10), knob.epochs
    val = "val_loss" if monitor == "loss" else f"val_{monitor}"
    mode = "" if monitor == "loss" or not higher_is_better(monitor) else ', mode="max"'
    if framework == "keras":
        val = watched if watched.startswith("val_") else val  # (not TensorBoard's epoch_loss)
        stop = (
            f'keras.callbacks.EarlyStopping(monitor="{val}", patience={patience}{mode}, '
            "restore_best_weights=True)"
        )
        fixed = f"epochs={epochs} in model.fit"
    elif framework == "lightning":
        val = watched or val
        stop = (
            f'lightning.pytorch.callbacks.EarlyStopping(monitor="{val}", patience={patience}'
            f'{mode}) with ModelCheckpoint(monitor="{val}"{mode}) to keep the best weights'
        )
        fixed = f"Trainer(max_epochs={epochs})"
    elif framework == "hf":
        best = "eval_loss" if monitor == "loss" else f"eval_{monitor}"
        best = watched if watched.startswith("eval_") else best
        stop = (
            f"EarlyStoppingCallback(early_stopping_patience={patience}) with "
            f'TrainingArguments(load_best_model_at_end=True, metric_for_best_model="{best}") '
            "(patience counts the Trainer's evaluations, on its eval_strategy, not epochs)"
        )
        fixed = f"TrainingArguments(num_train_epochs={epochs})"
    else:
        curve = (watched or val) if framework else f"the validation {monitor}"
        keep = "state_dict" if framework else "weights"
        stop = (
            f"stop once {curve} has not improved for {patience} evaluations and keep the best "
            f"one's {keep}"
        )
        fixed = f"train {epochs} epochs"
    return stop if epochs is None else f"{fixed}, or {stop}"


def _epochs(knob: Knob, framework: str, monitor: str) -> str:
    if knob.value is None:
        return {
            "keras": "twice the epochs in model.fit",
            "lightning": "Trainer(max_epochs=...) doubled",
            "hf": "TrainingArguments(num_train_epochs=...) doubled",
        }.get(framework, "twice as many epochs")
    n = int(knob.value)
    return {
        "keras": f"epochs={n} in model.fit",
        "lightning": f"Trainer(max_epochs={n})",
        "hf": f"TrainingArguments(num_train_epochs={n})",
    }.get(framework, f"train {n} epochs")


def _lr(knob: Knob, framework: str, monitor: str) -> str:
    factor = knob.factor or 1.0
    change = _times(factor)
    # the optimizers' defaults, scaled: a concrete value for a run that kept them
    if framework == "keras":
        return (
            f"learning_rate {change} on the optimizer (keras.optimizers.Adam("
            f"learning_rate={number(1e-3 * factor)}) from Adam's default 1e-3)"
        )
    if framework in ("pytorch", "lightning"):
        where = " in configure_optimizers" if framework == "lightning" else ""
        return (
            f"lr {change} on the optimizer{where} (torch.optim.Adam(params, "
            f"lr={number(1e-3 * factor)}) from Adam's default 1e-3)"
        )
    if framework == "hf":
        return (
            f"TrainingArguments(learning_rate={number(5e-5 * factor)}), {change} than the "
            "default 5e-5"
        )
    return f"learning rate {change}"


def _width(knob: Knob, framework: str, monitor: str) -> str:
    share = "half" if (knob.factor or 1) < 1 else "twice"
    conv = "the out_channels of each conv"
    return {
        "keras": f"{share} the units of each hidden Dense layer and the filters of each Conv",
        "pytorch": f"{share} the out_features of each hidden nn.Linear and {conv}",
        "lightning": f"{share} the out_features of each hidden nn.Linear and {conv}",
    }.get(framework, f"{share} the units of each hidden layer")


def _depth(knob: Knob, framework: str, monitor: str) -> str:
    return {
        "keras": "one more hidden Dense layer",
        "pytorch": "one more hidden nn.Linear layer",
        "lightning": "one more hidden nn.Linear layer",
    }.get(framework, "one more hidden layer")


def _batchnorm(knob: Knob, framework: str, monitor: str) -> str:
    return {
        "keras": "keras.layers.BatchNormalization() after each hidden Dense/Conv layer",
        "pytorch": "nn.BatchNorm1d(features) after each hidden nn.Linear (nn.BatchNorm2d "
        "after each conv)",
        "lightning": "nn.BatchNorm1d(features) after each hidden nn.Linear (nn.BatchNorm2d "
        "after each conv)",
        "hf": "a normalization layer in each block (nn.LayerNorm, as transformer blocks hold)",
    }.get(framework, "batch normalization after each hidden layer")


def _clip(knob: Knob, framework: str, monitor: str) -> str:
    norm = repr(float(knob.value or 1.0))  # a float literal, as the APIs take it
    return {
        "keras": f"clipnorm={norm} on the optimizer (keras.optimizers.Adam(clipnorm={norm}))",
        "pytorch": f"torch.nn.utils.clip_grad_norm_(model.parameters(), {norm}) before "
        "optimizer.step()",
        "lightning": f"Trainer(gradient_clip_val={norm})",
        "hf": f"TrainingArguments(max_grad_norm={norm}), the default: check it was not raised "
        "or set to 0",
    }.get(framework, f"clip the gradient norm at {norm}")


def _augment(knob: Knob, framework: str, monitor: str) -> str:
    return {
        "keras": "label-preserving augmentation layers on the training inputs "
        "(keras.layers.RandomFlip, RandomTranslation, RandomZoom for images; "
        "keras.layers.GaussianNoise for features), active in training only",
        "pytorch": "label-preserving transforms on the training set only (torchvision "
        "transforms.v2 RandomResizedCrop, RandomHorizontalFlip for images; Gaussian noise "
        "for features)",
        "lightning": "label-preserving transforms on the training set only (torchvision "
        "transforms.v2 RandomResizedCrop, RandomHorizontalFlip for images; Gaussian noise "
        "for features)",
        "hf": "label-preserving transforms on the training dataset only (Dataset.with_transform)",
    }.get(
        framework,
        f"label-preserving augmentation of the training samples at strength "
        f"{number(knob.value or 0.0)} of 1",
    )


#: The settings of remedies that change no knob, by kind and framework ("" for plain
#: words, the fallback of the others).
_KINDS: dict[str, dict[str, str]] = {
    "more_data": {"": "collect or label more data"},
    "synthesis": {
        "": "synthesized samples mixed into the training set (nooverfit synthesize writes "
        "noisy copies of audio clips)"
    },
    "transfer_learning": {
        "": "retrain the input and output layers of a pretrained network",
        "keras": "a pretrained keras.applications model (include_top=False) with a new "
        "output layer, its base frozen first",
        "pytorch": "a pretrained torchvision or timm model with a new output layer, its "
        "base frozen first",
        "lightning": "a pretrained torchvision or timm model with a new output layer, its "
        "base frozen first",
        "hf": "a checkpoint pretrained on data closer to yours",
    },
    "log_validation": {
        "": "log the validation loss every epoch",
        "keras": "validation_data=(x_val, y_val) in model.fit",
        "pytorch": 'writer.add_scalar("val_loss", loss, epoch) after each epoch\'s evaluation',
        "lightning": 'self.log("val_loss", loss) in validation_step, with val_dataloaders',
        "hf": 'TrainingArguments(eval_strategy="epoch") with an eval_dataset',
    },
}
