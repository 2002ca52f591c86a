"""Weight averaging (``RunConfig.ema``) and mixup (``RunConfig.mixup``) in both engines."""

import numpy as np
import pytest
import torch
from torch import nn

from nooverfit.averaging import ModuleAverage, RowAverage, warm_decay
from nooverfit.config import RunConfig
from nooverfit.engine import run_configs
from nooverfit.mixing import mix_rows


def test_row_average_matches_the_formula_row_by_row():
    flat = torch.zeros(3, 4)
    avg = RowAverage(flat, [0.9, 0.0, 0.5])
    ref = [torch.zeros(4) for _ in range(3)]
    for t in range(5):
        flat += torch.arange(4.0) + t  # an optimizer step
        active = torch.tensor([True, True, t % 2 == 0])
        avg.update(flat, active)
        for r, decay in enumerate((0.9, 0.0, 0.5)):
            steps = t if r < 2 else (t + 1) // 2
            if decay == 0:
                ref[r] = flat[r].clone()
            elif active[r]:
                d = min(decay, (1 + steps) / (4 + steps))
                ref[r] = d * ref[r] + (1 - d) * flat[r]
    torch.testing.assert_close(avg.avg, torch.stack(ref)[[0, 2]])  # only rows that average
    trained = flat.clone()
    avg.apply(flat)
    avg.apply(flat)  # idempotent
    torch.testing.assert_close(flat, torch.stack(ref))
    avg.restore(flat)
    torch.testing.assert_close(flat, trained)
    assert RowAverage.of(flat, [0.0, 0.0, 0.0]) is None
    sub = trained[[2, 1]].clone()
    avg.select([2, 1])  # row 0 left the group: row 2 is now row 0
    avg.apply(sub)
    torch.testing.assert_close(sub, torch.stack([ref[2], trained[1]]))
    assert avg.rows.tolist() == [0] and avg.decay.item() == 0.5


def test_warm_decay_caps_the_early_steps():
    d = warm_decay(torch.tensor([0.999, 0.5]), torch.tensor([0.0, 100.0]))
    torch.testing.assert_close(d, torch.tensor([0.25, 0.5]))


def test_module_average_swaps_and_restores():
    model = nn.Linear(2, 2)
    before = [p.detach().clone() for p in model.parameters()]
    avg = ModuleAverage(model, 0.5)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    avg.update()  # d_0 = min(0.5, 1 / 4) = 0.25: the average moves 75 % of the way
    avg.apply()
    for p, b in zip(model.parameters(), before, strict=True):
        torch.testing.assert_close(p.detach(), b + 0.75)
    avg.restore()
    for p, b in zip(model.parameters(), before, strict=True):
        torch.testing.assert_close(p.detach(), b + 1.0)


def test_mix_rows_mixes_real_samples_only_and_leaves_alpha_zero_rows():
    gen = torch.Generator().manual_seed(0)
    x = torch.arange(2 * 6, dtype=torch.float32).view(2, 6, 1)
    valid = torch.tensor([[1, 1, 1, 1, 0, 0], [1] * 6], dtype=torch.float32)
    m = mix_rows(x, [0.4, 0.0], gen, valid)
    assert sorted(m.partner[0, :4].tolist()) == [0, 1, 2, 3]  # a permutation of real ones
    assert torch.all(m.lam[1] == 1) and torch.equal(m.x[1], x[1])
    lam = m.lam[0, :4].view(-1, 1)
    expected = lam * x[0, :4] + (1 - lam) * x[0, m.partner[0, :4]]
    torch.testing.assert_close(m.x[0, :4], expected)
    y = torch.tensor([[0, 1, 2, 3, 0, 0], [0, 1, 2, 3, 4, 5]])
    ce, other = torch.ones(2, 6), torch.zeros(2, 6)
    torch.testing.assert_close(m.loss(ce, other), m.lam)  # lam * ce(own) + (1 - lam) * 0
    assert torch.equal(m.partner_labels(y)[1], y[1, m.partner[1]])
    again = mix_rows(x, [0.4, 0.0], torch.Generator().manual_seed(0), valid)
    assert torch.equal(again.x, m.x)  # seeded


