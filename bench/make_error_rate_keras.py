"""Write a real Keras ``CSVLogger`` log whose classification metric is an error rate
(issue 15, s29 i154): ``error`` / ``val_error``, 1 - accuracy, a custom metric named
``error``.

An MLP on 300 digits (sklearn), Adam, 60 epochs, ``KERAS_BACKEND=torch``. Every random
thing takes ``--seed``.

    python bench/make_error_rate_keras.py --out tests/data/error_rate_digits_keras.csv
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    import keras
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    keras.utils.set_random_seed(a.seed)
    x, y = load_digits(return_X_y=True)
    xt, xv, yt, yv = train_test_split(x / 16, y, train_size=300, random_state=a.seed)

    def error(y_true, y_pred):  # the share of samples wrong: 1 - accuracy
        return 1 - keras.metrics.sparse_categorical_accuracy(y_true, y_pred)

    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=[error])
    model.fit(
        xt,
        yt,
        validation_data=(xv[:400], yv[:400]),
        epochs=a.epochs,
        batch_size=32,
        verbose=0,
        callbacks=[keras.callbacks.CSVLogger(str(a.out))],
    )


if __name__ == "__main__":
    main()
