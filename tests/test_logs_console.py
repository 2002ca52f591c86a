"""A run's console output saved to a file reads as the run's log: Keras's ``fit`` at
verbose 1 (its redrawn progress bar) and 2 against the CSVLogger of the same run, the
Trainer's printed dicts against its ``trainer_state.json``, and a loop's own lines.
Before, each was refused ("its first line ('Epoch 1/60') reads as one column")."""

from __future__ import annotations

import contextlib
import io
import json
import os

import numpy as np
import pytest
import torch

from nooverfit import diagnose
from nooverfit.logs import detect_format, read_log
from nooverfit.logs.console import console_lines, is_console

# keras's torch backend warns of numpy 2's copy keyword at every batch
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def keras_run(tmp_path_factory):
    """One Keras fit (a wide MLP on 100 digits, 40 epochs), its CSVLogger file and its
    console at verbose 1 and 2 (the same seed twice: the same numbers)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = x / 16
    folder = tmp_path_factory.mktemp("keras")
    for verbose in (1, 2):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((64,)),
                keras.layers.Dense(256, activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            model.fit(
                x[:100],
                y[:100],
                validation_data=(x[1000:1300], y[1000:1300]),
                epochs=40,
                batch_size=32,
                verbose=verbose,
                callbacks=[keras.callbacks.CSVLogger(str(folder / f"log{verbose}.csv"))],
            )
        (folder / f"console{verbose}.txt").write_text(out.getvalue())
    return folder


@pytest.mark.parametrize("verbose", [1, 2])
def test_keras_console_reads_as_its_csv_logger(keras_run, verbose):
    console = keras_run / f"console{verbose}.txt"
    assert detect_format(console) == "console"
    got, want = read_log(console), read_log(keras_run / f"log{verbose}.csv")
    assert got.epoch == tuple(e + 1 for e in want.epoch)  # Keras prints "Epoch 1/40"
    for curve in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_allclose(getattr(got, curve), getattr(want, curve), atol=6e-5)
    a, b = diagnose(got), diagnose(want)
    assert a.verdict == b.verdict
    assert a.best_epoch == b.best_epoch + 1


def test_the_trainer_s_printed_dicts_read_as_its_state_file(tmp_path):
    history = []
    for step in range(1, 31):
        epoch = step / 3
        history.append({"loss": 2.0 / step, "grad_norm": 1.0, "epoch": epoch, "step": step})
        if step % 3 == 0:
            val = 0.5 + 0.002 * (step - 15) ** 2
            history.append({"eval_loss": val, "eval_runtime": 0.1, "epoch": epoch, "step": step})
    (tmp_path / "out").mkdir()
    state = {"log_history": history, "global_step": 30, "epoch": 10.0}
    (tmp_path / "out" / "trainer_state.json").write_text(json.dumps(state))
    printed = ["  0%|          | 0/30 [00:00<?, ?it/s]"]
    printed += [str({k: v for k, v in e.items() if k != "step"}) for e in history]
    printed[5] = " 10%|#    | 3/30 [00:01<00:09,  2.9it/s]" + printed[5]  # a bar's drawing
    printed.append("{'train_runtime': 3.1, 'train_loss': 0.4, 'epoch': 10.0}")
    (tmp_path / "console.log").write_text("\n".join(printed) + "\n")
    got, want = read_log(tmp_path / "console.log"), read_log(tmp_path / "out")
    assert got.epoch == want.epoch
    np.testing.assert_allclose(got.val_loss, want.val_loss)
    np.testing.assert_allclose(got.loss, want.loss)
    assert diagnose(got).verdict == diagnose(want).verdict


def test_a_loop_s_own_lines(tmp_path):
    """``print`` lines of a plain PyTorch loop, in percent and with a tqdm bar redrawn."""
    lines = []
    for e in range(1, 31):
        train, val = 2.0 / e, 0.6 + 0.002 * (e - 12) ** 2
        bar = "".join(
            f"\rEpoch {e}: {p}%|##| {p}/100 [00:01<00:00, loss={train + p:.4f}]" for p in (10, 50)
        )
        lines.append(bar + f"\rEpoch {e}: 100%|##| 100/100 [00:01<00:00, loss={train:.4f}]")
        acc = 90 - abs(e - 12) / 3
        lines.append(
            f"Epoch [{e}/30], Train Loss: {train:.4f}, Val Loss: {val:.4f}, Val Acc: {acc:.2f}%"
        )
    (tmp_path / "train.log").write_text("\n".join(lines) + "\n")
    h = read_log(tmp_path / "train.log")
    assert h.epoch == tuple(range(1, 31))
    np.testing.assert_allclose(h.loss, [2.0 / e for e in range(1, 31)], atol=1e-4)
    np.testing.assert_allclose(
        h.val_loss, [0.6 + 0.002 * (e - 12) ** 2 for e in range(1, 31)], atol=1e-4
    )
    np.testing.assert_allclose(
        h.val_accuracy, [(90 - abs(e - 12) / 3) / 100 for e in range(1, 31)], atol=1e-4
    )
    d = diagnose(h)
    assert d.verdict.value == "overfitting"
    assert d.best_epoch == 12


def test_a_redrawn_line_reads_drawing_by_drawing():
    text = "\x1b[1m1/4\x1b[0m ab\b\b\rEpoch 3: loss: 0.5\r\x1b[32mEpoch 4: loss: 0.4\x1b[0m\nnext"
    assert console_lines(text) == [
        (1, "1/4 ab"),
        (1, "Epoch 3: loss: 0.5"),
        (1, "Epoch 4: loss: 0.4"),
        (2, "next"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "epoch,loss,val_loss\n0,0.5,0.6\n1,0.4,0.6\n",  # a CSV log
        '{"epoch": 1, "loss": 0.5}\n{"epoch": 2, "loss": 0.4}\n',  # JSON lines
        "Epoch 23: early stopping\nRestoring model weights from the end of the best epoch: 13.\n",
    ],
)
def test_other_text_is_no_console(text):
    assert not is_console(text)


def test_a_tqdm_bar_whose_postfix_lags_an_epoch(tmp_path):
    """tqdm redraws with carriage returns and ends a line now and then only; the postfix
    shows the last epoch's values until the epoch's own are set (Lightning's bar does
    so): each epoch reads as its bar last stood."""
    from tqdm import tqdm

    train = [2.0 / (e + 1) for e in range(30)]
    val = [0.6 + 0.002 * (e - 12) ** 2 for e in range(30)]
    log = tmp_path / "bar.log"
    with log.open("w") as fh:
        bar = tqdm(total=4, file=fh, mininterval=0, miniters=1)
        for e in range(30):
            bar.reset()
            bar.set_description(f"Epoch {e}")
            for _ in range(4):
                bar.update(1)
            bar.set_postfix(val_loss=val[e], train_loss=train[e - 1] if e else 9.0)
            bar.set_postfix(val_loss=val[e], train_loss=train[e])
        bar.close()
    assert b"\r" in log.read_bytes()
    h = read_log(log)
    assert h.epoch == tuple(range(30))
    np.testing.assert_allclose(h.loss, [float(f"{v:.3g}") for v in train])
    np.testing.assert_allclose(h.val_loss, [float(f"{v:.3g}") for v in val])
    assert diagnose(h).best_epoch == 12


def test_lightning_s_tqdm_bar_reads_as_its_csv_logger(tmp_path):
    """A real Lightning fit with ``TQDMProgressBar``, its stdout in a file, against the
    same run's ``CSVLogger`` (values printed to 3 significant digits)."""
    lightning = pytest.importorskip("lightning")
    from lightning.pytorch.callbacks import TQDMProgressBar
    from lightning.pytorch.loggers import CSVLogger
    from sklearn.datasets import load_digits
    from torch.utils.data import DataLoader, TensorDataset

    x, y = load_digits(return_X_y=True)
    x, y = torch.tensor(x / 16, dtype=torch.float32), torch.tensor(y)

    class Net(lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)
            )

        def training_step(self, batch, _):
            loss = torch.nn.functional.cross_entropy(self.net(batch[0]), batch[1])
            self.log("train_loss", loss, prog_bar=True, on_epoch=True, on_step=False)
            return loss

        def validation_step(self, batch, _):
            loss = torch.nn.functional.cross_entropy(self.net(batch[0]), batch[1])
            self.log("val_loss", loss, prog_bar=True)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), 1e-3)

    lightning.seed_everything(0, verbose=False)
    trainer = lightning.Trainer(
        max_epochs=12,
        logger=CSVLogger(str(tmp_path), name="csv"),
        enable_checkpointing=False,
        enable_model_summary=False,
        callbacks=[TQDMProgressBar()],
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        trainer.fit(
            Net(),
            DataLoader(TensorDataset(x[:100], y[:100]), batch_size=32),
            DataLoader(TensorDataset(x[1000:1300], y[1000:1300]), batch_size=300),
        )
    (tmp_path / "console.txt").write_text(out.getvalue())
    got, want = read_log(tmp_path / "console.txt"), read_log(tmp_path / "csv")
    assert got.epoch == want.epoch == tuple(range(12))
    np.testing.assert_allclose(got.loss, want.loss, rtol=5e-3)
    np.testing.assert_allclose(got.val_loss, want.val_loss, rtol=5e-3)


def _loop_values(e: int) -> tuple[float, float, float]:
    """A loop's train loss, val loss and val accuracy at epoch ``e`` (best epoch 12)."""
    return 2.0 / e, 0.6 + 0.002 * (e - 12) ** 2, 0.9 - abs(e - 12) / 300


_STYLES = {
    "pipes, no colons": "Epoch {e:3d}/30 | train_loss {t:.4f} | val_loss {v:.4f} | "
    "val_acc {a:.2%}",
    "two spaces": "Epoch: {e}  Training Loss: {t:.6f}  Validation Loss: {v:.6f}  Val Acc: {a:.4f}",
    "logging, date": "2026-12-02 10:00:01,123 - train - INFO - Epoch {e}, loss {t:.4f}, "
    "val_loss {v:.4f}, val_acc {a:.4f}",
    "phase lines": "Epoch {e}/30\nTrain Loss: {t:.4f} Acc: 0.9900\nVal Loss: {v:.4f} Acc: {a:.4f}"
    "\n----------",
    "phase per line": "Epoch {e} train loss: {t:.4f}\n"
    "Epoch {e} val loss: {v:.4f} val acc: {a:.4f}",
    "phase piece": "[Epoch {e}] Train: loss {t:.4f} | Val: loss {v:.4f}, acc {a:.4f}",
    # s32: a name and its value after "Epoch 3:" were not read (the training loss lost)
    "colon after the epoch": "Epoch {e}: train_loss {t:.4f}, val_loss {v:.4f}, val_acc {a:.4f}",
    # s32: the steps' loss and the epoch's train_loss name one curve: the epoch's last line
    "steps, then the epoch": "Epoch {e}, step 100: loss {s:.4f}\nEpoch {e}, step 200: loss "
    "{s:.4f}\nEpoch {e}: train_loss {t:.4f}, val_loss {v:.4f}, val_acc {a:.4f}",
    # s32: names and values separated by single spaces alone read as a table's header
    "single spaces": "Epoch {e:03d} train-loss {t:.4f} val-loss {v:.4f} val-acc {a:.4f}",
    # s32: an accuracy in brackets after its loss read as a table of two 'loss' columns
    "brackets": "epoch {e}: train loss {t:.4f} (acc 0.9900), val loss {v:.4f} (acc {a:.4f})",
    # s33 i174: sides with no metric named (their losses) read as no curve, 'Acc (%)' as
    # no name; a slash with no space before the next name lost it (val_loss)
    "sides alone, acc in (%)": "Epoch {e} | Train {t:.4f} | Val {v:.4f} | Acc (%): 99.00 | "
    "Val Acc (%): {p:.2f}",
    "sides alone, colons": "Epoch {e}/30 | Train: {t:.4f} | Val: {v:.4f} | Val Acc: {a:.4f}",
    "slash, no space": "Epoch {e} loss:{t:.4f}/val_loss:{v:.4f}/val_acc:{a:.4f}",
    # s33 i177: a side alone after a metric's side names that metric: the validation
    # accuracy after 'Train Acc' was read as the validation loss
    "sides of each metric": "Epoch {e} | Train Loss {t:.4f} Val {v:.4f} | Train Acc 0.9900 "
    "Val {a:.4f}",
    # s33 i177: a bracket closing a value in percent took its '%' along (i174), and an
    # error in percent read as 6.0 errors, not 6 %: no accuracy read from it
    "error in % in brackets": "epoch {e}: train loss {t:.4f} (err 1.00%), val loss {v:.4f} "
    "(err {q:.2f}%)",
    # s33 i177: i174's slash split 'top1/val' after its digit: 'val: 90.0' read as val_loss
    "a name's digits, then a slash": "Epoch {e} loss: {t:.4f} val_loss: {v:.4f} top1/val: {p:.2f}",
    "each metric's sides after it": "Epoch {e}: Loss Train {t:.4f} Val {v:.4f} | Acc Train: "
    "0.9900 Val: {a:.4f}",
}


@pytest.mark.parametrize("style", _STYLES)
def test_a_loop_s_lines_in_the_styles_users_print(tmp_path, style):
    """Each style as a plain PyTorch loop's ``print`` or ``logging`` writes it; before,
    each was misread (the training and validation losses both read as ``Loss``) or
    refused (a header of one column, or columns named ``|``)."""
    lines = [
        _STYLES[style].format(e=e, t=t, v=v, a=a, s=t + 0.3, p=100 * a, q=100 * (1 - a))
        for e in range(1, 31)
        for t, v, a in [_loop_values(e)]
    ]
    (tmp_path / "train.log").write_text("\n".join(lines) + "\n")
    assert detect_format(tmp_path / "train.log") == "console"
    h = read_log(tmp_path / "train.log")
    want = np.array([_loop_values(e) for e in range(1, 31)])
    assert h.epoch == tuple(range(1, 31))
    np.testing.assert_allclose(h.loss, want[:, 0], atol=1e-4)
    np.testing.assert_allclose(h.val_loss, want[:, 1], atol=1e-4)
    np.testing.assert_allclose(h.val_accuracy, want[:, 2], atol=1e-4)
    assert diagnose(h).best_epoch == 12


def test_a_tqdm_bar_then_a_print_naming_the_loss_otherwise(tmp_path):
    """tqdm's bar shows the steps' ``train loss``, then the loop prints the epoch's
    ``train_loss``: one value, as printed last (before: the bar's last step was read)."""
    from tqdm import tqdm

    out = io.StringIO()
    for e in range(1, 31):
        t, v, _ = _loop_values(e)
        bar = tqdm(range(5), desc=f"Epoch {e}/30", file=out, mininterval=0)
        for step in bar:
            bar.set_postfix({"train loss": t + 1 - step / 10})
        print(f"Epoch {e}: train_loss={t:.4f}, val_loss={v:.4f}", file=out)
    (tmp_path / "train.log").write_text(out.getvalue())
    h = read_log(tmp_path / "train.log")
    want = np.array([_loop_values(e) for e in range(1, 31)])
    np.testing.assert_allclose(h.loss, want[:, 0], atol=1e-4)
    np.testing.assert_allclose(h.val_loss, want[:, 1], atol=1e-4)


def test_prose_naming_epochs_and_values_is_no_console():
    text = (
        "Notes on the run of 2 December.\n"
        "Epoch 1: the loss was high, lr: 0.01 at first, then we lowered it.\n"
        "Epoch 5: validation accuracy: 0.81, which is the best we saw.\n"
        "By epoch 12 the model overfit: val loss: 0.9 against train loss: 0.01.\n"
    )
    assert not is_console(text)
    # names and values with single spaces alone (read since s32) are no licence for prose
    assert not is_console(
        "Epoch 5 we got loss 0.3 and acc 0.9\nEpoch 6 we got loss 0.2 and acc 1\n"
    )


def test_keras_s_first_epoch_bar_past_the_text_read_after_warnings(tmp_path):
    """Keras's bar for a 2,000-step epoch, redrawn at every step (its Progbar, as fit's
    ProgbarLogger draws it), after a warning: the first 64 KB hold one epoch only, not
    at the file's first line (before: read as a CSV and refused)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        print("/usr/lib/python3/site-packages/keras/src/x.py:12: UserWarning: a warning")
        for epoch, loss in [(1, 0.5), (2, 0.4)]:
            print(f"Epoch {epoch}/2")
            bar = keras.utils.Progbar(2000, interval=0)
            for step in range(1, 2001):
                bar.update(step, values=[("loss", loss)], finalize=step == 2000)
    (tmp_path / "console.txt").write_text(out.getvalue())
    assert len(out.getvalue().split("Epoch 2/2")[0].encode()) > 65536
    assert detect_format(tmp_path / "console.txt") == "console"
    h = read_log(tmp_path / "console.txt")
    assert h.epoch == (1, 2)
    np.testing.assert_allclose(h.loss, [0.5, 0.4])


def test_a_csv_log_with_a_text_column_naming_epochs_is_read_as_its_table(tmp_path):
    """A CSV log with a column of remarks (``epoch 3: lr=0.1``) is the table it was read as
    before the console reader: its curves, the remarks read as missing. Since the console
    reader it was taken for console output and refused ('no training or validation curve
    recognized ... columns found: epoch, lr')."""
    rows = "".join(
        f"{e},{1 / (e + 1):.4f},{0.5 + 0.01 * e:.4f},epoch {e}: lr=0.1\n" for e in range(10)
    )
    log = tmp_path / "log.csv"
    log.write_text("epoch,loss,val_loss,comment\n" + rows)
    assert detect_format(log) != "console"
    h = read_log(log)
    assert h.val_loss == pytest.approx([0.5 + 0.01 * e for e in range(10)])
    assert h.epoch == tuple(range(10))


@pytest.mark.parametrize(
    "junk",
    [
        "a" * 8192,  # a token (a base64 image, a hash): each of its letters tried as a name
        "x.y/z-" * 1365,  # one of separators a name may hold
        "Epoch 5 | acc per class [" + "nan " * 57 + "x]",  # NumPy's printed NaNs
        "a:1/" * 2048,  # s33: a slash after a value separates pieces (one a pair)
        "Acc (%) " * 1024,  # s33: a unit of percent closing a name
    ],
    ids=["token", "separators", "nans", "slashes", "percent units"],
)
def test_a_long_line_of_no_values_is_read_in_linear_time(tmp_path, junk):
    """s32 i173: a line of one 8 KB token took 12 s (quadratic: 49 s at 16 KB, a 64 KB
    one about 13 min by the square), and 57 NaNs in brackets 32 s (exponential: names
    and values split every way, ``nan`` read as either; 99 of them, no answer). Read
    among epochs' lines as a line of no values, each in well under a second."""
    import time

    lines = [f"Epoch {e} | train_loss {1 / e:.4f} | val_loss {0.5 + e / 100:.4f}" for e in (1, 2)]
    path = tmp_path / "train.log"
    path.write_text("\n".join([lines[0], junk, lines[1]]) + "\n")
    start = time.perf_counter()
    h = read_log(path)
    assert time.perf_counter() - start < 1.0
    assert h.epoch == (1, 2) and h.loss == (1.0, 0.5) and h.val_loss == (0.51, 0.52)
    assert not h.extras


def test_numpy_s_printed_array_after_the_values_is_no_curve(tmp_path):
    """s32 i173: an array NumPy printed after the epoch's values (``per-class acc [0.9
    nan 0.8]``) gave a curve named ``nan``; its ``nan`` is a value, neither a name nor a
    word of prose (read as a word, the line was prose: no value read)."""
    lines = []
    for e in range(1, 31):
        t, v, a = _loop_values(e)
        per_class = np.array([a, np.nan, a])
        lines.append(f"Epoch {e}: train_loss {t:.4f}, val_loss {v:.4f}, per-class acc {per_class}")
    (tmp_path / "train.log").write_text("\n".join(lines) + "\n")
    h = read_log(tmp_path / "train.log")
    want = np.array([_loop_values(e) for e in range(1, 31)])
    np.testing.assert_allclose(h.loss, want[:, 0], atol=1e-4)
    np.testing.assert_allclose(h.val_loss, want[:, 1], atol=1e-4)
    assert "nan" not in h.extras


@pytest.mark.parametrize(
    "line",
    [
        "Epoch {e} step {s} loss {l:.4f} acc {a:.4f}",
        "Epoch [{e}/30], Step [{s}/40], Loss: {l:.4f}, Acc: {a:.4f}",
        "epoch {e} iter {s}: loss={l:.4f} acc={a:.4f}",
    ],
)
def test_an_epoch_printed_step_by_step_alone_reads_as_its_steps_mean(tmp_path, line):
    """s33 i174: a per-step print with no epoch summary read the epoch's last step (one
    batch's loss, noisy) where the epoch's loss is the mean of its steps (Keras's and
    Lightning's); validation, printed once an epoch, is read as printed."""
    rng = np.random.default_rng(0)
    lines, want = [], []
    for e in range(1, 31):
        t, v, _ = _loop_values(e)
        steps = [(t * (1 + rng.uniform(-0.5, 0.5)), rng.uniform(0.5, 1)) for _ in range(4)]
        lines += [line.format(e=e, s=10 * (i + 1), l=lo, a=a) for i, (lo, a) in enumerate(steps)]
        lines.append(f"Epoch {e} val_loss {v:.4f}")  # a line of no step, yet no summary
        want.append(
            [
                np.mean([round(lo, 4) for lo, _ in steps]),
                np.mean([round(a, 4) for _, a in steps]),
                v,
            ]
        )
    (tmp_path / "train.log").write_text("\n".join(lines) + "\n")
    h = read_log(tmp_path / "train.log")
    want = np.array(want)
    assert h.epoch == tuple(range(1, 31))
    np.testing.assert_allclose(h.loss, want[:, 0], rtol=1e-12)
    np.testing.assert_allclose(h.accuracy, want[:, 1], rtol=1e-12)
    np.testing.assert_allclose(h.val_loss, want[:, 2], atol=1e-4)
    assert any("mean of the steps printed" in n for n in h.notes)
