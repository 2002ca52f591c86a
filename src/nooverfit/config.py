"""`RunConfig`: everything that defines one training run, validated in one place."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

FAMILIES = ("mlp", "cnn")
OPTIMIZERS = ("adam", "adamw", "sgd")
#: the largest mixup alpha (Beta(alpha, alpha) concentrates at 0.5 beyond a few units)
MAX_MIXUP = 10.0
#: fields added after run keys were first stored: left out of :attr:`RunConfig.key` at
#: their default, so the runs of earlier versions keep their keys (and resume)
LATER_FIELDS: dict[str, object] = {
    "mixup": 0.0,
    "ema": 0.0,
    "inputs": "standard",
    "cosine": False,
    "init": 0,
    "pseudo": 0.0,
    "cutout": 0.0,
    "convs": 1,
    "tta": False,
    "members": 1,
    "periodic": False,
}
#: fields written by :meth:`RunConfig.to_dict` only where they differ from these defaults
OPTIONAL_FIELDS: dict[str, object] = {"members": 1, "periodic": False}
#: spreads ``(seed, init)`` pairs apart in :attr:`RunConfig.init_seed` (a prime, so that
#: no copy of one seed's run starts from another seed's weights)
INIT_STRIDE = 1_000_003


def check_l2(l2: float, *, name: str = "l2") -> float:
    """Return ``l2`` if it is a finite number >= 0, else raise ``ValueError``."""
    if not isinstance(l2, (int, float)) or not math.isfinite(l2) or l2 < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {l2!r}")
    return float(l2)


def check_dropout(p: float, *, name: str = "dropout") -> float:
    """Return ``p`` if it lies in [0, 1), else raise ``ValueError``."""
    if not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {p!r}")
    return float(p)


@dataclass(frozen=True)
class RunConfig:
    """One training run: model, regularization, optimizer, data size and seed.

    Args:
        model: model family, ``"mlp"`` or ``"cnn"``.
        width: hidden units per layer (MLP) or channels of the first block (CNN).
        depth: number of hidden layers (MLP) or conv blocks (CNN).
        convs: convolutions per CNN block (default 1; see :func:`nooverfit.models.cnn`).
        tta: evaluate on each image and its four one-pixel shifts and average the
            predictions (test-time augmentation, images only; :mod:`nooverfit.shifts`);
            default False.
        l2: coupled L2 penalty, ``loss += l2 / 2 * sum(||W||_F^2)`` over weights (default 0).
        weight_decay: weight decay of the weights, default 0: decoupled (AdamW's
            ``W -= lr * weight_decay * W`` each step) with ``"adam"``/``"adamw"``; with
            ``"sgd"`` SGD's own coupled decay, identical to ``l2`` of the same value
            (for SGD, decoupled decay is coupled decay with ``weight_decay`` scaled by lr).
        dropout: dropout rate in [0, 1) after each hidden block (default 0).
        label_smoothing: weight in [0, 1) of the uniform distribution mixed into the
            training targets (Szegedy et al., 2016); validation and test losses stay plain
            cross-entropy (default 0).
        mixup: concentration ``alpha`` of mixup's ``Beta(alpha, alpha)`` mixing weights
            (Zhang et al., ICLR 2018): each training sample is mixed with a partner of its
            batch, and the loss with both labels in the same proportion; 0 for none.
        ema: decay of an exponential moving average of the weights (0 for none): each run
            is evaluated, kept and saved with the averaged weights (Polyak averaging;
            Izmailov et al., "Averaging Weights Leads to Wider Optima", UAI 2018).
        batchnorm: batch normalization after each hidden linear/conv layer (default off);
            an MLP's then skips a last batch of a single sample, which batch norm over
            features cannot train on (:func:`nooverfit.train.needs_pairs`).
        cosine: anneal the learning rate from ``lr`` towards 0 over ``epochs`` along a
            half cosine, set once per epoch (Loshchilov & Hutter, "SGDR", ICLR 2017);
            default off (a constant ``lr``).
        augment: augmentation strength, 0 for none (default 0).
        cutout: side of the square each training image loses (set to 0), as a fraction of
            the image's shorter side, in [0, 1]; 0 for none (default; images only, see
            :func:`nooverfit.data.augment.cutout`).
        optimizer: ``"adam"`` or ``"adamw"`` (the same optimizer: Adam with decoupled
            ``weight_decay``, i.e. AdamW, which is plain Adam at ``weight_decay`` 0; plain
            Adam's coupled decay is ``l2``), or ``"sgd"`` (momentum 0.9).
        lr: learning rate (default 1e-3).
        batch_size: mini-batch size (default 32).
        epochs: maximum number of epochs (default 100).
        early_stopping: criterion spec such as ``"patience:10"`` or ``"gl:5"``; the
            criterion's best-epoch weights are restored whether or not it fires. ``None``
            (default) trains all epochs and keeps the final weights.
        seed: seed of the initialization, the data order and the dropout masks.
        train_size: number of training samples drawn from the train pool, ``None`` for all.
        train_per_class: training samples per class (overrides ``train_size``).
        label: free-form name shown in reports (e.g. ``"dropout=0.3"``).
        inputs: how tabular features are scaled or encoded for this run, one of
            :data:`nooverfit.data.tabular.SCALINGS` (default ``"standard"``; ``"ple"``:
            piecewise-linear encoding; ``"onehot"``: a column per repeated value);
            statistics of the training pool only (``onehot``'s count of columns from
            every row's features). Ignored for images and audio.
        init: which copy of the run this is (default 0): copies differ only in their
            initial weights (:attr:`init_seed`), on the same split, batch order and
            dropout masks; averaged, they are the study's ensemble of copies
            (:mod:`nooverfit.studies.copies`).
        pseudo: the confidence threshold in (0, 1] of this run's pseudo-labels, 0 for none
            (default): the run trains on its labelled subset plus the pool samples the
            study's choice labels with at least this probability
            (:mod:`nooverfit.studies.unlabeled`); the study supplies those data.
        members: TabM-mini ensemble members in one MLP (default 1: a plain MLP; tabular
            MLPs, :mod:`nooverfit.tabm`).
        periodic: PLR embeddings of the features before the MLP (default False;
            :mod:`nooverfit.tabm`).
    """

    model: str = "mlp"
    width: int = 256
    depth: int = 2
    l2: float = 0.0
    weight_decay: float = 0.0
    dropout: float = 0.0
    label_smoothing: float = 0.0
    mixup: float = 0.0
    ema: float = 0.0
    batchnorm: bool = False
    cosine: bool = False
    augment: float = 0.0
    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 32
    epochs: int = 100
    early_stopping: str | None = None
    seed: int = 0
    train_size: int | None = None
    train_per_class: int | None = None
    label: str = ""
    inputs: str = "standard"
    init: int = 0
    pseudo: float = 0.0
    cutout: float = 0.0
    convs: int = 1
    tta: bool = False
    members: int = 1
    periodic: bool = False

    def __post_init__(self) -> None:
        if self.model not in FAMILIES:
            raise ValueError(f"model must be one of {FAMILIES}, got {self.model!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        check_l2(self.l2)
        check_l2(self.weight_decay, name="weight_decay")
        check_dropout(self.dropout)
        check_dropout(self.label_smoothing, name="label_smoothing")
        check_dropout(self.ema, name="ema")
        if not isinstance(self.mixup, (int, float)) or not 0 <= self.mixup <= MAX_MIXUP:
            raise ValueError(f"mixup must be in [0, {MAX_MIXUP:g}], got {self.mixup!r}")
        for name in ("width", "depth", "batch_size", "epochs"):
            value = getattr(self, name)
            least = 0 if name == "depth" and self.model == "mlp" else 1  # 0: no hidden layer
            if not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        if not math.isfinite(self.lr) or self.lr <= 0:
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if not 0 <= self.augment <= 1:
            raise ValueError(f"augment must be in [0, 1], got {self.augment!r}")
        if not isinstance(self.pseudo, (int, float)) or not 0 <= self.pseudo <= 1:
            raise ValueError(f"pseudo must be in [0, 1], got {self.pseudo!r}")
        if not isinstance(self.cutout, (int, float)) or not 0 <= self.cutout <= 1:
            raise ValueError(f"cutout must be in [0, 1], got {self.cutout!r}")
        if not isinstance(self.convs, int) or self.convs < 1:
            raise ValueError(f"convs must be an integer >= 1, got {self.convs!r}")
        if not isinstance(self.members, int) or self.members < 1:
            raise ValueError(f"members must be an integer >= 1, got {self.members!r}")
        if (self.members > 1 or self.periodic) and self.model != "mlp":
            raise ValueError(f"members and periodic need model 'mlp', got {self.model!r}")
        if not isinstance(self.init, int) or self.init < 0:
            raise ValueError(f"init must be an integer >= 0, got {self.init!r}")
        for name in ("train_size", "train_per_class"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be an integer >= 1 or None, got {value!r}")
        from nooverfit.data.tabular import check_scaling

        check_scaling(self.inputs)
        if self.early_stopping is not None:
            from nooverfit.stopping import parse_criterion

            parse_criterion(self.early_stopping)

    def replace(self, **changes: Any) -> RunConfig:
        """Return a copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain JSON-serializable dict (the tabular network
        fields, :data:`OPTIONAL_FIELDS`, only where set, so that studies without them
        write what they wrote before)."""
        fields = dataclasses.asdict(self)
        return {k: v for k, v in fields.items() if OPTIONAL_FIELDS.get(k, object()) != v}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Build a config from :meth:`to_dict` output, ignoring unknown keys."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @property
    def init_seed(self) -> int:
        """The seed of the initial weights: ``seed`` for the first copy (``init`` 0)."""
        return self.seed + INIT_STRIDE * self.init

    @property
    def key(self) -> str:
        """A stable identifier of the run (used for file names and resuming)."""
        import hashlib
        import json

        fields = {k: v for k, v in self.to_dict().items() if LATER_FIELDS.get(k, object()) != v}
        blob = json.dumps(fields, sort_keys=True).encode()
        return hashlib.sha1(blob).hexdigest()[:12]
