"""The four framework writers of ``make_log_corpus.py``: each trains one small network and
lets the framework write its own log; the test curve goes to the caller, never the log.

- ``keras``: Keras 3 (torch backend) ``model.fit`` with ``CSVLogger``; L2 as
  ``kernel_regularizer`` (Keras adds the penalty to the logged training loss).
- ``tensorboard``: a plain PyTorch loop writing ``torch.utils.tensorboard.SummaryWriter``
  scalars per epoch, or per step with or without an ``epoch`` scalar.
- ``lightning``: a ``LightningModule`` logged by Lightning's ``CSVLogger`` (``lightning_tb``:
  its ``TensorBoardLogger``, the fresh5 batch).
- ``hf``: the Hugging Face Trainer's ``trainer_state.json`` written from a PyTorch loop
  exactly as ``Trainer`` writes it (``log_history`` with fractional epochs, the training
  loss averaged over ``logging_steps``, ``eval_*`` entries, a closing summary entry),
  optionally inside ``checkpoint-N`` folders. transformers itself is not needed.

Every writer returns ``{"test": [...], "train_eval": [...], "test_acc": [...],
"train_acc": [...], "val_epochs": [...]}``: clean curves measured in eval mode at every
validated epoch, for labelling only.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _corpus_options import keras_optimizer, lightning_logger, optimizer
from torch import nn

Spec = dict[str, Any]
Data = dict[str, Any]


def _np_loss(out: np.ndarray, y: np.ndarray, loss: str, probs: bool) -> tuple[float, float]:
    """(loss, accuracy or NaN) of outputs ``out`` in numpy (probabilities or logits)."""
    losses, right = _np_sample_losses(out, y, loss, probs)
    with np.errstate(all="ignore"):
        value = float(np.mean(losses))
    return value, float(np.mean(right)) if right is not None else math.nan


def _np_sample_losses(
    out: np.ndarray, y: np.ndarray, loss: str, probs: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Each sample's loss and whether it is right (None: regression), for the bootstrap."""
    with np.errstate(all="ignore"):
        if loss == "ce":
            if probs:
                p = np.clip(out, 1e-7, 1 - 1e-7)
                logp = np.log(p / p.sum(1, keepdims=True))
            else:
                z = out - out.max(1, keepdims=True)
                logp = z - np.log(np.exp(z).sum(1, keepdims=True))
            return -logp[np.arange(len(y)), y.astype(int)], out.argmax(1) == y
        err = out.reshape(-1) - y.reshape(-1)
        return (err**2 if loss == "mse" else np.abs(err)), None


def _torch_net(spec: Spec, d_in: int, d_out: int) -> nn.Module:
    torch.manual_seed(spec["seed"])
    layers: list[nn.Module] = []
    width = d_in
    for _ in range(spec["depth"]):
        layers += [nn.Linear(width, spec["width"])]
        if spec["batchnorm"]:
            layers += [nn.BatchNorm1d(spec["width"])]
        layers += [nn.ReLU()]
        if spec["dropout"]:
            layers += [nn.Dropout(spec["dropout"])]
        width = spec["width"]
    layers += [nn.Linear(width, d_out)]
    return nn.Sequential(*layers)


def _criterion(loss: str) -> nn.Module:
    return {"ce": nn.CrossEntropyLoss(), "mse": nn.MSELoss(), "mae": nn.L1Loss()}[loss]


def _target(y: np.ndarray, loss: str) -> torch.Tensor:
    if loss == "ce":
        return torch.as_tensor(y, dtype=torch.long)
    return torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)


