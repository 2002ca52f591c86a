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

With ``inputs`` (tabular data, a choice on standardized features), the copies are also
trained on another encoding of the same features, the piecewise-linear one with 16 bins
(``ple16``, :mod:`nooverfit.data.tabular`), and the averages of copies in both encodings
are candidates too: the two encodings err on different rows (smooth functions of a
feature against thresholds on it), so their average is a more diverse ensemble than
copies in one encoding (a probe on ``bench/tabular.py``'s 8 design sets with the
baseline MLP: the ensemble rule picked an average of 4 copies on each encoding over 4
plain copies on fgl, biopsy and womenlf, +0.6, +0.2 and +1.0 test points, and on none
did it pick one that lost; the study trains 2 on ``ple16`` to keep its cost, see
:data:`MIXED` and the bench README).

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


#: copies of the choice on the other encoding (``ple16`` has 16 columns per feature, so on
#: many features one run costs about two: with 4 of them, oj's study took 31 % more CPU)
MIXED = 2


def mixed_members(
    config: RunConfig, name: str, k: int, inputs: str, other: int = MIXED
) -> Members:
    """The first ``k`` copies of ``config`` and ``other`` copies of it on the ``inputs``
    encoding of the features, titled "``k`` copies of NAME and ``other`` on INPUTS
    inputs"."""
    moved = config.replace(inputs=inputs, label=f"{config.label or 'baseline'}, inputs {inputs}")
    plain = copy_members(config, name, k)
    names = (*plain.names, *(f"{name}, inputs {inputs} (copy {i + 1})" for i in range(other)))
    title = f"{k} copies of {name} and {other} on {inputs} inputs"
    return Members((*plain.configs, *copy_configs(moved, other)), names, title=title)


class Session(Trained, Protocol):
    """What :func:`copy_candidates` needs of the study's session."""

    def expect(self, runs: int) -> None: ...

    def train(self, variants: Sequence[RunConfig]) -> None: ...


def copy_candidates(
    session: Session, config: RunConfig, name: str, k: int, epochs: float, inputs: str = ""
) -> list[tuple[Members, Score]]:
    """Train ``k - 1`` copies of ``config`` (the variant ``name``, already trained) on
    every seed and score the averages of its first ``2..k`` copies on validation.

    Args:
        session: the study's session (trains and rebuilds the networks).
        config: the variant's configuration, seed-free.
        name: the variant's name.
        k: the most copies averaged (< 2: nothing is trained).
        epochs: the variant's mean epochs (an ensemble's ``Score.epochs``).
        inputs: another encoding of tabular features (``"ple16"``; "" for none):
            :data:`MIXED` copies of ``config`` are also trained on it, and the averages of
            the first ``j`` copies (``j`` = 2 and ``k``) with those are candidates too.

    Returns:
        ``(members, validation score)`` of each size, smallest first, then the mixed ones.
    """
    if k < 2:
        return []
    extra = copy_configs(config, k)[1:]
    mixed = [mixed_members(config, name, j, inputs) for j in sorted({2, k})] if inputs else []
    if mixed:
        extra += list(mixed[-1].configs[k:])  # the copies on the other encoding
    session.expect(len(extra) * len(session.seeds))
    session.train(extra)
    out = []
    for j in range(2, k + 1):
        members = copy_members(config, name, j)
        out.append((members, score_members(session, members, epochs)))
    return out + [(m, score_members(session, m, epochs)) for m in mixed]
