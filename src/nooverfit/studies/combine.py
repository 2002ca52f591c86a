"""The combination stage's candidates: the chosen settings of the remedies that helped,
together, with their continuous knobs re-tuned one step weaker. Pure, no training."""

from __future__ import annotations

from nooverfit.config import RunConfig
from nooverfit.studies.labels import describe

#: remedies that act on hidden layers, or stop a run early: not combined with the linear rung
_HIDDEN = ("dropout", "batchnorm", "capacity", "members", "periodic", "early_stopping")


def combine(baseline: RunConfig, chosen: dict[str, RunConfig]) -> list[RunConfig]:
    """The chosen settings of the helpful remedies together, plus light re-tuning of the
    two continuous knobs (lambda and dropout one grid step weaker), since remedies overlap:
    together they usually need less of each.

    Args:
        baseline: the unregularized configuration.
        chosen: the selected variant of each remedy that beat the baseline on validation.
    """
    if "linear" in chosen:  # a linear model has no hidden layer to drop, normalize or
        # narrow, and an annealed convex fit ends at its minimum: early stopping would only
        # keep the epoch of least validation loss, which then ties the rung's accuracy and
        # "wins" on its own selection (bench/README.md, i58: womenlf, -3.5 test points)
        chosen = {k: v for k, v in chosen.items() if k not in _HIDDEN}
    merged = baseline
    for name, cfg in chosen.items():
        if name == "l2":
            merged = merged.replace(l2=cfg.l2, weight_decay=cfg.weight_decay)
        elif name == "label_smoothing":
            merged = merged.replace(label_smoothing=cfg.label_smoothing)
        elif name == "dropout":
            merged = merged.replace(dropout=cfg.dropout)
        elif name in ("mixup", "ema"):
            merged = merged.replace(**{name: getattr(cfg, name)})
        elif name == "batchnorm":
            merged = merged.replace(batchnorm=True)
        elif name == "early_stopping":
            merged = merged.replace(early_stopping=cfg.early_stopping)
        elif name == "augment":  # with the epochs the remedy needed
            merged = merged.replace(augment=cfg.augment, epochs=max(merged.epochs, cfg.epochs))
        elif name == "cutout":  # with the epochs the remedy needed, as augmentation
            merged = merged.replace(cutout=cfg.cutout, epochs=max(merged.epochs, cfg.epochs))
        elif name == "tta":
            merged = merged.replace(tta=True)
        elif name == "capacity":
            merged = merged.replace(width=cfg.width)
        elif name == "linear":  # its rate, schedule and (unless the l2 remedy's) penalty
            penalized = merged.l2 > 0 or merged.weight_decay > 0  # by the l2 remedy
            merged = merged.replace(depth=0, lr=cfg.lr, cosine=cfg.cosine)
            merged = merged if penalized else merged.replace(l2=cfg.l2)
        elif name == "inputs":
            merged = merged.replace(inputs=cfg.inputs)
        elif name == "members":
            merged = merged.replace(members=cfg.members)
        elif name == "periodic":
            merged = merged.replace(periodic=True)
        elif name == "cosine":
            merged = merged.replace(
                cosine=True,
                augment=cfg.augment or merged.augment,
                epochs=max(merged.epochs, cfg.epochs),
            )
    weaker_l2 = float(f"{merged.l2 / 3:.2g}")
    weaker_wd = float(f"{merged.weight_decay / 3:.2g}")
    weaker_p = round(max(merged.dropout - 0.2, 0.0), 2)
    decay = merged.l2 > 0 or merged.weight_decay > 0

    def weaker_decay(c: RunConfig) -> RunConfig:
        return c.replace(l2=weaker_l2, weight_decay=weaker_wd)

    candidates = [merged]
    if decay:
        candidates.append(weaker_decay(merged))
    if merged.dropout > 0:
        candidates.append(merged.replace(dropout=weaker_p))
    if decay and merged.dropout > 0:
        candidates.append(weaker_decay(merged.replace(dropout=weaker_p)))
    if merged.early_stopping is None and len(chosen) > 0 and merged.depth > 0:
        candidates.append(merged.replace(early_stopping="patience:10"))
    unique = list(dict.fromkeys(c.replace(label=describe(c, baseline)) for c in candidates))
    return unique
