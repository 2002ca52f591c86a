import math

import numpy as np
import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.data import load_dataset, load_split, make_split, prepare
from nooverfit.engine import plan_groups, resolve_engine, run_configs
from nooverfit.engine.optimizer import StackedOptimizer
from nooverfit.engine.stacked import StackedNet
from nooverfit.models import build_model
from nooverfit.regularize import decay_groups

CPU = torch.device("cpu")


def _both(configs, data):
    seq = run_configs(configs, data, engine="sequential")
    fused = run_configs(configs, data, engine="fused")
    assert all(r.engine == "fused" for r in fused)
    return seq, fused


def _assert_same(seq, fused, *, rtol=1e-4, state_atol=1e-4):
    for s, f in zip(seq, fused, strict=True):
        hs, hf = s.history, f.history
        assert len(hs) == len(hf), s.config
        assert hs.stop_reason == hf.stop_reason
        assert hs.kept_epoch == hf.kept_epoch
        assert hs.extras["lr"] == hf.extras["lr"]
        for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
            a, b = np.array(hs.column(name)), np.array(hf.column(name))
            np.testing.assert_allclose(b, a, rtol=rtol, atol=1e-6, err_msg=f"{name} {s.config}")
        assert s.state.keys() == f.state.keys()
        for key, value in s.state.items():
            assert f.state[key].shape == value.shape, key
            torch.testing.assert_close(f.state[key], value, atol=state_atol, rtol=0)


def test_fused_adam_matches_sequential_over_20_epochs(data):
    base = RunConfig(width=16, epochs=20, train_per_class=5, batch_size=16)
    configs = [
        base.replace(l2=1e-2),
        base.replace(width=8, weight_decay=0.1, lr=3e-3, optimizer="adamw"),  # width mask
        base.replace(train_per_class=3, seed=2),  # other subset: fewer steps per epoch
        base.replace(train_size=70, seed=3, epochs=12),
        base.replace(early_stopping="patience:2", lr=3e-2),
    ]
    seq, fused = _both(configs, data)
    _assert_same(seq, fused)
    assert fused[-1].history.stop_reason == "patience" and len(fused[-1].history) < 20


def test_fused_sgd_with_batchnorm_and_divergence_matches_sequential(data):
    base = RunConfig(width=16, epochs=20, train_per_class=6, batch_size=25, optimizer="sgd")
    configs = [
        base.replace(lr=0.05, l2=1e-3, weight_decay=1e-2, width=12, seed=1),
        base.replace(lr=0.01, batchnorm=True, seed=2),  # last batch of 10 samples
        base.replace(lr=0.01, batchnorm=True, train_per_class=5, width=10),
        base.replace(lr=1e8, seed=5),  # diverges in the first epoch
    ]
    seq, fused = _both(configs, data)
    _assert_same(seq[:-1], fused[:-1])
    hs, hf = seq[-1].history, fused[-1].history
    assert hf.stop_reason == hs.stop_reason == "diverged" and len(hf) == len(hs)


def test_fused_cnn_matches_sequential(data):
    base = RunConfig(model="cnn", width=4, epochs=6, train_per_class=4, batch_size=16)
    configs = [base, base.replace(width=2, l2=1e-2, seed=1), base.replace(lr=3e-3, seed=2)]
    seq, fused = _both(configs, data)
    _assert_same(seq, fused)


def test_fused_adam_batchnorm_matches_sequential(data):
    # A Linear before batch norm has no bias (its true gradient is 0: Adam would turn
    # the rounding noise into steps of about lr, which the two engines round differently);
    # the fused engine holds that config's bias slot at exactly 0, so both agree.
    base = RunConfig(width=16, epochs=8, train_per_class=5, batch_size=16, batchnorm=True)
    configs = [base, base.replace(width=8, seed=1), base.replace(batchnorm=False)]
    seq, fused = _both(configs, data)
    _assert_same(seq, fused)


