"""Generate the labelled curve suite under ``tests/fixtures/curves/`` with nooverfit's ``fit``.

Each regime is a configuration whose outcome is known by construction (see ``REGIMES``);
every (regime, data set, seed) run is saved as a Keras-CSVLogger-style ``history.csv`` and
``manifest.json`` records the label, the configuration, the stop reason and ``kept_epoch``:
the epoch whose weights the run kept (``History.kept_epoch``; the last epoch when it ran
without an early-stopping criterion), not the epoch of the lowest validation loss
(``History.best_epoch``). Run from the repository root:

    python bench/make_curve_suite.py [--seeds 5] [--out tests/fixtures/curves]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from nooverfit.config import RunConfig
from nooverfit.data.tensors import load_split
from nooverfit.history import History
from nooverfit.models import build_model
from nooverfit.train import fit

#: regime -> data set -> config changes; the regime name is the expected verdict.
REGIMES: dict[str, dict[str, dict[str, object]]] = {
    # a large network, 10 per class (40 samples), no regularization, trained long
    "overfitting": {
        "digits": dict(width=1024, train_per_class=10, lr=3e-3, epochs=60),
        "synthetic": dict(width=512, train_size=40, lr=3e-3, epochs=60),
    },
    # a 2-unit network, or a huge L2 lambda
    "underfitting": {
        "digits": dict(width=2, depth=1, lr=1e-2, epochs=40),
        "synthetic": dict(width=64, l2=3.0, epochs=40),
    },
    # a regularized network on all the training data with early stopping
    "good_fit": {
        "digits": dict(width=128, l2=1e-3, dropout=0.5, early_stopping="patience:10", epochs=80),
        "synthetic": dict(width=32, l2=1e-2, dropout=0.5, early_stopping="patience:10", epochs=80),
    },
    # a low learning rate, cut at 5 epochs
    "still_improving": {
        "digits": dict(width=128, lr=1e-4, epochs=5),
        "synthetic": dict(width=64, lr=3e-4, epochs=5),
    },
    # learning rate 10
    "diverging": {
        "digits": dict(width=128, lr=10.0, epochs=30),
        "synthetic": dict(width=64, lr=10.0, epochs=30),
    },
}


def _rounded(history: History) -> History:
    """The history with 6 significant digits (small fixture files, same verdicts)."""
    columns = {
        name: [float(f"{v:.6g}") for v in history.column(name)] for name in history.columns()[1:]
    }
    return History.from_columns(
        columns,
        epoch=history.epoch,
        stop_reason=history.stop_reason,
        kept_epoch=history.kept_epoch,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0, help="e.g. 5 for a held-out suite")
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/curves"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = []
    start = time.perf_counter()
    for data_name in ("digits", "synthetic"):
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            data = load_split(data_name, seed=seed, device="cpu")
            for regime, per_data in REGIMES.items():
                config = RunConfig(seed=seed, label=regime, **per_data[data_name])  # type: ignore[arg-type]
                model = build_model(config, data.in_shape, data.num_classes)
                history = fit(model, data, config)
                name = f"{regime}__{data_name}__s{seed}.csv"
                _rounded(history).save(args.out / name)
                manifest.append(
                    {
                        "file": name,
                        "regime": regime,
                        "data": data_name,
                        "seed": seed,
                        "stop_reason": history.stop_reason,
                        "kept_epoch": history.kept_epoch,  # not History.best_epoch
                        "config": config.to_dict(),
                    }
                )
                print(f"{name}: {len(history)} epochs, {history.stop_reason}", flush=True)
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(manifest)} runs in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