def test_fused_ema_matches_sequential(data):
    """Averaging is deterministic: the fused engine reproduces fit's averaged weights and
    curves (evaluated with them), with and without early stopping."""
    base = RunConfig(width=16, epochs=15, train_per_class=5, batch_size=16)
    configs = [
        base.replace(ema=0.9),
        base.replace(ema=0.99, weight_decay=0.1),
        base,  # not averaged, in the same group
        base.replace(ema=0.9, early_stopping="patience:3", lr=3e-3),
    ]
    seq = run_configs(configs, data, engine="sequential")
    fused = run_configs(configs, data, engine="fused")
    for s, f in zip(seq, fused, strict=True):
        assert f.engine == "fused"
        assert len(s.history) == len(f.history) and s.history.kept_epoch == f.history.kept_epoch
        for name in ("loss", "val_loss", "val_accuracy"):
            np.testing.assert_allclose(
                f.history.column(name), s.history.column(name), rtol=1e-4, atol=1e-6
            )
        for key, value in s.state.items():
            torch.testing.assert_close(f.state[key], value, atol=1e-4, rtol=0)


def test_averaged_weights_are_saved_and_differ_from_the_last_iterate(data):
    base = RunConfig(width=16, epochs=10, train_per_class=5, batch_size=16)
    plain, averaged = run_configs([base, base.replace(ema=0.9)], data, engine="fused")
    assert plain.history.column("loss") != averaged.history.column("loss")
    w = "0.weight" if "0.weight" in plain.state else next(iter(plain.state))
    assert not torch.allclose(plain.state[w], averaged.state[w])


def test_mixup_trains_in_both_engines_and_changes_the_run(data):
    base = RunConfig(width=16, epochs=8, train_per_class=5, batch_size=16)
    configs = [base, base.replace(mixup=0.4), base.replace(mixup=0.4, label_smoothing=0.1)]
    for engine in ("sequential", "fused"):
        plain, mixed, smooth = run_configs(configs, data, engine=engine)
        for r in (mixed, smooth):
            assert r.history.stop_reason == "completed"
            assert np.isfinite(r.history.column("loss")).all()
        # mixed targets: the clean training loss stays above the plain run's
        assert mixed.history.loss[-1] > plain.history.loss[-1]
    # the engines draw other partners and weights (as for dropout); each is seeded
    twice = [run_configs(configs[1:2], data, engine="sequential")[0] for _ in range(2)]
    assert twice[0].history.column("loss") == twice[1].history.column("loss")


def test_config_checks_and_keys_of_earlier_runs():
    with pytest.raises(ValueError, match="mixup"):
        RunConfig(mixup=-0.1)
    with pytest.raises(ValueError, match="ema"):
        RunConfig(ema=1.0)
    base = RunConfig()
    # runs stored before these fields existed keep their keys
    assert base.key == RunConfig(mixup=0.0, ema=0.0).key
    assert base.key != base.replace(mixup=0.2).key != base.replace(ema=0.9).key


def test_recipe_writes_mixup_and_the_weight_average():
    from nooverfit.studies.recipe import recipe

    config = RunConfig(width=16, mixup=0.4, ema=0.99)
    code = recipe(config, classes=10).pytorch
    namespace = {
        "x_train": torch.zeros(4, 1, 8, 8),
        "xb": torch.randn(4, 1, 8, 8),
        "yb": torch.tensor([0, 1, 2, 3]),
    }
    exec(code, namespace)
    assert torch.isfinite(namespace["loss"]) and namespace["loss"].requires_grad
    assert type(namespace["average"]).__name__ == "AveragedModel"
    keras = recipe(config, classes=10).keras
    assert "use_ema=True, ema_momentum=0.99" in keras
    assert any("mixup" in n for n in recipe(config, classes=10).notes)