class _Truth:
    """The labelling curves (test and clean train) gathered at each validated epoch."""

    def __init__(self) -> None:
        self.curves: dict[str, list[Any]] = {
            k: [] for k in ("test", "test_acc", "train_eval", "train_acc", "val", "val_epochs")
        }
        # each evaluation's per-sample test losses (and rights): the labels' bootstrap
        self.curves["test_samples"], self.curves["test_right"] = [], []

    def add(self, epoch: int, outs: dict[str, np.ndarray], data: Data, spec: Spec) -> None:
        probs = spec["framework"] == "keras"
        losses, right = _np_sample_losses(outs["test"], data["y_test"], spec["loss"], probs)
        self.curves["test_samples"].append(losses.astype(np.float64))
        self.curves["test_right"].append(right)
        for split, key in (("test", "test"), ("train", "train_eval")):
            value, acc = _np_loss(outs[split], data[f"y_{split}"], spec["loss"], probs)
            self.curves[key].append(value)
            self.curves[key.replace("_eval", "") + "_acc"].append(acc)
        self.curves["val"].append(_np_loss(outs["val"], data["y_val"], spec["loss"], probs)[0])
        self.curves["val_epochs"].append(epoch)


def _eval(net: nn.Module, x: np.ndarray) -> np.ndarray:
    net.eval()
    with torch.no_grad():
        out = net(torch.as_tensor(x, dtype=torch.float32)).numpy()
    net.train()
    return out


def _batches(n: int, batch: int, rng: np.random.Generator) -> list[np.ndarray]:
    order = rng.permutation(n)
    return [order[i : i + batch] for i in range(0, n, batch)]


