"""The remedies in a framework's words: each rendered call is built with the real library
(Keras 3, Lightning, PyTorch) and checked against what it should set; Keras's L2 against
nooverfit's coupled penalty and PyTorch's weight_decay."""

import math
import os
import re
from pathlib import Path

import pytest
import torch

from nooverfit._rules import diagnose
from nooverfit.diagnosis import Diagnosis, Knob, Remedy
from nooverfit.history import History
from nooverfit.logs import read_log
from nooverfit.regularize import l2_penalty
from nooverfit.remedy_words import FRAMEWORKS, in_words, number, remedy_words

LOGS = Path(__file__).parent / "fixtures" / "logs"


def _calls(text: str, prefix: str) -> list[str]:
    """Each call in ``text`` whose name starts with ``prefix``, its parentheses balanced."""
    out = []
    for match in re.finditer(re.escape(prefix) + r"[\w.]*\(", text):
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth == 0:
                break
        out.append(text[match.start() : end + 1])
    return out


def _overfit() -> Diagnosis:
    return diagnose(read_log(LOGS / "keras_overfit.csv"))


def _diverging() -> Diagnosis:
    val = [1.0, 0.8, 0.7, 0.9, 3.0, 40.0, math.inf]
    return diagnose(History.from_columns({"loss": [1.0] * 7, "val_loss": val}))


def _remedy(d: Diagnosis, kind: str) -> Remedy:
    return next(r for r in d.remedies if r.kind == kind)


def test_remedy_words_nooverfit_is_the_setting_unchanged():
    for d in (_overfit(), _diverging()):
        assert in_words(d, "nooverfit") == d
        assert all(remedy_words(r, "nooverfit") == r.setting for r in d.remedies)


def test_remedy_words_knobs_hold_the_settings_values():
    d = _overfit()
    assert _remedy(d, "early_stopping").knobs == (Knob("early_stopping", value=10, epochs=9),)
    assert _remedy(d, "l2").knobs == (Knob("l2", value=1e-3, low=1e-5, high=1e-1),)
    assert _remedy(d, "dropout").knobs == (Knob("dropout", value=0.3),)
    assert _remedy(_diverging(), "lower_lr").knobs == (Knob("lr", factor=0.1),)
    again = Diagnosis.from_dict(d.to_dict())
    assert again.remedies == d.remedies


def test_remedy_words_keras_builds_with_keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    d = in_words(_overfit(), "keras")
    stop = _remedy(d, "early_stopping").setting
    assert stop.startswith("epochs=9 in model.fit, or ")
    (callback,) = _calls(stop, "keras.callbacks")
    built = eval(callback, {"keras": keras})
    assert isinstance(built, keras.callbacks.EarlyStopping)
    assert (built.monitor, built.patience, built.restore_best_weights) == ("val_loss", 10, True)
    (dropout,) = _calls(_remedy(d, "dropout").setting, "keras.layers")
    assert eval(dropout, {"keras": keras}).rate == 0.3
    diverging = in_words(_diverging(), "keras")
    (norm,) = _calls(_remedy(diverging, "batchnorm").setting, "keras.layers")
    assert isinstance(eval(norm, {"keras": keras}), keras.layers.BatchNormalization)
    (clip,) = _calls(_remedy(diverging, "gradient_clipping").setting, "keras.optimizers")
    assert eval(clip, {"keras": keras}).clipnorm == 1.0
    (adam,) = _calls(_remedy(diverging, "lower_lr").setting, "keras.optimizers")
    # ten times below Adam's own default
    default = keras.optimizers.Adam().learning_rate
    assert float(eval(adam, {"keras": keras}).learning_rate) == pytest.approx(float(default) / 10)


def test_remedy_words_early_stopping_watches_the_curve_as_logged():
    """s33 i177: early stopping named ``val_<monitor>`` whatever the log called the curve;
    a framework's callback must name what the run logs (Keras's ``val_`` names, not its
    TensorBoard tags; Lightning's ``self.log`` names; the Trainer's ``eval_`` names), and
    a score needs ``mode="max"`` (Keras's ``"auto"`` knows built-in metrics only)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    stop = Remedy("early_stopping", "", knobs=(Knob("early_stopping", value=10),))
    logged = "val_sparse_categorical_accuracy"
    (callback,) = _calls(
        remedy_words(stop, "keras", monitor="accuracy", watched=logged), "keras.callbacks"
    )
    built = eval(callback, {"keras": keras})
    assert (built.monitor, built.mode) == (logged, "max")
    tag = remedy_words(stop, "keras", watched="validation/epoch_loss")  # (TensorBoard's)
    assert 'monitor="val_loss", patience=10,' in tag
    hf = remedy_words(stop, "hf", monitor="accuracy", watched="eval_acc")
    assert 'metric_for_best_model="eval_acc"' in hf
    d = in_words(_overfit(), "lightning", logged_as={"loss": "train/loss", "val_loss": "val/loss"})
    assert 'EarlyStopping(monitor="val/loss", patience=10)' in _remedy(d, "early_stopping").setting
    assert (
        'monitor="val_loss"'
        in _remedy(in_words(_overfit(), "lightning"), "early_stopping").setting
    )
    summed = in_words(_overfit(), "lightning", logged_as={"val_loss": "val/a_loss + val/b_loss"})
    assert 'monitor="val_loss"' in _remedy(summed, "early_stopping").setting  # (no one name)


def test_remedy_words_keras_l2_has_the_gradient_of_nooverfits_l2_and_torch_weight_decay():
    """nooverfit's ``--l2 1e-3`` (``loss += l2 / 2 * sum(W^2)``) and PyTorch's
    ``weight_decay=1e-3`` add ``1e-3 * W`` to the gradient; the Keras regularizer written
    for it must add the same."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    setting = _remedy(in_words(_overfit(), "keras"), "l2").setting
    (regularizer,) = _calls(setting, "keras.regularizers")
    assert setting.endswith("tuned over 5e-6..5e-2")
    torch.manual_seed(0)
    layer = torch.nn.Linear(4, 3).double()  # (float64: the SGD step is read as a difference)
    (ours,) = torch.autograd.grad(l2_penalty(layer, 1e-3), layer.weight)
    w = layer.weight.detach().clone().requires_grad_(True)
    (theirs,) = torch.autograd.grad(eval(regularizer, {"keras": keras})(w), w)
    sgd = torch.optim.SGD([w], lr=1.0, weight_decay=1e-3)
    before = w.detach().clone()
    w.grad = torch.zeros_like(w)
    sgd.step()  # a zero gradient: the step is the decay alone, lr * weight_decay * w
    assert torch.allclose(theirs, ours, rtol=1e-9, atol=0)
    assert torch.allclose(before - w.detach(), ours, rtol=1e-9, atol=0)


