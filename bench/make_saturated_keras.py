"""Write a real Keras ``CSVLogger`` log of a run at 100 % validation accuracy whose
validation loss is tiny and still falling after hundreds of epochs (issue 15, s29 i154):
separable blobs, nothing left to learn but confidence.

A small MLP on 2-class ``make_blobs`` (sklearn), Adam, ``KERAS_BACKEND=torch``. Every
random thing takes ``--seed``.

    python bench/make_saturated_keras.py --out tests/data/saturated_still_falling_keras.csv
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=500)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    import keras
    from sklearn.datasets import make_blobs

    keras.utils.set_random_seed(a.seed)
    x, y = make_blobs(400, centers=2, n_features=4, cluster_std=1.0, random_state=a.seed)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(a.lr), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(
        x[:200],
        y[:200],
        validation_data=(x[200:], y[200:]),
        epochs=a.epochs,
        batch_size=200,
        verbose=0,
        callbacks=[keras.callbacks.CSVLogger(str(a.out))],
    )


if __name__ == "__main__":
    main()
