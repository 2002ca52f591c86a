"""Ensembles of a study's own networks: a variance remedy that trains nothing new.

A study trains a few dozen variants on every seed's split. The average of the predicted
probabilities of the best few of them (ranked by mean validation accuracy, so chosen on
validation only) usually predicts better than any one of them, most where the training
set is small and each network's errors are its own (Hansen & Salamon, 1990;
Lakshminarayanan et al., "Deep Ensembles", NeurIPS 2017). Each seed's ensemble averages
that seed's runs, which share one split, so its validation score is as honest as a
single run's.

Computing here (probabilities, scores) is apart from the study's plumbing, which rebuilds
the member networks and calls these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData
from nooverfit.studies.select import Score

#: ensemble sizes a study tries: the best k variants by mean validation accuracy
SIZES = (3, 5, 9)
#: rows a member network scores at once
CHUNK = 4096


class Ensemble(nn.Module):
    """Networks whose softmax outputs are averaged, with weights where given.

    ``forward`` returns the log of the (weighted) mean probabilities: ``argmax`` picks the
    ensemble's class and ``F.cross_entropy`` on the output is the ensemble's log loss, so
    it scores like any network. Its ``state_dict`` holds every member's under
    ``members.I.`` and the members' weights in the average under ``weights`` (summing to
    1); it loads into an ``Ensemble`` of networks built from the same configurations. A
    state dict saved without ``weights`` (before ensembles carried them) loads with equal
    weights.

    Args:
        members: the member networks.
        weights: each member's weight in the average, ``p = sum(w_i * p_i) / sum(w_i)``
            (positive; default None: equal weights, the plain mean).
    """

    weights: torch.Tensor  # (M,) float64, summing to 1: a buffer of the state dict

    def __init__(
        self, members: Sequence[nn.Module], weights: Sequence[float] | None = None
    ) -> None:
        super().__init__()
        if not members:
            raise ValueError("an ensemble needs at least one member network")
        self.members = nn.ModuleList(members)
        self.register_buffer("weights", normalized(weights, len(members)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probs = mean_softmax([m(x) for m in self.members], self.weights)
        return probs.clamp_min(1e-12).log()

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        # files saved before ensembles carried weights: their members counted alike
        state_dict.setdefault(f"{prefix}weights", normalized(None, len(self.members)))
        super()._load_from_state_dict(state_dict, prefix, *args)


def normalized(weights: Sequence[float] | None, members: int) -> torch.Tensor:
    """``weights`` of ``members`` networks as a float64 tensor summing to 1 (None: equal).

    Raises:
        ValueError: not one positive finite weight per member.
    """
    if weights is None:
        return torch.full((members,), 1.0 / members, dtype=torch.float64)
    w = torch.as_tensor(list(weights), dtype=torch.float64)
    if w.shape != (members,) or not bool(torch.isfinite(w).all() and (w > 0).all()):
        raise ValueError(
            f"an ensemble's weights must be {members} positive numbers, one per member, "
            f"got {list(weights)!r}"
        )
    return w / w.sum()


def mean_softmax(
    outputs: Sequence[torch.Tensor], weights: Sequence[float] | torch.Tensor | None = None
) -> torch.Tensor:
    """The mean of the softmax of each network's ``outputs`` (logits, ``(N, C)`` each),
    weighted by ``weights`` (one per output, normalized to sum 1) where they differ: equal
    weights (or None) take the plain mean."""
    probs = torch.stack([o.softmax(-1) for o in outputs])  # (M, N, C)
    if weights is None:
        return probs.mean(0)
    w = torch.as_tensor(weights, dtype=torch.float64)
    if bool((w == w[0]).all()):  # the plain mean, to the bit, as before weights existed
        return probs.mean(0)
    # weights on the CPU (a blend's, or an unmoved buffer) meet outputs on the GPU
    w = (w / w.sum()).to(probs.device, probs.dtype).view(-1, 1, 1)
    return (w * probs).sum(0)


@dataclass(frozen=True)
class Members:
    """The configurations (seed-free, as in a :class:`~.result.Variant`) of one ensemble.

    Attributes:
        configs: the member variants' configurations, best first (as their networks are
            rebuilt: with test-time shifts where :func:`with_shifts` added them).
        names: their names, as the study's variants are named.
        title: what the ensemble is, where its members' names would say it at length
            (the copies of one variant, :mod:`.copies`); "" to list them.
        trained: the runs holding each member's weights, where they differ from
            ``configs`` (test-time shifts added after training); () where they do not.
        weights: each member's weight in the average of probabilities (a blend's,
            :mod:`.blend`); () for equal weights.
    """

    configs: tuple[RunConfig, ...]
    names: tuple[str, ...]
    title: str = ""
    trained: tuple[RunConfig, ...] = ()
    weights: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.weights:
            normalized(self.weights, len(self.configs))  # refuses a wrong count or sign

    @property
    def runs(self) -> tuple[RunConfig, ...]:
        """The configurations whose runs hold the members' weights."""
        return self.trained or self.configs

    @property
    def name(self) -> str:
        shifts = " + test-time shifts" if self.trained else ""
        if self.title:
            return f"ensemble of {self.title}{shifts}"
        if len(self.configs) == 1:
            return f"{self.names[0]}{shifts}"
        return f"ensemble of {len(self.configs)}: " + ", ".join(self.names) + shifts


