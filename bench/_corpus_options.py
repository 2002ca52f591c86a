"""Choices the corpus writers share, and the draws of the fresh5, fresh7 and fresh8 batches.

``fresh5`` is a batch of runs unlike any earlier part of the corpus: data sets none had
(``FRESH5_DATA`` in ``_corpus_data.py``), optimizers none used (Adadelta, RAdam), Lightning
logging through its ``TensorBoardLogger`` (event files with Lightning's own tags), batch
sizes of 8 and 256, label noise of 40 %, and lengths from 4 to 400 epochs. It is built
after the rules were last changed and scored once.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

#: Frameworks of the fresh5 batch: the four of the corpus and Lightning's TensorBoardLogger.
FRESH5_FRAMEWORKS = ("keras", "tensorboard", "lightning", "hf", "lightning_tb")
#: The optimizers of the fresh5 batch (Keras has no RAdam: its runs take Adadelta).
FRESH5_OPTIMIZERS = ("adadelta", "radam")
#: Learning-rate multiples of the corpus's base rates (Adadelta's default rate is 1.0).
FRESH5_LR_SCALE = {"adadelta": 300.0, "radam": 1.0}


def optimizer(spec: dict[str, Any], params: Any) -> torch.optim.Optimizer:
    """The optimizer ``spec["optimizer"]`` names, with ``spec``'s rate and L2 weight decay."""
    name, lr, wd = spec["optimizer"], spec["lr"], spec["l2"]
    if name in ("sgd", "momentum"):
        momentum = 0.9 if name == "momentum" else 0.0
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=max(wd, 1e-2))
    kind = {
        "rmsprop": torch.optim.RMSprop,
        "nadam": torch.optim.NAdam,
        "adagrad": torch.optim.Adagrad,
        "adamax": torch.optim.Adamax,
        "adadelta": torch.optim.Adadelta,
        "radam": torch.optim.RAdam,
        "asgd": torch.optim.ASGD,
        "adafactor": torch.optim.Adafactor,
    }.get(name, torch.optim.Adam)
    if name == "nesterov":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, weight_decay=wd)
    if name == "rprop":  # no weight decay in torch's Rprop: the penalty is left out
        return torch.optim.Rprop(params, lr=lr)
    return scheduled(kind(params, lr=lr, weight_decay=wd), spec)


def scheduled(opt: torch.optim.Optimizer, spec: dict[str, Any]) -> torch.optim.Optimizer:
    """``opt`` whose rate follows ``spec["schedule"]`` step by step (fresh12): ``cosine``
    (a twentieth of warm-up, then down to 0), ``linear`` (down to 0, the Trainer's default),
    ``step`` (a tenth after half the steps); its own ``step`` also steps the schedule, so
    that every loop (plain, Lightning) follows it unchanged."""
    kind = spec.get("schedule", "none")
    if kind == "none":
        return opt
    total = max(1, spec["epochs"] * math.ceil(spec["n_train"] / spec["batch"]))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _rate(kind, s, total))
    inner = opt.step

    def step(*args: Any, **kwargs: Any) -> Any:
        result = inner(*args, **kwargs)
        sched.step()
        return result

    opt.step = step  # type: ignore[method-assign]
    return opt


def _rate(kind: str, s: int, total: int) -> float:
    """The share of the base rate at step ``s`` of ``total`` under schedule ``kind``."""
    t = min(s, total) / total
    if kind == "step":
        return 1.0 if t < 0.5 else 0.1
    if kind == "linear":
        return 1.0 - t
    warm = max(1, total // 20)
    return min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * t))


