"""`StackedNet` against the plain networks it stacks: batch norm and dropout computed only
for the configs that have them."""

import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.engine.stacked import StackedNet
from nooverfit.models import build_model

CPU = torch.device("cpu")


def test_stacked_cnn_with_batchnorm_in_some_configs_matches_each_plain_net():
    configs = [
        RunConfig(model="cnn", width=4, batchnorm=True),
        RunConfig(model="cnn", width=4, seed=1),
        RunConfig(model="cnn", width=2, batchnorm=True, seed=2),
    ]
    nets = [build_model(c, (1, 8, 8), 10) for c in configs]
    stacked = StackedNet(nets, dropout=[0.0] * 3, device=CPU)
    assert stacked.bn_rows[0] is not None and stacked.bn_rows[0].tolist() == [0, 2]
    x = torch.rand(6, 1, 8, 8)
    valid, update = torch.ones(3, 6), torch.ones(3, dtype=torch.bool)
    out = stacked.forward(x, shared=True, train=True, valid=valid, update=update)
    out.sum().backward()
    for k, net in enumerate(nets):
        net.train()
        plain = net(x)
        plain.sum().backward()
        torch.testing.assert_close(out[k], plain, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(
            stacked.params["w0"].grad[k][: net[0].out_channels], net[0].weight.grad
        )
    bn = nets[2][1]
    torch.testing.assert_close(stacked.running_mean[0][2, :2], bn.running_mean)
    torch.testing.assert_close(stacked.running_var[0][1], torch.ones(4))  # untouched
    evaluated = stacked.forward(x, shared=True, train=False)
    for k, net in enumerate(nets):
        net.eval()
        torch.testing.assert_close(evaluated[k], net(x), atol=1e-5, rtol=1e-5)


def test_stacked_dropout_draws_masks_only_where_the_rate_is_positive():
    rates = [0.0, 0.5, 0.0, 0.25]  # half drop out: masks only for those
    nets = [build_model(RunConfig(width=8, dropout=p), (4,), 3) for p in rates]
    stacked = StackedNet(nets, dropout=rates, device=CPU)
    assert stacked.dropout_rows is not None and stacked.dropout_rows.tolist() == [1, 3]
    gen = torch.Generator().manual_seed(0)
    out = stacked._dropout(torch.ones(4, 2000, 8), gen)
    assert torch.equal(out[0], torch.ones(2000, 8)) and torch.equal(out[2], out[0])
    for k in (1, 3):
        kept = out[k] > 0
        assert torch.allclose(out[k][kept], torch.tensor(1 / (1 - rates[k])))
        assert abs(1 - kept.float().mean().item() - rates[k]) < 0.02  # 16,000 draws
    conv = stacked._dropout(torch.ones(5, 4 * 3, 2, 2), gen)  # (B, K*C, H, W)
    assert torch.equal(conv[:, :3], torch.ones(5, 3, 2, 2))
    assert set(conv[:, 3:6].unique().tolist()) <= {0.0, 2.0}


def test_stacked_dropout_for_most_configs_leaves_rate_zero_configs_untouched():
    rates = [0.0, 0.5, 0.5]  # most drop out: masks are drawn for all, p = 0 keeps all
    nets = [build_model(RunConfig(width=8, dropout=p), (4,), 3) for p in rates]
    stacked = StackedNet(nets, dropout=rates, device=CPU)
    assert stacked.dropout_rows is None
    out = stacked._dropout(torch.ones(3, 1000, 8), torch.Generator().manual_seed(0))
    assert torch.equal(out[0], torch.ones(1000, 8))
    assert abs((out[1:] == 0).float().mean().item() - 0.5) < 0.02


@pytest.mark.parametrize("model", ["mlp", "cnn"])
@pytest.mark.parametrize("all_bn", [True, False])
def test_stacked_batchnorm_kernel_for_whole_batches_equals_the_masked_path(model, all_bn):
    configs = [
        RunConfig(model=model, width=4, batchnorm=True),
        RunConfig(model=model, width=4, batchnorm=all_bn, seed=1),
        RunConfig(model=model, width=2, batchnorm=True, seed=2),
    ]
    nets = [build_model(c, (1, 8, 8), 10) for c in configs]
    kernel, masked = (StackedNet(nets, dropout=[0.0] * 3, device=CPU) for _ in range(2))
    x = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    valid, update = torch.ones(3, 6), torch.ones(3, dtype=torch.bool)
    out = kernel.forward(x, shared=True, train=True, valid=valid, update=update, full=True)
    ref = masked.forward(x, shared=True, train=True, valid=valid, update=update)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    out.sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(kernel.grad, masked.grad, atol=1e-4, rtol=1e-4)
    for i in kernel.running_mean:
        torch.testing.assert_close(kernel.running_mean[i], masked.running_mean[i])
        torch.testing.assert_close(kernel.running_var[i], masked.running_var[i])
    for k, net in enumerate(nets):  # and torch's own modules
        torch.testing.assert_close(out[k], net.train()(x), atol=1e-5, rtol=1e-5)
