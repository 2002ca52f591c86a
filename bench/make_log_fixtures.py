"""Write the small real-run logs behind the diagnosis regression tests.

Each fixture is a run of one failure family from issue 15, trained here and logged by the
framework itself (see ``_corpus_writers.py``), saved under
``tests/fixtures/logs/real/<name>/`` with a ``label.json`` (the family, the expected
verdict and the test curve that confirms it; the tests never show it to ``diagnose``).

    nice -n 10 python bench/make_log_fixtures.py [--out tests/fixtures/logs/real]

``--corpus DIR`` copies the runs of ``CORPUS`` (design-part runs of the log corpus, each
the real case behind a rule change) with their label and test curve from the manifest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch
from _corpus_writers import WRITERS
from make_log_corpus import framework_options, load_data, prepare

BASE: dict[str, Any] = dict(
    seed=0,
    width=64,
    depth=2,
    dropout=0.0,
    batchnorm=False,
    l2=0.0,
    optimizer="adam",
    lr=1e-3,
    batch=32,
    epochs=30,
    n_train=300,
    noise=0.0,
    loss="ce",
    val_every=1,
    early_stopping=0,
)

#: name -> (framework, data set, expected verdict, changes to BASE, logging options)
FIXTURES: dict[str, tuple[str, str, str, dict[str, Any], dict[str, Any]]] = {
    # Keras: softmax outputs saturate after a huge step; the clipped loss sits at
    # (1 - p) * 16.1, far above ln 2, accuracy at the majority share
    "collapse_keras": ("keras", "cancer", "diverging", dict(lr=30.0, epochs=12), {}),
    # training loss to ~0 while validation rises: memorization, never "diverging"
    "memorization_tensorboard": (
        "tensorboard",
        "diabetes",
        "overfitting",
        dict(width=512, depth=3, n_train=40, loss="mse", epochs=120, batch=8, noise=0.2),
        dict(tb_mode="epoch", tb_train_tag="loss/train", tb_val_tag="loss/val"),
    ),
    # 12 epochs, both losses still falling steadily
    "short_still_falling_keras": (
        "keras",
        "digits",
        "still_improving",
        dict(epochs=12, lr=3e-4),
        {},
    ),
    # a wide network on 60 digits: training accuracy 100 %, validation far below, flat loss
    "gap_flat_val_lightning": (
        "lightning",
        "digits",
        "overfitting",
        dict(width=512, n_train=60, epochs=25, lr=2e-3, batch=16, l2=1e-3),
        dict(pl_name="train_loss", pl_on_step=False),
    ),
    # Hugging Face format, per-step training losses and fractional epochs
    "overfit_hf": (
        "hf",
        "blobs",
        "overfitting",
        dict(width=256, n_train=60, noise=0.2, epochs=40, batch=16),
        dict(log_steps=2, hf_checkpoint=False),
    ),
    "overfit_hf_checkpoint": (
        "hf",
        "blobs",
        "overfitting",
        dict(width=256, n_train=60, noise=0.2, epochs=40, batch=16),
        dict(log_steps=2, hf_checkpoint=True),
    ),
    # TensorBoard per step with and without an epoch scalar
    "steps_epoch_tensorboard": (
        "tensorboard",
        "moons",
        "good_fit",
        dict(epochs=30, lr=1e-2, batch=16, n_train=300, early_stopping=8),
        dict(tb_mode="step_epoch", tb_train_tag="train/loss", tb_val_tag="val/loss", log_steps=1),
    ),
    "steps_only_tensorboard": (
        "tensorboard",
        "moons",
        "good_fit",
        dict(epochs=30, lr=1e-2, batch=16, n_train=300, early_stopping=8),
        dict(tb_mode="step", tb_train_tag="train/loss", tb_val_tag="val/loss", log_steps=1),
    ),
    # a regression log (MAE loss only)
    "regression_mae_keras": (
        "keras",
        "friedman",
        "overfitting",
        dict(width=256, n_train=40, loss="mae", epochs=30, batch=8, noise=0.3),
        {},
    ),
}


#: name -> design-part corpus run (``make_log_corpus.py``, seed 0, or the design2 batch)
#: whose log is copied
CORPUS: dict[str, str] = {
    # s21's design batch (seed 43, --start 43000): SummaryWriter classifiers whose losses
    # fell a hundredfold and more while validation rose, which a loss scaled by 100 (or
    # summed over a batch) put above what a constant predictor over a million classes
    # scores: blobs (4 classes), and the rare class (95 % in one class)
    "scaled_memorizing_overfit_tensorboard": "43015_tensorboard_blobs_overfitting",
    "imbalanced_memorizing_overfit_tensorboard": "43035_tensorboard_rare_overfitting",
    # HF, training loss logged once (logging_steps 50, 3 steps per epoch): no underfit
    "once_logged_train_good_fit_hf": "1016_hf_cancer_good_fit",
    # SummaryWriter, MAE regression, training logged once: validation fell, no underfit
    "once_logged_train_good_fit_tensorboard": "0906_tensorboard_diabetes_good_fit",
    # HF, 4 classes at lr 3: accuracy at chance throughout, loss 2.4x the loss of guessing
    "saturated_at_chance_hf": "1034_hf_blobs_diverging",
    # HF, no training accuracy: a training cross-entropy of 0.0006 bounds it above 99.9 %
    # while validation sits at 87 %, flat
    "gap_from_loss_bound_hf": "1065_hf_digits_overfitting",
    # SummaryWriter, single 32-sample batches (30 % noisy labels) logged every 10 steps:
    # the training loss swings 0.09-1.8 while validation rises: overfitting, the swings
    # are the batches' noise, no runaway optimizer
    "noisy_batches_overfit_tensorboard": "0270_tensorboard_digits_overfitting",
    # SummaryWriter, 100 digits with 30 % noisy labels: validation accuracy 62-77 % at
    # every evaluation, its loss swinging around 1.0 (above ln(1 / 0.62), below ln 10)
    "above_half_accuracy_overfit_tensorboard": "0775_tensorboard_digits_overfitting",
    # HF, MSE regression at Adam lr 3: losses of 1e8 after the first epoch, 1e4 at the
    # end and still falling; the test loss ends 1e4 times a constant predictor's
    "recovering_blow_up_hf": "1014_hf_wave_diverging",
    # SummaryWriter, MAE regression at Adam lr 10: validation 2e6 -> 240, flat at the
    # end, noisy single-batch training losses
    "recovering_blow_up_tensorboard": "0854_tensorboard_wave_diverging",
    # SummaryWriter, MSE regression: the training loss, logged three times, is already
    # 0.05 at its first value, a twentieth of validation, which drifts 10 % above its
    # minimum: memorization, though training never fell "to a tenth of its start"
    "memorized_from_first_log_tensorboard": "0570_tensorboard_wave_overfitting",
    # SummaryWriter, MSE regression on 40 samples (design2 batch): training down to 3e-7
    # while validation ends 15 % below its first evaluation, flat for the last 40 epochs:
    # the network memorized its samples and learned nothing that carries over
    "memorized_unlearned_tensorboard": "4095_tensorboard_wave_overfitting",
    # SummaryWriter, MSE regression at SGD lr 10 (design2 batch): validation 2e7 at its
    # first evaluation, then 2.3e9 at every later one (frozen outputs): one first value
    # the smoothing spreads away is still a level the network reached before blowing up
    "frozen_after_blow_up_tensorboard": "4039_tensorboard_diabetes_diverging",
    # SummaryWriter, 60 digits (300-sample version, design2 batch), training logged every
    # sixth epoch and already 0.03 at its first value: validation sits 366x above a
    # training loss that "never fell", yet a mean cross-entropy of 0.004 bounds the
    # training accuracy above 99 %: memorization, not a blow-up
    "fitted_classifier_far_below_validation_tensorboard": (
        "4290_tensorboard_digits_small_overfitting"
    ),
    # HF, digits: training at a fifteenth of validation, whose smoothed curve sits only
    # 4 % above its minimum while its line over the last third climbs 10 % (two residual
    # standard deviations); the test loss rose: overfitting, not a good fit
    "climbing_after_memorizing_hf": "1051_hf_digits_good_fit",
    # Keras, digits: validation lowest 4 of 30 epochs before the end and flat since, still
    # falling by a t statistic of 5 over the last third: a good fit, logged every epoch or
    # every second (the minimum is not within the last 5 % of the run either way)
    "good_fit_minimum_before_end_keras": "0631_keras_digits_good_fit",
    # HF, diabetes (MSE): a good fit whose training loss fell most in its first epochs;
    # validated every second epoch it fell as far (the fall is read on the training
    # curve as logged, not at validated epochs only)
    "good_fit_fell_early_hf": "1061_hf_diabetes_good_fit",
    # SummaryWriter, digits (design2 batch), no training accuracy: a training cross-entropy
    # of 0.003 bounds it above 99 % while validation sits at 88 %, flat; a penalty of 5 %
    # of the validation loss lowers the bound under 97 %, not the memorized training loss
    "gap_from_loss_bound_tensorboard": "4120_tensorboard_digits_overfitting",
    # Keras, MSE regression at Adam lr 3 (design2 batch): the training loss of epoch 1 is
    # 46x the validation loss after it, having risen 50x; the test loss ends 5e5 times a
    # constant predictor's
    "thrown_out_keras": "4019_keras_diabetes_diverging",
    # HF, MSE regression at Adam lr 3 (design2 batch): validation 2e8 -> 6e6, flat; the
    # training loss, logged once, is 6e8: 100x the validation loss around it
    "thrown_out_logged_once_hf": "4314_hf_wave_small_diverging",
    # Keras, MAE regression at Adam lr 30, 5 epochs validated twice (design2 batch): the
    # training loss sits 500x above the validation loss after it
    "thrown_out_short_keras": "4069_keras_wave_diverging",
    # SummaryWriter, 4 blobs with 10 % noisy labels, 100 samples, a 512x3 network: the
    # validation loss never gets below ln(1 / 0.42) (its lowest accuracy) and turns by 3 %
    # per evaluation while rising 2.3x, single-batch training losses at a third of that
    # level: a network that fits and memorizes, not an unstable optimizer
    "fitting_below_guessing_overfit_tensorboard": "0480_tensorboard_blobs_overfitting",
    # HF (a checkpoint folder), MAE regression with skewed noise at SGD lr 3 (design3
    # batch): validation swings 32 % per evaluation, the training loss (a mean over each
    # epoch's steps) 8 %, neither getting lower; the test loss swings 0.8-2.2 around a
    # constant predictor's 0.78: a step too large, not overfitting
    "mae_bouncing_hf": "11024_hf_skewed_diverging",
    # fresh8 and fresh9 became design parts (i45, after being scored once):
    # Lightning CSV, MAE regression at SGD lr 3, 5 epochs (fresh8): validation 1.9, 2.5,
    # 1.0, 1.4, 0.69 (turning by 22 % per evaluation), training near it: thrown around
    "thrown_around_short_lightning": "10074_lightning_steps_diverging",
    # Lightning CSV, MSE regression (design): validation turning by 21 % per evaluation,
    # training at 1.7x validation; the test curve swings with it
    "thrown_around_lightning": "0924_lightning_diabetes_diverging",
    # HF, MAE regression at SGD lr 10 (fresh9): validation 7.34 at every evaluation from
    # the third on, the training loss moving 1.4 % per logged value around 5: dead units,
    # outputs that no longer answer training; the test loss 8x a constant predictor's
    "dead_outputs_hf": "12044_hf_twolevel_diverging",
    # HF, MAE regression at SGD lr 10, 5 epochs (fresh9): validation 3.85 at every
    # evaluation, the training loss 54 -> 4.95 -> 5.05
    "dead_outputs_short_hf": "12064_hf_ordinal_diverging",
    # Keras, MAE regression at SGD lr 3, validated every second epoch (fresh8): validation
    # thrown between 0.73 and 2.28 (33 % per evaluation) while its median falls 21 %: a
    # fall smaller than the swing is no progress
    "mae_thrashing_keras": "10054_keras_steps_diverging",
    # i50: Keras, MSE regression, a 2-unit network under an L2 weight of 0.3 (design2):
    # both losses hold the penalty and fall 2.6 -> 0.8 as the weights shrink, while the
    # logged MAE (no penalty) stands still after the first epoch: underfitting
    "penalty_underfit_mae_keras": "4223_keras_wave_small_underfitting",
    # i50: HF, cancer at SGD lr 10 (design): validation 7e6, 1.5, 11, 0.66, 2.4 (5x per
    # evaluation) with accuracy back at 39 % twice; a training cross-entropy of 1.4 nats
    # gets no training samples right by its bound: thrown around, not a fitting network
    "jumping_unfitted_hf": "1084_hf_cancer_diverging",
}
#: The parts fixtures may come from: those tuned on (never a score-only part).
TUNED = ("design", "design2", "design3", "fresh8", "fresh9")  # (s21: its own design batch)


def copy_corpus(root: Path, out: Path, only: str = "") -> None:
    """Copy the ``CORPUS`` runs' logs from the corpus at ``root``, with their labels
    (``only``: comma-separated names, to copy just those)."""
    records = {
        r["id"]: r
        for file in sorted(root.glob("manifest*.jsonl"))
        for r in map(json.loads, file.read_text().splitlines())
    }
    for name, run in CORPUS.items():
        if only and name not in only.split(","):
            continue
        r = records[run]
        assert r["part"] in TUNED, f"{run} is not from a part tuned on"
        shutil.rmtree(out / name, ignore_errors=True)
        shutil.copytree(root / "runs" / run, out / name)
        log = Path(r["log"]).relative_to(Path("runs") / run)
        label = {"family": name, "verdict": r["label"], "framework": r["framework"]}
        label |= {"data": r["data"], "corpus_run": run, "log": str(log), "test": r["test"]}
        (out / f"{name}.label.json").write_text(json.dumps(label, indent=1) + "\n")
        print(name, "copied from", run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/logs/real"))
    parser.add_argument("--only", default="")
    parser.add_argument("--corpus", type=Path, help="copy CORPUS's runs from this corpus")
    args = parser.parse_args()
    if args.corpus:
        copy_corpus(args.corpus, args.out, args.only)
        return
    torch.set_num_threads(1)
    import numpy as np

    for name, (framework, data_name, verdict, changes, options) in FIXTURES.items():
        if args.only and name not in args.only.split(","):
            continue
        spec = {**BASE, **changes, "regime": verdict}
        framework_options(spec, framework, np.random.default_rng(0))
        spec.update(options)
        data = load_data(data_name, 0)
        spec["n_train"] = min(spec["n_train"], len(data["x_pool"]))
        if data["kind"] == "reg" and spec["loss"] == "ce":
            spec["loss"] = "mse"
        out = args.out / name
        shutil.rmtree(out, ignore_errors=True)
        truth = WRITERS[framework](spec, prepare(data, spec), out)
        label = {"family": name, "verdict": verdict, "framework": framework, "data": data_name}
        label["test"] = [round(x, 5) for x in truth["test"]]
        (args.out / f"{name}.label.json").write_text(json.dumps(label, indent=1) + "\n")
        print(name, "written")


if __name__ == "__main__":
    main()