def keras_optimizer(spec: dict[str, Any]) -> Any:
    """The Keras optimizer ``spec["optimizer"]`` names, its rate following the schedule."""
    import keras

    lr: Any = spec["lr"]
    kind = spec.get("schedule", "none")
    total = max(1, spec["epochs"] * math.ceil(spec["n_train"] / spec["batch"]))
    schedules = keras.optimizers.schedules
    if kind == "cosine":
        warm = max(1, total // 20)
        lr = schedules.CosineDecay(0.0, total - warm, warmup_target=lr, warmup_steps=warm)
    elif kind == "linear":
        lr = schedules.PolynomialDecay(lr, total, end_learning_rate=0.0)
    elif kind == "step":
        lr = schedules.PiecewiseConstantDecay([total // 2], [lr, lr / 10])
    o = keras.optimizers
    return {
        "sgd": lambda: o.SGD(lr),
        "momentum": lambda: o.SGD(lr, momentum=0.9),
        "nesterov": lambda: o.SGD(lr, momentum=0.9, nesterov=True),
        "rmsprop": lambda: o.RMSprop(lr),
        "adamw": lambda: o.AdamW(lr),
        "adam": lambda: o.Adam(lr),
        "nadam": lambda: o.Nadam(lr),
        "adagrad": lambda: o.Adagrad(lr),
        "adamax": lambda: o.Adamax(lr),
        "adadelta": lambda: o.Adadelta(lr),
        "lion": lambda: o.Lion(lr),
        "lamb": lambda: o.Lamb(lr),
        "adafactor": lambda: o.Adafactor(lr),
    }[spec["optimizer"]]()


def lightning_logger(spec: dict[str, Any], out: Path) -> Any:
    """Lightning's ``CSVLogger``, or its ``TensorBoardLogger`` for ``lightning_tb`` runs."""
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    if spec["framework"] == "lightning_tb":
        return TensorBoardLogger(str(out), name="lightning_logs", default_hp_metric=False)
    return CSVLogger(str(out), name="lightning_logs")


def fresh5_options(spec: dict[str, Any], rng: np.random.Generator) -> None:
    """Redraw a fresh5 run's optimizer, batch, noise and length (after the framework's
    options, whose caps on Keras and Lightning runs still hold). Long runs (200 to 400
    epochs) get large batches and at most 300 samples, to stay cheap on a CPU."""
    regime = spec["regime"]
    framework = spec["framework"]
    if regime != "diverging":
        name = str(rng.choice(FRESH5_OPTIMIZERS))
        if framework == "keras":
            name = "adadelta"
        spec["lr"] = float(spec["lr"] * FRESH5_LR_SCALE[name] / _base_scale(spec["optimizer"]))
        spec["optimizer"] = name
    capped = {"keras": 30, "lightning": 25, "lightning_tb": 25}.get(framework)
    if regime == "still_improving":
        spec["epochs"] = int(rng.choice([4, 6, 15]))
    elif regime in ("overfitting", "good_fit", "underfitting") and rng.random() < 0.4:
        spec["epochs"] = int(rng.choice([200, 300, 400]))
        spec["batch"] = 256 if regime != "overfitting" else 64
        spec["n_train"] = min(spec["n_train"], 300)
    elif regime == "overfitting" and rng.random() < 0.5:
        spec["batch"] = 8
        spec["epochs"] = min(spec["epochs"], 60)
    if regime == "overfitting" and rng.random() < 0.3:
        spec["noise"] = 0.4
    if capped:
        spec["epochs"] = min(spec["epochs"], capped)
        spec["batch"] = max(spec["batch"], 32)
    if framework == "lightning_tb":
        spec["n_train"] = min(spec["n_train"], 200)


#: The optimizers of the fresh7 batch (Keras has neither ASGD nor Rprop: its runs take
#: SGD with Nesterov momentum), and their rate multiples of the corpus's base rates.
FRESH7_OPTIMIZERS = ("asgd", "rprop", "nesterov")
FRESH7_LR_SCALE = {"asgd": 30.0, "rprop": 10.0, "nesterov": 10.0}


def fresh7_options(spec: dict[str, Any], rng: np.random.Generator) -> None:
    """Redraw a fresh7 run's optimizer, logging frequency and length (after the framework's
    options): validation every third epoch, training logged every 2, 3 or 20 steps, runs
    of 7 or 9 epochs (still improving) and of 250 epochs (large batches, at most 300
    samples, to stay cheap on a CPU)."""
    regime, framework = spec["regime"], spec["framework"]
    name = str(rng.choice(FRESH7_OPTIMIZERS)) if framework != "keras" else "nesterov"
    if regime != "diverging":
        lr = spec["lr"] * FRESH7_LR_SCALE[name] / _base_scale(spec["optimizer"])
        spec["lr"] = float(min(lr, 0.05) if name == "asgd" else lr)
        spec["optimizer"] = name
    elif rng.random() < 0.5:  # far too large a step, with Nesterov momentum this time
        spec["optimizer"] = "nesterov"
    spec["log_steps"] = int(rng.choice([2, 3, 20]))
    if regime == "still_improving":
        spec["epochs"] = int(rng.choice([7, 9]))
    else:
        spec["val_every"] = int(rng.choice([1, 3]))
        if regime in ("overfitting", "good_fit", "underfitting") and rng.random() < 0.3:
            spec["epochs"], spec["batch"] = 250, 256
            spec["n_train"] = min(spec["n_train"], 300)
    _cap_slow_writers(spec, framework)


#: Framework shares of the fresh8 batch: the Lightning loggers, the least used, most.
FRESH8_SHARES = {"keras": 0.2, "tensorboard": 0.2, "lightning": 0.25, "hf": 0.15}
FRESH8_SHARES["lightning_tb"] = 0.2
#: The batches drawn as fresh8 was (other data sets each).
FRESH8_LIKE = ("fresh8", "design3", "fresh9", "fresh10", "fresh11")


def fresh8_options(spec: dict[str, Any], rng: np.random.Generator) -> None:
    """Redraw a fresh8 run's loss and length (after the framework's options): every
    regression run trains with MAE; still-improving runs last 3, 4 or 6 epochs; a third of
    the other TensorBoard and Trainer runs 300 or 500 epochs (large batches, at most 300
    samples, to stay cheap on a CPU)."""
    regime, framework = spec["regime"], spec["framework"]
    if spec["loss"] != "ce":
        spec["loss"] = "mae"
    if regime == "still_improving":
        spec["epochs"] = int(rng.choice([3, 4, 6]))
    elif regime != "diverging" and framework in ("tensorboard", "hf") and rng.random() < 0.35:
        spec["epochs"], spec["batch"] = int(rng.choice([300, 500])), 256
        spec["n_train"] = min(spec["n_train"], 300)
    if framework == "lightning_tb":
        spec["epochs"], spec["n_train"] = min(spec["epochs"], 25), min(spec["n_train"], 200)
        spec["batch"] = max(spec["batch"], 32)


#: The optimizers of fresh12 (Keras: Lion, LAMB, Adafactor; the others: torch's Adafactor,
#: AdamW under a schedule) and their rate multiples of the corpus's base rates.
FRESH12_OPTIMIZERS = {"keras": ("lion", "lamb", "adafactor"), "": ("adafactor", "adamw")}
FRESH12_LR_SCALE = {"lion": 0.3, "lamb": 3.0, "adafactor": 10.0, "adamw": 1.0}
#: The batches drawn with the fresh8 frameworks' shares (Lightning's two loggers most).
#: fresh15, fresh16 and fresh17 (score-only batch 16, s32): the fresh12, fresh13 and fresh8
#: draws on data mixes not used together before.
LATER_PARTS = (*FRESH8_LIKE, "fresh12", "fresh13", "fresh14", "fresh15", "fresh16", "fresh17")


def fresh12_options(spec: dict[str, Any], rng: np.random.Generator) -> None:
    """Redraw a fresh12 run's optimizer, rate schedule, loss and logging (after the
    framework's options): new optimizers (half the diverging runs too, at their far too
    large step), a warm-up and cosine, linear or step schedule for two runs in three,
    regression with MSE or MAE, validation every 4 or 5 epochs for a third of the runs
    that are not still improving, training logged every 7 or 25 steps, and a quarter of
    the TensorBoard and Trainer runs 200 or 400 epochs (large batches, at most 300 samples)."""
    regime, framework = spec["regime"], spec["framework"]
    names = FRESH12_OPTIMIZERS["keras" if framework == "keras" else ""]
    name = str(rng.choice(names))
    if regime != "diverging":
        spec["lr"] = float(spec["lr"] * FRESH12_LR_SCALE[name] / _base_scale(spec["optimizer"]))
        spec["optimizer"] = name
    elif rng.random() < 0.5:
        spec["optimizer"] = name
    spec["schedule"] = str(
        rng.choice(["none", "cosine", "linear", "step"], p=[1 / 3] + [2 / 9] * 3)
    )
    if spec["loss"] != "ce":
        spec["loss"] = str(rng.choice(["mse", "mae"]))
    spec["log_steps"] = int(rng.choice([7, 25]))
    if regime == "still_improving":
        spec["epochs"] = int(rng.choice([5, 10, 16]))
    else:
        if rng.random() < 1 / 3:
            spec["val_every"] = int(rng.choice([4, 5]))
        if regime != "diverging" and framework in ("tensorboard", "hf") and rng.random() < 0.25:
            spec["epochs"], spec["batch"] = int(rng.choice([200, 400])), 256
            spec["n_train"] = min(spec["n_train"], 300)
    _cap_slow_writers(spec, framework)


def _cap_slow_writers(spec: dict[str, Any], framework: str) -> None:
    """Keep the slowest writers' runs short (Keras and Lightning pay per epoch, Lightning's
    TensorBoard logger per sample): the batch's CPU time, not its kinds of run."""
    capped = {"keras": 30, "lightning": 25, "lightning_tb": 25}.get(framework)
    if capped:
        spec["epochs"] = min(spec["epochs"], capped)
        spec["batch"] = max(spec["batch"], 32)
    if framework == "lightning_tb":
        spec["n_train"] = min(spec["n_train"], 200)


def fresh13_options(spec: dict[str, Any], rng: np.random.Generator) -> None:
    """Redraw a fresh13 run (i57, score-only): the fresh8 draws, regression with MSE or MAE,
    and failed runs at rates from 1 (a step too large to converge, small enough not to blow
    up at once) to 10, with Adam, RMSprop or SGD with or without momentum."""
    fresh8_options(spec, rng)
    if spec["loss"] != "ce":
        spec["loss"] = str(rng.choice(["mse", "mae"]))
    if spec["regime"] == "diverging":
        spec["optimizer"] = str(rng.choice(["adam", "rmsprop", "sgd", "momentum"]))
        spec["lr"] = float(rng.choice([1.0, 1.0, 3.0, 10.0]))


def part_options(part: str, spec: dict[str, Any], rng: np.random.Generator) -> None:
    """Redraw a run's options as its batch asks (fresh5 and fresh6, fresh7, fresh8, 12, 13)."""
    if part in ("fresh13", "fresh14", "fresh16"):  # (the fresh13 draws, other data sets)
        fresh13_options(spec, rng)
    elif part in ("fresh12", "fresh15"):
        fresh12_options(spec, rng)
    elif part in ("fresh5", "fresh6"):
        fresh5_options(spec, rng)
    elif part == "fresh7":
        fresh7_options(spec, rng)
    elif part in (*FRESH8_LIKE, "fresh17"):  # (the same draws, other data sets)
        fresh8_options(spec, rng)


def quiet() -> None:
    """Silence warnings and Lightning's logging in the generator's worker processes."""
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _base_scale(name: str) -> float:
    """The rate multiple ``make_log_corpus.sample_spec`` applied for ``name``."""
    return {"rmsprop": 0.5, "momentum": 10.0, "sgd": 30.0, "adagrad": 10.0, "adamax": 2.0}.get(
        name, 1.0
    )
