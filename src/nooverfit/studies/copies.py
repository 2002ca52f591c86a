"""Copies of the study's choice: one configuration trained from several initial weights
on each seed's split, their predictions averaged.

A deep ensemble of one tuned configuration (Lakshminarayanan et al., NeurIPS 2017) is
what TabM trains in one network ("TabM: Advancing tabular deep learning with
parameter-efficient ensembling", Gorishniy et al., ICLR 2025): on small tabular data, the
average of a few independently initialized copies of a good MLP is among the strongest
models. The copies differ only in :attr:`~nooverfit.config.RunConfig.init` (same split,
batch order and dropout masks), so the fused engine trains them side by side in one
group; the study then scores the averages of the first ``2, 3, ..., k`` copies on every
seed's validation set (the knob's validation curve); each is one more ensemble candidate
(see :mod:`.ensemble`). The study copies its choice so far (the recommendation before
the ensembles): against it, the copies differ in nothing but their initial weights, so
their seed-paired validation difference is nearly free of noise.

Pure, except :func:`copy_candidates`, which trains through the study's session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from nooverfit.config import RunConfig
from nooverfit.studies.ensemble import Members, Trained, score_members
from nooverfit.studies.select import Score


def copy_configs(config: RunConfig, k: int) -> list[RunConfig]:
    """``config`` and its ``k - 1`` copies (``init`` 1 to ``k - 1``; ``config``'s own
    ``init`` is kept first). Labels say which copy each is."""
    if k < 1:
        raise ValueError(f"copies must be an integer >= 1, got {k!r}")
    label = config.label or "baseline"
    return [config] + [
        config.replace(init=config.init + i, label=f"{label} (copy {i + 1})") for i in range(1, k)
    ]


def copy_members(config: RunConfig, name: str, k: int) -> Members:
    """The :class:`~.ensemble.Members` of the first ``k`` copies of ``config`` (named
    ``name``), titled "``k`` copies of NAME"."""
    configs = copy_configs(config, k)
    names = (name, *(f"{name} (copy {i + 1})" for i in range(1, k)))
    return Members(tuple(configs), names, title=f"{k} copies of {name}")


class Session(Trained, Protocol):
    """What :func:`copy_candidates` needs of the study's session."""

    def expect(self, runs: int) -> None: ...

    def train(self, variants: Sequence[RunConfig]) -> None: ...


def copy_candidates(
    session: Session, config: RunConfig, name: str, k: int, epochs: float
) -> list[tuple[Members, Score]]:
    """Train ``k - 1`` copies of ``config`` (the variant ``name``, already trained) on
    every seed and score the averages of its first ``2..k`` copies on validation.

    Args:
        session: the study's session (trains and rebuilds the networks).
        config: the variant's configuration, seed-free.
        name: the variant's name.
        k: the most copies averaged (< 2: nothing is trained).
        epochs: the variant's mean epochs (an ensemble's ``Score.epochs``).

    Returns:
        ``(members, validation score)`` of each size, smallest first.
    """
    if k < 2:
        return []
    extra = copy_configs(config, k)[1:]
    session.expect(len(extra) * len(session.seeds))
    session.train(extra)
    out = []
    for j in range(2, k + 1):
        members = copy_members(config, name, j)
        out.append((members, score_members(session, members, epochs)))
    return out