def with_shifts(members: Members) -> Members:
    """``members`` evaluated with test-time shifts (:mod:`nooverfit.shifts`): the same
    trained weights, each network averaging its predictions over the image and its four
    one-pixel shifts. Trains nothing; the configurations record ``tta`` so that a saved
    ensemble is rebuilt with the shifts."""
    return Members(
        tuple(c.replace(tta=True) for c in members.configs),
        members.names,
        members.title,
        members.runs,
        members.weights,
    )


def distinct(configs: Sequence[RunConfig], kept: Sequence[Sequence[int]]) -> list[int]:
    """The indices of ``configs`` that are not the same networks as an earlier one: a
    configuration that differs from another only in its early-stopping rule (or label)
    and kept the same epoch on every seed (``kept``: each one's kept epoch per seed) holds
    the same weights, and averaging it with itself would only weigh it twice."""
    seen: set[tuple[RunConfig, tuple[int, ...]]] = set()
    keep = []
    for i, (config, epochs) in enumerate(zip(configs, kept, strict=True)):
        key = (config.replace(early_stopping=None, label=""), tuple(epochs))
        if key not in seen:
            seen.add(key)
            keep.append(i)
    return keep


def candidates(
    configs: Sequence[RunConfig],
    names: Sequence[str],
    scores: Sequence[Score],
    sizes: Sequence[int] = SIZES,
) -> list[Members]:
    """The ensembles of the best ``k`` variants by validation, for each ``k`` in ``sizes``
    that is at least 2 and at most the number of variants (the largest always included
    when it is smaller than the next size)."""
    from nooverfit.studies.select import best

    order: list[int] = []
    rest = list(range(len(scores)))
    while rest:  # the ranking of select.best, repeated
        i = rest[best([scores[j] for j in rest])]
        order.append(i)
        rest.remove(i)
    ks = sorted({min(k, len(order)) for k in sizes if len(order) >= 2})
    return [
        Members(tuple(configs[i] for i in order[:k]), tuple(names[i] for i in order[:k]))
        for k in ks
        if k >= 2
    ]


@torch.no_grad()
def probabilities(
    models: Sequence[nn.Module], x: torch.Tensor, weights: Sequence[float] | None = None
) -> torch.Tensor:
    """Mean softmax of ``models`` (in eval mode) on ``x``, weighted by ``weights`` (None:
    equal): ``(N, C)``."""
    return Ensemble(models, weights).eval()(x).exp()


def accuracy_and_loss(probs: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Accuracy and mean log loss of predicted probabilities ``(N, C)`` for labels ``y``."""
    picked = probs.gather(1, y.view(-1, 1)).clamp_min(1e-12)
    return float((probs.argmax(1) == y).double().mean()), float(-picked.log().mean())


def ensemble_score(
    per_seed: Sequence[tuple[tuple[float, float], tuple[float, float]]], epochs: float
) -> Score:
    """The :class:`Score` of an ensemble from each seed's ``((train accuracy, train loss),
    (val accuracy, val loss))``; ``epochs`` is its members' mean."""
    a = np.array([[t[0], t[1], v[0], v[1]] for t, v in per_seed], dtype=float)
    return Score(
        val_accuracy=float(a[:, 2].mean()),
        val_accuracy_std=float(a[:, 2].std()),
        val_loss=float(a[:, 3].mean()),
        accuracy=float(a[:, 0].mean()),
        accuracy_std=float(a[:, 0].std()),
        loss=float(a[:, 1].mean()),
        gap=float((a[:, 0] - a[:, 2]).mean()),
        epochs=epochs,
        seeds=len(per_seed),
        val_per_seed=tuple(float(v) for v in a[:, 2]),
        val_loss_per_seed=tuple(float(v) for v in a[:, 3]),
    )


def on_test(
    models: Sequence[nn.Module], data: SplitData, weights: Sequence[float] | None = None
) -> tuple[float, float]:
    """Accuracy and log loss of the ensemble of ``models`` (weighted by ``weights``; None:
    equal) on ``data``'s test split."""
    probs = probabilities(models, data.x[data.test_index], weights)
    return accuracy_and_loss(probs, data.y[data.test_index])


def describe(members: Members) -> dict[str, object]:
    """What ``results.json`` keeps of an ensemble, enough to rebuild it for its weights
    (see :func:`load`): its members' names and configurations, and their weights in the
    average where they differ (``best_model.pt`` holds them too)."""
    kept: dict[str, object] = {
        "names": list(members.names),
        "configs": [c.to_dict() for c in members.configs],
    }
    if members.weights:
        kept["weights"] = [float(w) for w in normalized(members.weights, len(members.configs))]
    return kept


