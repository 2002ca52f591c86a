"""A blend of the linear rung with the study's choice: averaged probabilities, the rung's
share chosen on validation.

On tabular data the study trains a linear rung (the network without hidden layer: logistic
regression, :mod:`.plan`) besides the networks with hidden layers. The two err on
different rows (a linear boundary against a learned, bent one), so the weighted average
of their predicted probabilities is a heterogeneous ensemble that can beat both, as
stacking a linear model with trees or networks often does. It trains nothing: the rung's
best variant by validation and the choice after the ensembles (one network or an
average) are already trained on every seed's split.

The rung's share ``w`` of the blend ``w * p_linear + (1 - w) * p_choice`` is the knob:
:data:`SHARES`, each scored on every seed's validation rows; :func:`.select.pick_ensemble`
with :data:`MARGIN` picks the one that replaces the choice, or none. A blend is saved
and loaded as any ensemble: its members are repeated so that their plain average is the
weighted one (:func:`blend_members`), which the saved model's loader averages as it is.

Measured on ``bench/tabular.py`` (bench/README.md, i66; quick budget, 3 seeds): of 22
sets, picked on auto (+3.4 test points: 77.2 -> 80.6), mode (+0.6) and greene (+0.3), on
no other; on 4 new held-out sets, none. It costs no optimizer step and under half a
second.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from math import gcd
from typing import TYPE_CHECKING

from nooverfit.config import RunConfig
from nooverfit.studies.ensemble import Members
from nooverfit.studies.findings import Findings, add_curve, outcome

if TYPE_CHECKING:
    from nooverfit.studies.session import StudySession

#: the rung's shares of the blend tried, simplest fractions (members are repeated)
SHARES = (0.25, 0.5, 0.75)
#: standard errors of the seed-paired validation gain a blend must show over the choice
#: (``select.admissible``): one, not the selection's two, since it is one of three fixed
#: shares of two given models rather than the best of a level of twenty noisy variants.
#: On the design data two picked no blend anywhere (auto's +3.4 test points is a gain of
#: 0.6 validation points, one standard error, at a log loss 0.020 nats lower). Less one
#: part in 10^9: a gain on one seed of three, ties on the others, is exactly one standard
#: error, which rounding must not decide.
MARGIN = 1.0 - 1e-9


def multiplicities(share: float, members: int) -> tuple[int, int]:
    """How many times the rung's network and each of the choice's ``members`` networks
    appear in the blend, so that their plain average gives the rung ``share`` of it:
    ``(a, b)`` with ``a / (a + members * b) == share``, the smallest such integers.

    Raises:
        ValueError: ``share`` not strictly between 0 and 1, or ``members`` below 1.
    """
    if not 0 < share < 1:
        raise ValueError(f"the rung's share must lie strictly between 0 and 1, got {share!r}")
    if members < 1:
        raise ValueError(f"the choice needs at least one network, got {members!r}")
    f = Fraction(share).limit_denominator(16)
    a, b = f.numerator * members, f.denominator - f.numerator
    g = gcd(a, b)
    return a // g, b // g


def blend_members(
    rung: RunConfig, rung_name: str, choice: Members, choice_name: str, share: float
) -> Members:
    """The :class:`~.ensemble.Members` of the blend: the rung repeated, each of the
    choice's networks repeated (:func:`multiplicities`), titled with both and the
    rung's share."""
    a, b = multiplicities(share, len(choice.configs))
    configs = (rung,) * a + tuple(c for c in choice.configs for _ in range(b))
    names = (rung_name,) * a + tuple(n for n in choice.names for _ in range(b))
    f = Fraction(share).limit_denominator(16)
    title = f"{rung_name} at {f} and {choice_name} at {1 - f}"
    return Members(configs, names, title=title)


def named(name: str) -> bool:
    """Whether ``name`` is a blend's, as :func:`blend_members` titles it."""
    return re.fullmatch(r"ensemble of .+ at \d+/\d+ and .+ at \d+/\d+", name) is not None


def blendable(choice: Members, depths: Sequence[int]) -> bool:
    """Whether a blend with the rung may differ from the choice: the choice has a network
    with hidden layers (``depths``: its members' depths; a linear choice blended with the
    rung is another linear model)."""
    return len(choice.configs) > 0 and any(d > 0 for d in depths)


def run_blend(session: StudySession, found: Findings) -> None:
    """Score the blends of the rung's best variant with ``found``'s choice on every seed's
    validation rows, add them as the "blend" remedy's row and the share's validation
    curve, and recommend the one :func:`.select.pick_ensemble` picks (at :data:`MARGIN`).
    Nothing where the study trained no rung, or the choice is linear or transferred."""
    from nooverfit.studies.ensemble import score_members
    from nooverfit.studies.result import Variant
    from nooverfit.studies.select import best, pick_ensemble

    rung = [v for v in found.variants if v.stage == "linear"]
    rec = found.recommended
    if not rung or rec is None or rec.stage == "transfer":
        return
    top = rung[best([v.score for v in rung])]
    choice = found.ensembles.get(rec.name) if rec.stage == "ensemble" else None
    choice = choice or Members((rec.config,), (rec.name,))
    if not blendable(choice, [c.depth for c in choice.runs]) or choice.trained:
        return
    variants = []
    epochs = (top.score.epochs + rec.score.epochs) / 2
    for share in SHARES:
        members = blend_members(top.config, top.name, choice, rec.name, share)
        s = score_members(session, members, epochs)
        runs = tuple(dict.fromkeys(r.config.key for c in members.runs for r in session.runs(c)))
        found.ensembles[members.name] = members
        variants.append(Variant(members.name, "ensemble", top.config, s, rec.verdict, runs))
    found.outcomes.append(outcome("blend", variants, found.base))
    add_curve(found, "linear_share", [0.0, *SHARES], [rec.score, *(v.score for v in variants)])
    pick = pick_ensemble([v.score for v in variants], rec.score, margin=MARGIN)
    if pick is not None:
        found.recommended = variants[pick]


def counted(names: Sequence[str]) -> str:
    """``names`` of an ensemble's members as the report counts them: distinct networks, and
    a blend's weights where members repeat ("2 networks weighted 1:3", not "4 networks")."""
    distinct = list(dict.fromkeys(names))
    if len(distinct) == len(names):
        return f"{len(names)} networks"
    weights = ":".join(str(names.count(n)) for n in distinct)
    return f"{len(distinct)} networks weighted {weights}"