def test_fused_audio_front_end_matches_sequential():
    """Audio networks start with a parameter-free log-spectrogram, which the fused engine
    runs once over every config's samples."""
    ds = load_dataset("keywords", n_per_class=12)
    audio = prepare(ds, make_split(ds.y, test=0.25, val=0.2, seed=0), device="cpu")
    base = RunConfig(width=16, epochs=10, train_per_class=5, batch_size=8)
    configs = [
        base,
        base.replace(l2=1e-2, width=8, seed=1),
        base.replace(model="cnn", width=4, depth=1),
        base.replace(model="cnn", width=4, depth=1, seed=2),
    ]
    seq, fused = _both(configs, audio)
    _assert_same(seq, fused)
    assert fused[0].history.val_accuracy[-1] >= 0.5  # 4 keywords, chance 0.25: it hears them


def test_stacked_batchnorm_partial_batch_matches_torch():
    config = RunConfig(width=16, batchnorm=True)
    nets = [build_model(config, (1, 8, 8), 10), build_model(config.replace(seed=3), (1, 8, 8), 10)]
    stacked = StackedNet(nets, dropout=[0.0, 0.0], device=CPU)
    x, y = torch.rand(16, 1, 8, 8), torch.randint(0, 10, (16,))
    valid = torch.ones(2, 16)
    valid[0, 4:] = 0  # config 0 sees a partial batch of 4 samples
    out = stacked.forward(
        x, shared=True, train=True, valid=valid, update=torch.ones(2, dtype=bool)
    )
    ref = nets[0](x[:4])
    torch.testing.assert_close(out[0, :4], ref, atol=1e-5, rtol=0)
    torch.nn.functional.cross_entropy(ref, y[:4]).backward()
    torch.nn.functional.cross_entropy(out[0, :4], y[:4]).backward()
    torch.testing.assert_close(stacked.params["w0"].grad[0].t(), nets[0][1].weight.grad)
    torch.testing.assert_close(stacked.running_mean[0][0], nets[0][2].running_mean)
    torch.testing.assert_close(stacked.running_var[0][0], nets[0][2].running_var)


@pytest.mark.parametrize(
    ("optimizer", "kernel", "per_row"),
    [("adamw", True, True), ("adamw", True, False), ("adamw", False, True), ("sgd", False, True)],
)
def test_stacked_optimizer_matches_torch(optimizer, kernel, per_row):
    configs = [
        RunConfig(width=8, lr=1e-2, l2=0.1, weight_decay=0.05, optimizer=optimizer),
        RunConfig(width=8, lr=3e-3, seed=1, optimizer=optimizer),
    ]
    nets = [build_model(c, (4,), 3) for c in configs]
    stacked = StackedNet(nets, dropout=[0.0, 0.0], device=CPU)
    opt = StackedOptimizer(stacked, configs)
    assert opt.kernel or not kernel
    opt.kernel = kernel  # torch's fused Adam kernel, or the eager elementwise update
    opt.per_row = per_row  # the kernel on each config's row (CPU) or on blocks (GPU)
    refs = []
    for net, c in zip(nets, configs, strict=True):
        groups = decay_groups(net, c.weight_decay)
        if optimizer == "sgd":
            refs.append(torch.optim.SGD(groups, lr=c.lr, momentum=0.9))
        else:
            refs.append(torch.optim.AdamW(groups, lr=c.lr))
    gen = torch.Generator().manual_seed(0)
    for step in range(6):
        active = torch.tensor([True, step % 2 == 0])
        stacked.grad.normal_(generator=gen)
        for k, (net, ref, c) in enumerate(zip(nets, refs, configs, strict=True)):
            state = stacked.state_dict(
                k, {"flat": stacked.grad, "nb": stacked.batches_tracked}, net
            )
            for name, p in net.named_parameters():
                p.grad = state[name] + c.l2 * p.detach() * (p.ndim >= 2)
            if active[k]:
                ref.step()
        opt.step(active, active.numpy())
    for k, net in enumerate(nets):
        state = stacked.state_dict(k, stacked.snapshot(), net)
        for name, p in net.named_parameters():
            torch.testing.assert_close(state[name], p.detach(), atol=1e-6, rtol=1e-5)