def load(
    path: str | Path,
    configs: Sequence[RunConfig],
    in_shape: Sequence[int],
    classes: int,
    kind: str,
) -> Ensemble:
    """The ensemble whose weights ``path`` holds (a ``best_model.pt`` a study wrote for
    an ensemble recommendation), built from its member ``configs``; the members' weights
    in the average are the file's (equal in a file saved without them)."""
    from nooverfit.models import build_model

    members = [build_model(c, tuple(in_shape), classes, kind=kind) for c in configs]
    from nooverfit.stale_bias import fold_stale_biases

    model = Ensemble(members)
    model.load_state_dict(fold_stale_biases(model, torch.load(path, weights_only=True)))
    return model.eval()


class Trained(Protocol):
    """What the ensemble stage reads of a study's state (its runner)."""

    seeds: list[int]
    data: dict[int, SplitData]

    def model(self, config: RunConfig) -> nn.Module: ...

    def split_data(self, config: RunConfig) -> SplitData: ...


def networks(runner: Trained, members: Members, seed: int) -> list[nn.Module]:
    """The trained member networks of ``seed``'s runs (with test-time shifts where the
    members' configurations add them to runs trained without)."""
    out = []
    for config, run in zip(members.configs, members.runs, strict=True):
        net = runner.model(run.replace(seed=seed))
        if config.tta and not run.tta:  # the layout of build_model's tta networks
            from nooverfit.models import Network
            from nooverfit.shifts import CopyMean, ShiftCopies

            net = Network(ShiftCopies(), *net.children(), CopyMean())
        out.append(net)
    return out


@torch.no_grad()
def member_probabilities(
    runner: Trained, members: Members, seed: int, index: torch.Tensor
) -> torch.Tensor:
    """Mean softmax ``(N, C)`` of ``seed``'s member networks (:func:`networks`) on the
    rows ``index``, weighted by the members' ``weights``, each member reading the rows as
    its own run's data encodes them (members may differ in their tabular input encoding:
    :mod:`.copies`)."""
    nets = networks(runner, members, seed)
    outputs = []
    for run, net in zip(members.runs, nets, strict=True):
        x = runner.split_data(run.replace(seed=seed)).x[index]
        # in chunks: a large test split at once would hold every activation in memory
        outputs.append(torch.cat([net.eval()(part) for part in x.split(CHUNK)]))
    return mean_softmax(outputs, members.weights or None)


def assemble(runner: Trained, members: Members, seed: int) -> Ensemble:
    """The :class:`Ensemble` of ``seed``'s member networks with the members' weights."""
    return Ensemble(networks(runner, members, seed), members.weights or None)


def score_members(runner: Trained, members: Members, epochs: float) -> Score:
    """The validation :class:`Score` of an ensemble over the runner's seeds; its training
    scores on each member's first configuration's training subset."""
    first = members.runs[0]
    per_seed = []
    for seed in runner.seeds:
        data = runner.split_data(first.replace(seed=seed))
        train = data.train_index(
            train_size=first.train_size, train_per_class=first.train_per_class
        )
        rows = []
        for index in (train, data.val_index):
            probs = member_probabilities(runner, members, seed, index)
            rows.append(accuracy_and_loss(probs, data.y[index]))
        per_seed.append((rows[0], rows[1]))
    return ensemble_score(per_seed, epochs)


def test_members(runner: Trained, members: Members, seed: int) -> tuple[float, float]:
    """Accuracy and log loss of ``seed``'s ensemble of ``members`` on its test split."""
    data = runner.split_data(members.runs[0].replace(seed=seed))
    probs = member_probabilities(runner, members, seed, data.test_index)
    return accuracy_and_loss(probs, data.y[data.test_index])


def load_from_study(folder: str | Path) -> Ensemble:
    """The recommended ensemble of a study folder (its ``results.json`` and
    ``best_model.pt``), in eval mode. It takes inputs encoded as the study's training
    data were; :func:`nooverfit.load_study_model` encodes raw data itself.

    Raises:
        ValueError: the study recommended a single network (load ``best_model.pt`` into
            ``nooverfit.build_model(config, ...)`` of its recommended configuration).
        BadInput: a ``results.json`` that is damaged or a newer nooverfit's
            (:func:`~nooverfit.studies.results_file.read_results`).
    """
    from nooverfit.studies.results_file import check_finished, read_results

    root = Path(folder)
    check_finished(root)
    results = read_results(root / "results.json")
    found = results.get("extras", {}).get("ensemble")
    if not found:
        raise ValueError(
            f"{root} recommends a single network, not an ensemble; expected "
            "extras.ensemble in its results.json"
        )
    configs = [RunConfig.from_dict(c) for c in found["configs"]]
    classes = len(results["settings"]["classes"])
    return load(root / "best_model.pt", configs, found["in_shape"], classes, found["kind"])