def write_torch(spec: Spec, data: Data, out: Path) -> dict[str, list[float]]:
    """Plain PyTorch loop; ``framework`` ``tensorboard`` or ``hf`` picks the writer."""
    d_out = data["classes"] if spec["loss"] == "ce" else 1
    net = _torch_net(spec, data["x_train"].shape[1], d_out)
    opt = optimizer(spec, net.parameters())
    crit = _criterion(spec["loss"])
    x = torch.as_tensor(data["x_train"], dtype=torch.float32)
    y = _target(data["y_train"], spec["loss"])
    rng = np.random.default_rng(spec["seed"])
    truth = _Truth()
    steps_per_epoch = math.ceil(len(x) / spec["batch"])
    writer, history, step = None, [], 0
    if spec["framework"] == "tensorboard":
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(out))
    pending: list[float] = []
    best, wait = math.inf, 0
    for epoch in range(spec["epochs"]):
        losses = []
        for idx in _batches(len(x), spec["batch"], rng):
            if len(idx) < 2 and spec["batchnorm"]:
                continue
            opt.zero_grad()
            loss = crit(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
            step += 1
            value = float(loss.detach())
            losses.append(value)
            pending.append(value)
            if writer is not None and spec["tb_mode"] != "epoch" and step % spec["log_steps"] == 0:
                writer.add_scalar(spec["tb_train_tag"], value, step)
                if spec["tb_mode"] == "step_epoch":
                    writer.add_scalar(
                        "epoch", epoch + (step % steps_per_epoch) / steps_per_epoch, step
                    )
            if spec["framework"] == "hf" and step % spec["log_steps"] == 0:
                history.append(
                    {
                        "epoch": round(step / steps_per_epoch, 4),
                        "grad_norm": float(
                            sum(p.grad.norm() ** 2 for p in net.parameters() if p.grad is not None)
                            ** 0.5
                        ),
                        "learning_rate": opt.param_groups[0]["lr"],
                        "loss": round(float(np.mean(pending)), 4),
                        "step": step,
                    }
                )
                pending = []
        if (epoch + 1) % spec["val_every"] and epoch != spec["epochs"] - 1:
            continue
        outs = {s: _eval(net, data[f"x_{s}"]) for s in ("train", "val", "test")}
        truth.add(epoch, outs, data, spec)
        val_loss, val_acc = _np_loss(outs["val"], data["y_val"], spec["loss"], False)
        train_mean = float(np.mean(losses)) if losses else math.nan
        if writer is not None:
            at = epoch if spec["tb_mode"] == "epoch" else step
            if spec["tb_mode"] == "epoch":
                writer.add_scalar(spec["tb_train_tag"], train_mean, at)
            writer.add_scalar(spec["tb_val_tag"], val_loss, at)
            if math.isfinite(val_acc):
                acc_tag = (
                    spec["tb_val_tag"].replace("Loss", "Accuracy").replace("loss", "accuracy")
                )
                writer.add_scalar(acc_tag, val_acc, at)
        if spec["framework"] == "hf":
            entry = {"epoch": round(step / steps_per_epoch, 4), "eval_loss": val_loss}
            if math.isfinite(val_acc):
                entry["eval_accuracy"] = val_acc
            entry.update(
                {
                    "eval_runtime": 0.01,
                    "eval_samples_per_second": 1e4,
                    "eval_steps_per_second": 100.0,
                    "step": step,
                }
            )
            history.append(entry)
        if spec["early_stopping"]:  # patience on the validation loss, as users write it
            best, wait = (val_loss, 0) if val_loss < best else (best, wait + 1)
            if wait >= spec["early_stopping"]:
                spec["epochs"] = epoch + 1
                break
    if writer is not None:
        writer.close()
    if spec["framework"] == "hf":
        _write_trainer_state(spec, history, step, steps_per_epoch, out)
    return truth.curves


_CONTROL = {"should_epoch_stop": False, "should_evaluate": False, "should_log": False}
_CONTROL |= {"should_save": True, "should_training_stop": True}


def _write_trainer_state(
    spec: Spec, history: list[dict[str, Any]], step: int, per_epoch: int, out: Path
) -> None:
    """``trainer_state.json`` as ``transformers.TrainerState.save_to_json`` writes it."""
    train_losses = [h["loss"] for h in history if "loss" in h]
    history.append(
        {
            "epoch": float(spec["epochs"]),
            "step": step,
            "total_flos": 0.0,
            "train_loss": float(np.mean(train_losses)) if train_losses else 0.0,
            "train_runtime": 1.0,
            "train_samples_per_second": 1000.0,
            "train_steps_per_second": 100.0,
        }
    )
    evals = [h for h in history if "eval_loss" in h]
    best = min(evals, key=lambda h: h["eval_loss"]) if evals else None
    state = {
        "best_global_step": best["step"] if best else None,
        "best_metric": best["eval_loss"] if best else None,
        "best_model_checkpoint": f"out/checkpoint-{best['step']}" if best else None,
        "epoch": float(spec["epochs"]),
        "eval_steps": spec.get("eval_steps") or per_epoch * spec["val_every"],
        "global_step": step,
        "is_hyper_param_search": False,
        "is_local_process_zero": True,
        "is_world_process_zero": True,
        "log_history": history,
        "logging_steps": spec["log_steps"],
        "max_steps": step,
        "num_input_tokens_seen": 0,
        "num_train_epochs": spec["epochs"],
        "save_steps": 500,
        "stateful_callbacks": {"TrainerControl": {"args": _CONTROL, "attributes": {}}},
        "total_flos": 0.0,
        "train_batch_size": spec["batch"],
        "trial_name": None,
        "trial_params": None,
    }
    folder = out / f"checkpoint-{step}" if spec["hf_checkpoint"] else out
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "trainer_state.json").write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")


