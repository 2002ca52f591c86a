"""Is a regression network that memorizes under a flat validation loss overfitting?
(issue 15, family A; i62). Writes the fixture behind ``tests/test_diagnose_memorization.py``.

A 256-256 ReLU MLP under Adam (rate 0.003, batch 32, 300 epochs, Keras 3 ``CSVLogger``,
torch backend, seeded) on ``make_friedman1`` (noise 1.0, 150 training rows, 400
validation rows, target and inputs standardized), MAE loss; a held-out test set of 2,000
rows that the log never sees gives the independent answer, and the same run under an L2
penalty of 1e-3 and 1e-2 says whether a remedy would lower the test loss. Measured
(2026-11-30, seed 109): training loss ends at 0.14 of the validation loss and still falls
over the last third while validation is flat (its last value 6 % above its best); the
test curve's 5-point moving average ends 0.8 % above its minimum (0.2939 against 0.2917),
and under L2 it ends at 0.2984 (1e-3) and 0.3314 (1e-2): no remedy helps, and the
verdict stays good_fit.

    KERAS_BACKEND=torch nice -n 10 python bench/diagnose_gap_probe.py [--out tests/data]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

#: The seed of the committed fixture.
SEED = 109
FIXTURE = "memorized_flat_mae_keras.csv"


def run(path: Path, seed: int, l2: float = 0.0) -> list[float]:
    """Train the run, log it to ``path`` and return its test loss per epoch."""
    import keras
    import torch
    from sklearn.datasets import make_friedman1

    torch.set_num_threads(1)
    keras.utils.set_random_seed(seed)
    n_train, n_val = 150, 400
    x, y = make_friedman1(n_samples=n_train + n_val + 2000, noise=1.0, random_state=seed)
    x = (x - x.mean(0)) / x.std(0)
    y = (y - y.mean()) / y.std()
    fit, val = slice(0, n_train), slice(n_train, n_train + n_val)
    test = slice(n_train + n_val, None)
    penalty = keras.regularizers.L2(l2) if l2 else None
    model = keras.Sequential(
        [
            keras.Input((x.shape[1],)),
            keras.layers.Dense(256, activation="relu", kernel_regularizer=penalty),
            keras.layers.Dense(256, activation="relu", kernel_regularizer=penalty),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.003), loss="mae")
    losses: list[float] = []

    class Test(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            out = self.model.evaluate(x[test], y[test], verbose=0, batch_size=2000)
            losses.append(float(out))

    model.fit(
        x[fit],
        y[fit],
        validation_data=(x[val], y[val]),
        epochs=300,
        batch_size=32,
        verbose=0,
        callbacks=[Test(), keras.callbacks.CSVLogger(str(path))],
    )
    return losses


def main() -> None:
    import tempfile

    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("tests/data"))
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for l2 in (0.0, 1e-3, 1e-2):
            path = args.out / FIXTURE if l2 == 0 else Path(tmp) / f"l2_{l2}.csv"
            test = np.convolve(run(path, args.seed, l2), np.ones(5) / 5, mode="valid")
            print(f"l2 {l2:g}: test moving average min {test.min():.4f}, end {test[-1]:.4f}")


if __name__ == "__main__":
    main()
