"""Probe ``nooverfit diagnose`` on console output nobody wrote for the tests (issue 15).

Writes, under ``--out``, real Keras 3 ``fit`` output (torch backend; verbose 1 and 2;
with EarlyStopping, ReduceLROnPlateau and ModelCheckpoint printing between epochs; with
``validation_freq=3``; two ``fit`` calls appended to one file; with ``--long``, 2,000
steps per epoch after a warning line) next to each run's ``CSVLogger`` file, a plain
PyTorch loop's values printed in the styles users write (and tqdm bars), and files that
must not be read as console output. Then it reads each and prints its format, epochs,
the largest difference from the reference per curve, and both verdicts.

    KERAS_BACKEND=torch nice -n 10 python bench/console_probe.py --out /tmp/probe [--long]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")

CURVES = ("loss", "val_loss", "accuracy", "val_accuracy")
#: A loop's print styles: ``{e}`` epoch, ``{t}`` train loss, ``{v}`` val loss, ``{a}`` val
#: accuracy (``{p}``: in percent).
STYLES = {
    "pipe": "Epoch {e:3d}/30 | train_loss {t:.4f} | val_loss {v:.4f} | val_acc {p:.2f}%",
    "pipe2": "Epoch {e}/30 | Train Loss: {t:.4f} | Val Loss: {v:.4f} | Val Acc: {p:.2f}%",
    "dash": "Epoch {e} - train loss: {t:.4f} - val loss: {v:.4f} - val acc: {a:.4f}",
    "comma": "Epoch [{e}/30], Train Loss: {t:.4f}, Val Loss: {v:.4f}, Val Acc: {p:.1f}%",
    "eq": "epoch {e}/30 train_loss={t:.4f} val_loss={v:.4f} val_acc={a:.4f}",
    "colon": "Epoch: {e}  Training Loss: {t:.6f}  Validation Loss: {v:.6f}  "
    "Validation Accuracy: {p:.2f}%",
    "tab": "Epoch: {e}\tTraining Loss: {t:.6f}\tValidation Loss: {v:.6f}",
    "sep": "Epoch {e}/30\nTrain Loss: {t:.4f}\nVal Loss: {v:.4f} Acc: {a:.4f}\n----------",
    "sep2": "Epoch {e} train loss: {t:.4f}\nEpoch {e} val loss: {v:.4f} val acc: {a:.4f}",
    "logging": "2026-12-02 10:00:01,123 INFO Epoch {e} train_loss={t:.4f} val_loss={v:.4f}",
    "logging2": "[2026-12-02 10:00:01,123] [INFO] t: Epoch {e} | loss: {t:.4f} | "
    "val_loss: {v:.4f}",
    "logging3": "2026-12-02 10:00:01,123 - t - INFO - Epoch {e}, loss {t:.4f}, val_loss {v:.4f}",
}


def keras_runs(out: Path, *, long: bool) -> list[tuple[str, str]]:
    """Fit Keras MLPs on 100 digits; each run's console file and its CSVLogger file."""
    import keras
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = x / 16
    val = (x[1000:1300], y[1000:1300])

    def model(rate: float = 1e-3) -> keras.Model:
        keras.utils.set_random_seed(0)
        m = keras.Sequential(
            [
                keras.Input((64,)),
                keras.layers.Dense(256, activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        m.compile(
            keras.optimizers.Adam(rate), "sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        return m

    def fit(name: str, m: keras.Model, *, append: bool = False, n: int = 100, **kw) -> None:
        text = io.StringIO()
        logger = keras.callbacks.CSVLogger(str(out / f"{name}.csv"), append=append)
        kw["callbacks"] = [logger, *kw.get("callbacks", [])]
        with contextlib.redirect_stdout(text):
            m.fit(x[:n], y[:n], validation_data=val, **{"epochs": 40, "batch_size": 32, **kw})
        with (out / f"{name}.txt").open("a" if append else "w") as fh:
            fh.write(text.getvalue())

    pairs = []
    for v in (1, 2):
        callbacks = [
            keras.callbacks.EarlyStopping(patience=6, verbose=1, restore_best_weights=True),
            keras.callbacks.ReduceLROnPlateau(patience=2, verbose=1),
            keras.callbacks.ModelCheckpoint(str(out / "m.keras"), verbose=1, save_best_only=True),
        ]
        fit(
            f"k_es{v}", model(0.01), n=60, epochs=60, batch_size=16, verbose=v, callbacks=callbacks
        )
        fit(f"k_freq{v}", model(), verbose=v, validation_freq=3)
        m = model()
        fit(f"k_two{v}", m, verbose=v, epochs=15)
        fit(f"k_two{v}", m, append=True, verbose=v, epochs=30, initial_epoch=15)
        pairs += [(f"k_{k}{v}.txt", f"k_{k}{v}.csv") for k in ("es", "freq", "two")]
    if long:  # 2,000 steps per epoch, a warning first (as with 2>&1)
        (out / "k_long.txt").write_text("/x/keras/src/backend.py:12: UserWarning: a warning\n")
        fit("k_long", model(), append=True, n=2000, epochs=4, batch_size=1, verbose=1)
        pairs.append(("k_long.txt", "k_long.csv"))
    return pairs


def loop_runs(out: Path) -> list[tuple[str, str]]:
    """Train a PyTorch MLP on 80 digits for 30 epochs; print its values in each style."""
    import torch
    from sklearn.datasets import load_digits
    from tqdm import tqdm

    torch.manual_seed(0)
    x, y = load_digits(return_X_y=True)
    xs, ys = torch.tensor(x / 16, dtype=torch.float32), torch.tensor(y)
    net = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt, lf = torch.optim.Adam(net.parameters(), 1e-2), torch.nn.CrossEntropyLoss()
    rows, bars = [], io.StringIO()
    for e in range(1, 31):
        steps = []
        with tqdm(total=5, desc=f"Epoch {e}", file=bars, mininterval=0) as bar:
            for i in range(0, 80, 16):
                opt.zero_grad()
                loss = lf(net(xs[i : i + 16]), ys[i : i + 16])
                loss.backward()
                opt.step()
                steps.append(loss.item())
                bar.update()
                bar.set_postfix(loss=f"{steps[-1]:.4f}")
            with torch.no_grad():
                o = net(xs[1000:1300])
                v, a = lf(o, ys[1000:1300]).item(), (o.argmax(1) == ys[1000:1300]).float()
            rows.append(
                {
                    "epoch": e,
                    "loss": np.mean(steps),
                    "val_loss": v,
                    "val_accuracy": a.mean().item(),
                }
            )
            bar.set_postfix(loss=f"{rows[-1]['loss']:.4f}", val_loss=f"{v:.4f}")
    (out / "l_tqdm.txt").write_text(bars.getvalue())
    (out / "loop.csv").write_text(
        "epoch,loss,val_loss,val_accuracy\n"
        + "".join(f"{r['epoch']},{r['loss']},{r['val_loss']},{r['val_accuracy']}\n" for r in rows)
    )
    for name, style in STYLES.items():
        lines = [
            style.format(
                e=r["epoch"],
                t=r["loss"],
                v=r["val_loss"],
                a=r["val_accuracy"],
                p=100 * r["val_accuracy"],
            )
            for r in rows
        ]
        (out / f"l_{name}.txt").write_text("\n".join(lines) + "\n")
    (out / "n_loop.jsonl.txt").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return [(f"l_{n}.txt", "loop.csv") for n in [*STYLES, "tqdm"]]


def others(out: Path) -> list[str]:
    """Files that are no console output: tables, JSON lines, prose."""
    import pandas as pd

    df = pd.read_csv(out / "loop.csv")
    df.to_csv(out / "n_tab.tsv", sep="\t", index=False)
    (out / "n_table.txt").write_text(df.to_string() + "\n")
    (out / "n_prose.txt").write_text(
        "Notes on the run of 2 December.\n"
        "Epoch 1: the loss was high, lr: 0.01 at first, then we lowered it.\n"
        "Epoch 5: validation accuracy: 0.81, which is the best we saw.\n"
        "By epoch 12 the model overfit: val loss: 0.9 against train loss: 0.01.\n"
    )
    names = ["n_tab.tsv", "n_table.txt", "n_prose.txt", "n_loop.jsonl.txt"]
    if (out / "k_es1.csv").exists():
        (out / "training.log").write_text((out / "k_es1.csv").read_text())
        names.append("training.log")
    return names


def score(out: Path, name: str, ref: str | None) -> str:
    """One line: format, epochs, the largest difference per curve, verdicts."""
    from nooverfit import diagnose
    from nooverfit.logs import detect_format, read_log

    try:
        kind = detect_format(out / name)
        got = read_log(out / name)
    except (ValueError, OSError) as err:
        return f"{name}: refused ({str(err)[:70]})"
    line = f"{name}: {kind}, {len(got.epoch)} epochs, {diagnose(got).verdict.value}"
    if ref is None:
        return line
    want = read_log(out / ref)
    diffs = []
    for curve in CURVES:
        a, b = getattr(got, curve), getattr(want, curve)
        if a is not None and b is not None and len(a) == len(b):
            diffs.append(f"{curve} {np.nanmax(np.abs(np.subtract(a, b))):.1g}")
    verdict = diagnose(want).verdict.value
    return f"{line} | ref {len(want.epoch)} epochs, {verdict} | {', '.join(diffs)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the files")
    parser.add_argument("--long", action="store_true", help="add a 2,000-step Keras run")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    pairs = keras_runs(args.out, long=args.long) + loop_runs(args.out)
    for name, ref in pairs:
        print(score(args.out, name, ref))
    for name in others(args.out):
        print(score(args.out, name, None))


if __name__ == "__main__":
    main()