def write_keras(spec: Spec, data: Data, out: Path) -> dict[str, list[float]]:
    """Keras 3 ``fit`` with ``CSVLogger`` (the backend must already be torch)."""
    import keras

    keras.utils.set_random_seed(spec["seed"])
    reg = keras.regularizers.L2(spec["l2"]) if spec["l2"] else None
    layers: list[Any] = [keras.Input((data["x_train"].shape[1],))]
    for _ in range(spec["depth"]):
        layers.append(keras.layers.Dense(spec["width"], kernel_regularizer=reg))
        if spec["batchnorm"]:
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.Activation("relu"))
        if spec["dropout"]:
            layers.append(keras.layers.Dropout(spec["dropout"]))
    if spec["loss"] == "ce":
        layers.append(keras.layers.Dense(data["classes"], activation="softmax"))
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    else:
        layers.append(keras.layers.Dense(1))
        loss, metrics = spec["loss"], ["mae" if spec["loss"] == "mse" else "mse"]
    model = keras.Sequential(layers)
    opt = keras_optimizer(spec)
    model.compile(optimizer=opt, loss=loss, metrics=metrics)
    truth = _Truth()

    class Test(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if (epoch + 1) % spec["val_every"] and epoch != spec["epochs"] - 1:
                return
            outs = {
                s: keras.ops.convert_to_numpy(model(data[f"x_{s}"], training=False))
                for s in ("train", "val", "test")
            }
            truth.add(epoch, outs, data, spec)

    out.mkdir(parents=True, exist_ok=True)
    callbacks = [Test(), keras.callbacks.CSVLogger(str(out / "training.log"))]
    if spec["early_stopping"]:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                patience=spec["early_stopping"], restore_best_weights=True
            )
        )
    model.fit(
        data["x_train"],
        data["y_train"],
        validation_data=(data["x_val"], data["y_val"]),
        validation_freq=spec["val_every"],
        epochs=spec["epochs"],
        batch_size=spec["batch"],
        verbose=0,
        callbacks=callbacks,
    )
    return truth.curves


def write_lightning(spec: Spec, data: Data, out: Path) -> dict[str, list[float]]:
    """A ``LightningModule`` trained by ``Trainer``, logged by ``CSVLogger`` (or TensorBoard)."""
    import lightning.pytorch as pl
    from torch.utils.data import DataLoader, TensorDataset

    d_out = data["classes"] if spec["loss"] == "ce" else 1
    net = _torch_net(spec, data["x_train"].shape[1], d_out)
    crit = _criterion(spec["loss"])
    truth = _Truth()
    name = spec["pl_name"]

    class Module(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def training_step(self, batch: Any, _: int) -> torch.Tensor:
            loss = crit(self.net(batch[0]), batch[1])
            self.log(name, loss, on_step=spec["pl_on_step"], on_epoch=True)
            return loss

        def validation_step(self, batch: Any, _: int) -> None:
            out = self.net(batch[0])
            self.log("val_loss", crit(out, batch[1]), on_epoch=True)
            if spec["loss"] == "ce":
                self.log("val_acc", (out.argmax(1) == batch[1]).float().mean(), on_epoch=True)

        def on_validation_epoch_end(self) -> None:
            outs = {s: _eval(self.net, data[f"x_{s}"]) for s in ("train", "val", "test")}
            truth.add(self.current_epoch, outs, data, spec)

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return optimizer(spec, self.parameters())

    def loader(split: str, shuffle: bool) -> DataLoader:
        xs = torch.as_tensor(data[f"x_{split}"], dtype=torch.float32)
        ds = TensorDataset(xs, _target(data[f"y_{split}"], spec["loss"]))
        size = spec["batch"] if shuffle else len(xs)
        return DataLoader(ds, batch_size=size, shuffle=shuffle, drop_last=spec["batchnorm"])

    pl.seed_everything(spec["seed"], verbose=False)
    trainer = pl.Trainer(
        max_epochs=spec["epochs"],
        accelerator="cpu",
        devices=1,
        logger=lightning_logger(spec, out),
        log_every_n_steps=spec["log_steps"],
        check_val_every_n_epoch=spec["val_every"],
        num_sanity_val_steps=0,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    callbacks = []
    if spec["early_stopping"]:
        from lightning.pytorch.callbacks import EarlyStopping

        callbacks.append(EarlyStopping("val_loss", patience=spec["early_stopping"]))
    trainer.callbacks.extend(callbacks)
    trainer.fit(Module(), loader("train", True), loader("val", False))
    return truth.curves


WRITERS = {
    "keras": write_keras,
    "tensorboard": write_torch,
    "hf": write_torch,
    "lightning": write_lightning,
    "lightning_tb": write_lightning,
}
