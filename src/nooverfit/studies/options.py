"""`StudyOptions`: what a study studies, in one frozen object (the keyword arguments of
:func:`~nooverfit.studies.run.study` build it)."""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nooverfit.engine.sequential import Factory
from nooverfit.studies import plan

if TYPE_CHECKING:
    from nooverfit.transfer.runs import SourceLike

#: Options with a rule in :mod:`nooverfit.validate`.
_CHECKED = ("width", "depth", "train_per_class", "train_size", "seeds", "epochs", "test", "val")

#: The baseline's width when none is given.
DEFAULT_WIDTH = {"mlp": 256, "cnn": 16}


#: the data set loader's options that ``nooverfit study`` has flags for
_CLI_DATA_OPTIONS = {"target", "ignore", "data_dir", "download"}


@dataclass(frozen=True)
class StudyOptions:
    """The study's design: the baseline network, the data it trains on, the budget.

    Attributes:
        model: ``"mlp"`` or ``"cnn"``.
        width: hidden units (MLP) or first-block channels (CNN); default 256 / 16.
        depth: hidden layers or conv blocks.
        train_per_class: training images per class (default 20: the small-data regime
            where overfitting shows); None with ``train_size`` None uses the whole pool.
        train_size: total training-set size instead of per class.
        budget: ``"quick"``, ``"standard"``, ``"thorough"`` or a custom
            :class:`~nooverfit.studies.budget.StudyBudget`.
        seeds: number of seeds (0..n-1) or the seeds themselves; each has its own split.
        engine: ``"auto"`` (fused), ``"fused"`` or ``"sequential"``.
        epochs: epochs of every run (default: the budget's, see :func:`plan.epochs_for`).
        test, val: split sizes (fractions or counts), as in :func:`nooverfit.make_split`.
        learning_curves: whether to train the learning curve over training-set size.
        source: a pretrained network for the transfer-learning remedy: a file written by
            ``nooverfit pretrain``, ``"torchvision:NAME[:PATH]"``, or a loaded ``Source``.
        classes: keep only these classes of the data set (``"5-9"`` or a list), relabelled
            from 0, e.g. to transfer from a source trained on the other classes.
        model_factory: ``model_factory(config) -> nn.Module`` builds your own network for
            each configuration instead of nooverfit's MLP/CNN. It may read
            ``config.width``, ``config.dropout`` and ``config.batchnorm``; L2, early
            stopping and augmentation apply to any network. The fused engine trains
            modules made of the built-in models' layers as fast as those, and stacks
            other modules of one structure through ``torch.func``.
        classic: whether to fit tuned classic models (logistic regression, RBF SVC,
            random forest, gradient boosting) on the same splits, for the report's
            comparison (:mod:`nooverfit.studies.classic`).
    """

    model: str = "mlp"
    width: int | None = None
    depth: int = 2
    train_per_class: int | None = 20
    train_size: int | None = None
    budget: str | plan.StudyBudget = "quick"
    seeds: int | Sequence[int] = 3
    engine: str = "auto"
    epochs: int | None = None
    test: float | int = 0.25
    val: float | int = 0.2
    learning_curves: bool = True
    source: SourceLike | None = None
    classes: str | Sequence[int] | None = None
    model_factory: Factory | None = None
    classic: bool = True

    def __post_init__(self) -> None:
        from nooverfit.validate import check_options

        if not self.seed_list:
            raise ValueError(f"seeds must be >= 1, got {self.seeds!r}")
        # The rules every command's options follow (`--epochs 0` is refused, not "default").
        check_options(
            **{k: getattr(self, k) for k in _CHECKED},
            source=self.source if isinstance(self.source, str) else None,
        )

    @property
    def seed_list(self) -> list[int]:
        """The seeds."""
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)

    @property
    def baseline_width(self) -> int:
        return self.width or DEFAULT_WIDTH.get(self.model, 256)

    @property
    def budget_name(self) -> str:
        return self.budget if isinstance(self.budget, str) else "custom"

    def changed(self) -> dict[str, Any]:
        """The options that differ from the defaults, in field order."""
        defaults = type(self)()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(defaults, f.name)
        }

    def call(self, data: object, data_options: Mapping[str, Any]) -> str:
        """The Python call that repeats a study of ``data`` with these options: the
        options that differ from the defaults and the data set loader's (``target``...).
        An option that is an object (a model factory, a loaded source, a custom budget)
        is shown as ``...``: it cannot be written as a literal."""
        shown = [repr(data) if isinstance(data, str) else "dataset"]
        for name, value in self.changed().items():
            literal = isinstance(value, (str, int, float, bool, list, tuple, type(None)))
            shown.append(f"{name}={value!r}" if literal else f"{name}=...")
        shown += [f"{k}={v!r}" for k, v in data_options.items() if v is not None]
        return f"nooverfit.study({', '.join(shown)})"

    def command(self, data: object, data_options: Mapping[str, Any]) -> str | None:
        """The ``nooverfit study`` command line that repeats a study of ``data`` with these
        options and the data set loader's (``--target``, ``--ignore``...), or None where
        something cannot be written on the command line (a loaded data set or source, a
        model factory, a custom budget, seeds other than 0 .. N-1, an option the command
        does not have)."""
        seeds = self.seed_list
        if (
            not isinstance(data, str)
            or self.model_factory is not None
            or not isinstance(self.budget, str)
            or not isinstance(self.source, (str, type(None)))
            or seeds != list(range(len(seeds)))
            or self.train_size is not None
            or not self.learning_curves
            or not set(data_options) <= _CLI_DATA_OPTIONS
        ):
            return None
        defaults = type(self)()
        shown = self.changed()
        shown.pop("seeds", None)
        if len(seeds) != defaults.seeds:
            shown["seeds"] = len(seeds)
        if "train_per_class" in shown:  # None is the whole pool: 0 on the command line
            shown["train_per_class"] = self.train_per_class or 0
        given = {k: v for k, v in data_options.items() if v is not None and v is not False}
        args = ["nooverfit study", "--data", shlex.quote(data)]
        for name, value in [*shown.items(), *given.items()]:
            flag = "--" + name.replace("_", "-")
            if isinstance(value, bool):
                args += [flag] if value else ["--no-" + flag[2:]]
            elif value is not None:
                text = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value
                args += [flag, shlex.quote(str(text))]
        return " ".join(args)

    @classmethod
    def split_kwargs(
        cls, options: StudyOptions | None, kwargs: Mapping[str, Any]
    ) -> tuple[StudyOptions, dict[str, Any]]:
        """``options`` (default: the defaults) with the option-named ``kwargs`` replaced,
        and the other ``kwargs``, which go to the data set loader."""
        names = {f.name for f in dataclasses.fields(cls)}
        mine = {k: v for k, v in kwargs.items() if k in names}
        rest = {k: v for k, v in kwargs.items() if k not in names}
        return dataclasses.replace(options or cls(), **mine), rest
