"""A user's own network at the built-in speed (issue 21): studies with ``model_factory``
against the built-in model of the same shape and budget, side by side in one run.

For each model (the default MLP, 256 x 2, and the small CNN, 16-32 channels, on
``digits``; 20 images per class, 2 seeds, the quick budget by default) it runs three
studies, interleaved:

- ``built-in``: ``study(model=...)``, nooverfit's own network;
- ``user``: ``study(model_factory=...)`` with a user's ``nn.Module`` class of the same
  layers, written as tutorials write one (``F.relu``, ``F.max_pool2d``, ``x.view``); the
  fused engine maps it onto its stacked layers (:mod:`nooverfit.engine.chain`);
- ``torch.func`` (unless ``--no-func``): the same network with ``nn.LeakyReLU(0.0)`` for
  ReLU (the same arithmetic, but a layer the mapping does not take), so it trains through
  ``vmap(functional_call)`` (:class:`nooverfit.engine.functional.FunctionalNet`).

It prints each study's wall and CPU time (of the process: on a shared machine the
steadier measure), their ratios to the built-in one (the goal: at most 2x),
the recommendation and its test accuracy. The user's network initializes as the built-in
one does (same layers created in the same order under the run's seed), so ``user`` trains
the very numbers of ``built-in``: the recommendations must agree.

    python bench/model_factory.py                      # both models, quick budget
    python bench/model_factory.py --models cnn --budget tiny --no-func
"""

from __future__ import annotations

import argparse
import os
import time

import torch
import torch.nn.functional as F
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.studies import plan, study

#: a budget for trying the script out: few epochs, one value per grid
TINY = plan.StudyBudget(
    epochs=20,
    l2=(1e-3, 1e-1),
    dropout=(0.3,),
    widths=(0.5,),
    augment=(1.0,),
    stopping=("patience:2",),
    sizes=(5, 10),
)


class UserMLP(nn.Module):
    """The built-in MLP's layers, as a user would write them."""

    def __init__(self, width: int, dropout: float, batchnorm: bool, act: nn.Module) -> None:
        super().__init__()
        self.fc1 = nn.Linear(64, width)
        self.bn1 = nn.BatchNorm1d(width) if batchnorm else nn.Identity()
        self.act = act
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(width, width)
        self.bn2 = nn.BatchNorm1d(width) if batchnorm else nn.Identity()
        self.out = nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.view(x.size(0), -1)
        x = self.drop(self.act(self.bn1(self.fc1(x))))
        x = self.drop(self.act(self.bn2(self.fc2(x))))
        return self.out(x)


class UserCNN(nn.Module):
    """The built-in CNN's layers (depth 2 on 8 x 8 images), as a user would write them."""

    def __init__(self, width: int, dropout: float, batchnorm: bool, act: nn.Module) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(width) if batchnorm else nn.Identity()
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(2 * width) if batchnorm else nn.Identity()
        self.act = act
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * width * 2 * 2, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(F.max_pool2d(self.act(self.bn1(self.conv1(x))), 2))
        x = self.drop(F.max_pool2d(self.act(self.bn2(self.conv2(x))), 2))
        return self.fc(torch.flatten(x, 1))


def factory(model: str, act: type[nn.Module]):  # type: ignore[no-untyped-def]
    """``factory(config) -> nn.Module`` for ``model`` with activation ``act``."""
    cls = UserCNN if model == "cnn" else UserMLP

    def build(config: RunConfig) -> nn.Module:
        layer = nn.ReLU() if act is nn.ReLU else nn.LeakyReLU(0.0)
        return cls(config.width, config.dropout, config.batchnorm, layer)

    return build


def _check_mapping() -> None:
    """The ReLU modules map onto the stacked layers (``nn.Identity`` in place of batch
    norm passes through) and the LeakyReLU ones do not: checked here, not assumed."""
    from nooverfit.engine.chain import as_chain

    for model in ("mlp", "cnn"):
        config = RunConfig(width=4, dropout=0.3)
        assert as_chain(factory(model, nn.ReLU)(config), (1, 8, 8)) is not None, model
        assert as_chain(factory(model, nn.LeakyReLU)(config), (1, 8, 8)) is None, model


def run(name: str, model: str, args: argparse.Namespace, build=None):  # type: ignore[no-untyped-def]
    budget = TINY if args.budget == "tiny" else args.budget
    start, cpu = time.perf_counter(), time.process_time()
    result = study(
        "digits",
        model=model,
        train_per_class=args.per_class,
        seeds=args.seeds,
        budget=budget,
        model_factory=build,
        learning_curves=not args.no_curves,
        device="cpu",
    )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    test = result.test["recommended"]
    engines = sorted({r.engine for r in result.runs.values()})
    print(
        f"{model:4s} {name:11s} {seconds:7.1f} s ({cpu:6.1f} s CPU)  recommended "
        f"{result.recommended.name!r}, test {100 * test.accuracy:.1f} %, engines {engines}",
        flush=True,
    )
    return seconds, cpu


def _ratio(model: str, name: str, times: tuple[float, float], base: tuple[float, float]) -> None:
    """Print the wall-clock and CPU-time ratios (on a shared machine the CPU time of the
    process is the steadier of the two)."""
    print(
        f"{model:4s} {name} / built-in: {times[0] / base[0]:.2f}x wall, "
        f"{times[1] / base[1]:.2f}x CPU (goal <= 2x)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn"], choices=["mlp", "cnn"])
    parser.add_argument("--budget", default="quick", help="quick, standard, thorough or tiny")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--per-class", type=int, default=20)
    parser.add_argument("--no-func", action="store_true", help="skip the torch.func study")
    parser.add_argument("--no-curves", action="store_true", help="skip the learning curve")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    _check_mapping()
    print(f"load average at start: {os.getloadavg()}, torch threads {args.threads}")
    for model in args.models:
        base = run("built-in", model, args)
        user = run("user", model, args, factory(model, nn.ReLU))
        _ratio(model, "user", user, base)
        if not args.no_func:
            func = run("torch.func", model, args, factory(model, nn.LeakyReLU))
            _ratio(model, "torch.func", func, base)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