def test_fused_dropout_accuracy_matches_sequential_in_distribution(data):
    # Dropout masks differ between the engines, so compare distributions over 8 seeds: the
    # mean final val accuracies may differ by seed noise, 3 standard errors of a difference
    # of two 8-run means (3 * sqrt(2/8) * sd), and at least 2 points for sd ~ 0.
    configs = [
        RunConfig(width=32, dropout=0.3, lr=1e-2, epochs=8, train_per_class=8, seed=s)
        for s in range(8)
    ]
    seq, fused = _both(configs, data)
    a = np.array([r.history.val_accuracy[-1] for r in seq])
    b = np.array([r.history.val_accuracy[-1] for r in fused])
    sd = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    assert abs(a.mean() - b.mean()) <= max(0.02, 3 * math.sqrt(2 / 8) * sd)
    assert min(a.mean(), b.mean()) > 0.45  # both learned (10 classes: chance is 0.1)
    assert not np.array_equal(  # a dropout of 0.3 really drew masks
        fused[0].history.loss,
        run_configs([configs[0].replace(dropout=0.0)], data, engine="fused")[0].history.loss,
    )


def test_fused_augmentation_runs_per_config(data):
    base = RunConfig(width=16, epochs=3, train_per_class=5)
    results = run_configs([base, base.replace(augment=0.5)], data, engine="fused")
    plain = run_configs([base], data, engine="sequential")[0]
    np.testing.assert_allclose(results[0].history.loss, plain.history.loss, rtol=1e-4)
    assert results[1].history.loss != results[0].history.loss
    assert all(math.isfinite(v) for v in results[1].history.val_loss)


def test_fused_state_loads_into_plain_model(data):
    configs = [RunConfig(width=8, epochs=2, batchnorm=True), RunConfig(width=16, epochs=2)]
    for result in run_configs(configs, data, engine="fused"):
        model = build_model(result.config, data.in_shape, data.num_classes)
        model.load_state_dict(result.state)  # strict: same keys and shapes


def test_plan_groups_splits_by_key_and_cap():
    configs = [
        RunConfig(width=32),
        RunConfig(width=8, l2=0.1),
        RunConfig(optimizer="sgd"),
        RunConfig(model="cnn"),
        RunConfig(width=16, dropout=0.2),
        RunConfig(batch_size=64),
    ]
    groups = plan_groups(configs, (1, 8, 8), 10, device=CPU, max_group=2)
    assert groups == [[0], [1, 4], [2], [3], [5]]  # mlp/adam by width: 8, 16 | 32
    assert sorted(i for g in groups for i in g) == list(range(6))
    with pytest.raises(ValueError, match="max_group"):
        plan_groups(configs, (1, 8, 8), 10, device=CPU, max_group=0)


def test_resolve_engine_auto_and_bad_name():
    one, two = [RunConfig()], [RunConfig(), RunConfig(seed=1)]
    assert resolve_engine("auto", one) == "sequential"
    assert resolve_engine("auto", two) == "fused"
    with pytest.raises(ValueError, match="engine must be one of"):
        resolve_engine("turbo", two)


def test_plan_groups_cpu_keeps_weights_within_budget():
    from nooverfit.engine.schedule import CPU_WEIGHT_BYTES, config_params

    configs = [RunConfig(seed=s) for s in range(300)]  # default MLP: ~85k weights each
    limit = CPU_WEIGHT_BYTES // (4 * config_params(configs[0], (1, 8, 8), 10))
    groups = plan_groups(configs, (1, 8, 8), 10, device=CPU)
    assert [len(g) for g in groups] == [60] * 5  # 300 / 73 -> 5 balanced groups
    assert limit == 73
    net = build_model(configs[0], (1, 8, 8), 10)
    assert config_params(configs[0], (1, 8, 8), 10) >= net.num_parameters


def test_fused_group_with_different_sizes_and_epochs_matches_fit():
    """Configs that run out of batches or epochs at different times: steps in which no
    config is active update nothing, and each config still equals its sequential run."""
    data = load_split("digits", seed=0, device="cpu")
    configs = [
        RunConfig(width=8, train_per_class=2, epochs=6, batch_size=8, seed=1),
        RunConfig(width=8, train_per_class=10, epochs=2, batch_size=8, seed=1),
    ]
    fused = run_configs(configs, data, engine="fused")
    sequential = run_configs(configs, data, engine="sequential")
    for f, s in zip(fused, sequential, strict=True):
        assert f.history.val_loss == pytest.approx(s.history.val_loss, rel=1e-4)
