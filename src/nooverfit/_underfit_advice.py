"""Causes and remedies of an underfit (for :mod:`nooverfit._advice`): too little
capacity, or a penalty that made the network forget what it had fitted (the training
accuracy fell while the loss, which holds the penalty, kept falling)."""

from __future__ import annotations

import numpy as np

from nooverfit._words import counted
from nooverfit.diagnosis import Cause, Evidence, Knob, Remedy

#: The less-regularization remedy's knobs: L2 ten times lower, dropout halved (the
#: command line's "--dropout lower").
_LESS = (Knob("l2", factor=0.1), Knob("dropout", factor=0.5))


def underfitting_causes(
    ev: Evidence, n: int | None, metric: str | None = None, *, length: str = ""
) -> list[tuple[float, Cause, list[Remedy]]]:
    """Ranked (weight, cause, remedies) of an underfitting run of ``n`` epochs (None where
    the log does not say: the remedy asks for twice as many); ``metric``: the
    accuracy-like metric whose training values the evidence read (named in the text;
    ``acc`` and none read as "accuracy"); ``length``: the run's length as the texts say it
    (default: ``n`` epochs)."""
    out: list[tuple[float, Cause, list[Remedy]]] = []
    name = "accuracy" if metric in (None, "", "acc", "accuracy") else metric
    best, late = ev.extra.get("accuracy_best", 0.0), ev.extra.get("accuracy_late", 0.0)
    if best - late > 0.1:  # the fit was there and went: the penalty took it
        out.append(
            (
                1.0,
                Cause(
                    "too_much_regularization",
                    f"The training {name} fell from {best:.2f} to {late:.2f} while the loss "
                    "kept falling: the penalty in the loss shrinks the weights until the "
                    "network forgets what it fitted.",
                ),
                [
                    Remedy(
                        "less_regularization",
                        f"The network had reached {best:.2f} on its training set before the "
                        "penalty took it away.",
                        "--l2 10x lower, --dropout lower",
                        "RunConfig(l2=config.l2 / 10, dropout=config.dropout / 2)",
                        _LESS,
                    )
                ],
            )
        )
        return out
    pct = 100 * ev.learned
    if "accuracy_best" in ev.extra and best < 0.75:
        # the verdict read the accuracy: a loss holding a penalty may have fallen far
        # (Keras logs its L2 term in it) without the network fitting more samples
        fell = (
            f"The training {name} never got above {best:.2f} and validation tracks it: "
            "the model cannot fit even the training set."
        )
        short = f"The training {name} reached only {best:.2f}"
    elif np.isfinite(ev.train).any():
        fell = (
            f"The training loss fell only {pct:.0f}% from its first epoch and validation "
            "tracks it: the model cannot fit even the training set."
        )
        short = f"The training loss fell only {pct:.0f}%"
    else:
        fell = (
            "Validation stays poor and the log holds no training curve: the likeliest "
            "reading is a model too small or too constrained for the task."
        )
        short = "Validation stays poor"
    out.append(
        (
            1.0,
            Cause("too_little_capacity", fell),
            [
                Remedy(
                    "more_capacity",
                    f"{short}: a wider or deeper network can fit more.",
                    "--width 2x --depth +1",
                    "RunConfig(width=2 * config.width, depth=config.depth + 1)",
                    (Knob("width", factor=2), Knob("depth", step=1)),
                ),
                Remedy(
                    "less_regularization",
                    "Training and validation are equally poor, so any L2 or dropout is "
                    "holding the fit back.",
                    "--l2 10x lower, --dropout lower",
                    "RunConfig(l2=config.l2 / 10, dropout=config.dropout / 2)",
                    _LESS,
                ),
            ],
        )
    )
    out.append(
        (
            0.5,
            Cause("too_few_epochs", "The optimizer may not have reached a minimum yet."),
            [
                Remedy(
                    "train_longer",
                    f"{length or counted(n or 0, 'epoch')} may not have been enough to reach "
                    "a minimum.",
                    *longer(None if n is None else 2 * n),
                )
            ],
        )
    )
    return out


def longer(epochs: int | None) -> tuple[str, str, tuple[Knob, ...]]:
    """The train-longer remedy's setting, code and knob: ``epochs`` epochs, or where the
    log does not say how many epochs the run had (validation rounds named by step) twice
    as many."""
    if epochs is None:
        return "--epochs 2x", "RunConfig(epochs=2 * config.epochs)", (Knob("epochs", factor=2),)
    return f"--epochs {epochs}", f"RunConfig(epochs={epochs})", (Knob("epochs", value=epochs),)
