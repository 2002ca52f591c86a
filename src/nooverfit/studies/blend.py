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
and loaded as any ensemble, with each member's weight in the average
(:func:`blend_members`; ``weights`` in ``best_model.pt``, beside the members' networks).

Measured on ``bench/tabular.py`` (bench/README.md, i66; quick budget, 3 seeds): of 22
sets, picked on auto (+3.4 test points: 77.2 -> 80.6), mode (+0.6) and greene (+0.3), on
no other; on 4 new held-out sets, none. It costs no optimizer step and under half a
second.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from math import gcd, lcm
from typing import TYPE_CHECKING, Any

from nooverfit.config import RunConfig
from nooverfit.studies.ensemble import Members
from nooverfit.studies.findings import Findings, add_curve, outcome

if TYPE_CHECKING:
    from nooverfit.studies.session import StudySession

#: the rung's shares of the blend tried
SHARES = (0.25, 0.5, 0.75)
#: standard errors of the seed-paired validation gain a blend must show over the choice
#: (``select.admissible``): one, not the selection's two, since it is one of three fixed
#: shares of two given models rather than the best of a level of twenty noisy variants.
#: On the design data two picked no blend anywhere (auto's +3.4 test points is a gain of
#: 0.6 validation points, one standard error, at a log loss 0.020 nats lower). Less one
#: part in a million: a gain on one seed of three, ties on the others, is exactly one
#: standard error, and passes (``select.beyond`` keeps a tie at the margin out, within
#: its tolerance of one part in 10^9).
MARGIN = 1.0 - 1e-6


def blend_weights(share: float, weights: Sequence[float]) -> tuple[float, ...]:
    """The weights of the blend's networks: the rung's ``share``, then the choice's
    networks' ``weights`` (normalized; equal where ``()``) scaled to ``1 - share``.

    Args:
        share: the rung's share, strictly between 0 and 1.
        weights: the choice's members' weights, or as many equal ones.

    Raises:
        ValueError: ``share`` not strictly between 0 and 1, or no weight for the choice.
    """
    if not 0 < share < 1:
        raise ValueError(f"the rung's share must lie strictly between 0 and 1, got {share!r}")
    if not weights:
        raise ValueError("the choice needs at least one network, got no weights")
    total = sum(weights)
    return (share, *((1 - share) * w / total for w in weights))


def blend_members(
    rung: RunConfig, rung_name: str, choice: Members, choice_name: str, share: float
) -> Members:
    """The :class:`~.ensemble.Members` of the blend: the rung, then the choice's networks,
    weighted by :func:`blend_weights`; titled with both and the rung's share."""
    n = len(choice.configs)
    weights = blend_weights(share, choice.weights or (1.0,) * n)
    f = Fraction(share).limit_denominator(16)
    title = f"{rung_name} at {f} and {choice_name} at {1 - f}"
    return Members(
        (rung, *choice.configs), (rung_name, *choice.names), title=title, weights=weights
    )


def named(name: str) -> bool:
    """Whether ``name`` is a blend's, as :func:`blend_members` titles it."""
    return re.fullmatch(r"ensemble of .+ at \d+/\d+ and .+ at \d+/\d+", name) is not None


def blendable(choice: Members, depths: Sequence[int]) -> bool:
    """Whether a blend with the rung may differ from the choice: the choice has a network
    with hidden layers (``depths``: its members' depths; a linear choice blended with the
    rung is another linear model)."""
    return len(choice.configs) > 0 and any(d > 0 for d in depths)


def networks_mean(rung: float, choice: float, count: int) -> float:
    """A blend's epochs as an ensemble's are: the mean over its networks, the rung's and the
    choice's ``count`` networks (``choice`` being their mean), whatever the share."""
    return (rung + count * choice) / (count + 1)


def run_blend(session: StudySession, found: Findings) -> None:
    """Score the blends of the rung's best variant with ``found``'s choice on every seed's
    validation rows, add them as the "blend" remedy's row and the share's validation
    curve, and recommend the one :func:`.select.pick_ensemble` picks (at :data:`MARGIN`).
    Nothing where the study trained no rung, or the choice is linear or transferred."""
    from nooverfit.studies.ensemble import score_members
    from nooverfit.studies.findings import rung_best
    from nooverfit.studies.result import Variant
    from nooverfit.studies.select import pick_ensemble

    rung = [v for v in found.variants if v.stage == "linear"]
    rec = found.recommended
    if not rung or rec is None or rec.stage == "transfer":
        return
    top = rung_best(rung)
    choice = found.ensembles.get(rec.name) if rec.stage == "ensemble" else None
    choice = choice or Members((rec.config,), (rec.name,))
    if not blendable(choice, [c.depth for c in choice.runs]) or choice.trained:
        return
    variants = []
    epochs = networks_mean(top.score.epochs, rec.score.epochs, len(choice.configs))
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


def members_phrase(kept: Mapping[str, Any]) -> str:
    """The members of an ensemble as the report counts them, from what ``results.json``
    keeps of it (``extras.ensemble``: ``names``, and ``weights`` where they differ):
    distinct networks, and a blend's weights ("2 networks weighted 1:3", not "2
    networks"; in results saved before ensembles carried weights, read from members that
    repeat); "several networks" where the names are not kept."""
    names: list[str] = list(kept.get("names", []))
    weights = kept.get("weights")
    if not names:
        return "several networks"
    distinct = list(dict.fromkeys(names))
    if weights is not None and len(weights) == len(names):
        share = dict.fromkeys(distinct, Fraction(0))
        for n, w in zip(names, weights, strict=True):
            share[n] += Fraction(w).limit_denominator(1000)
        ratio = _integers(list(share.values()))
    else:
        ratio = [names.count(n) for n in distinct]
    if len(set(ratio)) <= 1:
        return f"{len(distinct)} networks"
    return f"{len(distinct)} networks weighted " + ":".join(str(r) for r in ratio)


def _integers(fractions: Sequence[Fraction]) -> list[int]:
    """The smallest integers in the ratio of ``fractions`` (``1/4, 3/4`` -> ``1, 3``)."""
    scale = lcm(*(f.denominator for f in fractions))
    whole = [int(f * scale) for f in fractions]
    common = max(gcd(*whole), 1)
    return [w // common for w in whole]