def test_remedy_words_pytorch_and_lightning_build_with_their_libraries():
    pl = pytest.importorskip("lightning.pytorch")
    import inspect

    from torch import nn

    model = nn.Linear(4, 2)
    names = {"torch": torch, "nn": nn, "params": list(model.parameters()), "model": model}
    for framework in ("pytorch", "lightning"):
        d = in_words(_overfit(), framework)
        adamw, adam = _calls(_remedy(d, "l2").setting, "torch.optim")
        assert eval(adamw, names).defaults["weight_decay"] == 1e-2
        assert isinstance(eval(adam, names), torch.optim.Adam)
        assert eval(adam, names).defaults["weight_decay"] == 1e-3
        (dropout,) = _calls(_remedy(d, "dropout").setting, "nn.Dropout")
        assert eval(dropout, names).p == 0.3
    clip = _remedy(in_words(_diverging(), "pytorch"), "gradient_clipping").setting
    (call,) = _calls(clip, "torch.nn.utils")
    eval(call, names)  # runs on a model without gradients
    stop = _remedy(in_words(_overfit(), "lightning"), "early_stopping").setting
    trainer, callback = _calls(stop, "Trainer")[0], _calls(stop, "lightning.pytorch")[0]
    assert trainer == "Trainer(max_epochs=9)"
    inspect.signature(pl.Trainer).bind(max_epochs=9)
    built = eval(callback, {"lightning": __import__("lightning")})
    assert (built.monitor, built.patience) == ("val_loss", 10)
    clip = _remedy(in_words(_diverging(), "lightning"), "gradient_clipping").setting
    assert clip == "Trainer(gradient_clip_val=1.0)"
    inspect.signature(pl.Trainer).bind(gradient_clip_val=1.0)


def test_remedy_words_hf_names_the_trainer_arguments():
    d = in_words(_overfit(), "hf")
    stop = _remedy(d, "early_stopping").setting
    assert stop.startswith("TrainingArguments(num_train_epochs=9), or ")
    assert "EarlyStoppingCallback(early_stopping_patience=10)" in stop
    assert 'load_best_model_at_end=True, metric_for_best_model="eval_loss"' in stop
    assert "evaluations" in stop  # the Trainer's patience counts its evaluations
    assert _remedy(d, "l2").setting.startswith("TrainingArguments(weight_decay=1e-2)")
    lr = _remedy(in_words(_diverging(), "hf"), "lower_lr").setting
    assert lr.startswith("TrainingArguments(learning_rate=5e-6)")


def test_remedy_words_plain_words_name_no_framework():
    """A log whose writer is not known: the knob and its value, no one framework's syntax
    (nor nooverfit's flags)."""
    syntax = re.compile(r"--\w|RunConfig|keras|torch|Trainer|nn\.|\w+=")
    for d in (_overfit(), _diverging()):
        for r in in_words(d, "").remedies:
            assert not syntax.search(r.setting), r.setting
    plain = in_words(_overfit(), "")
    assert _remedy(plain, "l2").setting.startswith("L2 penalty 1e-3 on the weights")
    assert _remedy(plain, "l2").setting.endswith("tuned over 1e-5..1e-1")
    assert _remedy(plain, "early_stopping").setting == (
        "train 9 epochs, or stop once the validation loss has not improved for 10 "
        "evaluations and keep the best one's weights"
    )


@pytest.mark.parametrize("framework", [*FRAMEWORKS, ""])
def test_remedy_words_every_remedy_has_words(framework):
    logs = [p for p in sorted(LOGS.glob("*.csv")) if p.name != "generic.csv"]  # unmapped
    diagnoses = [_diverging(), *(diagnose(read_log(p)) for p in logs)]
    kinds = set()
    for d in diagnoses:
        for r in in_words(d, framework).remedies:
            kinds.add(r.kind)
            assert r.setting or r.kind == "keep_weights", (framework, r)
            if framework != "nooverfit":
                assert "--" not in r.setting and "RunConfig" not in r.setting
                assert not r.code
    assert {"early_stopping", "l2", "lower_lr", "train_longer"} <= kinds


def test_remedy_words_refuses_an_unknown_framework():
    with pytest.raises(ValueError, match=r"framework must be one of .*got 'tf'"):
        in_words(_overfit(), "tf")


def test_number_writes_values_as_the_settings_do():
    assert [number(x) for x in (1e-3, 5e-4, 1e-2, 0.3, 13, 0.1)] == [
        "1e-3",
        "5e-4",
        "1e-2",
        "0.3",
        "13",
        "0.1",
    ]
