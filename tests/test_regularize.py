from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nooverfit.models import cnn, mlp
from nooverfit.regularize import add_batchnorm, add_dropout, convert_l2, decay_groups, l2_penalty


def _net(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1),
        nn.BatchNorm2d(3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(3 * 4 * 4, 5),
        nn.ReLU(),
        nn.Linear(5, 2),
    )


def test_l2_penalty_equals_hand_computed_sum_over_weights_only():
    model = _net()
    weights = [model[0].weight, model[4].weight, model[6].weight]
    expected = 0.3 / 2 * sum(float((w.detach() ** 2).sum()) for w in weights)
    assert float(l2_penalty(model, 0.3).detach()) == pytest.approx(expected, rel=1e-6)
    # biases and BatchNorm weight/bias do not count: changing them leaves the penalty
    with torch.no_grad():
        for module in (model[0], model[1], model[4], model[6]):
            module.bias.add_(5.0)
        model[1].weight.mul_(3.0)
    assert float(l2_penalty(model, 0.3).detach()) == pytest.approx(expected, rel=1e-6)


def test_l2_penalty_leaves_frozen_layers_out_as_decay_groups_does():
    """A frozen layer (a transferred network's) adds no gradient and, now, no value: its
    squared weights made a constant part of a loss a user logs (review i116)."""
    model = _net()
    model[0].weight.requires_grad_(False)
    weights = [model[4].weight, model[6].weight]
    expected = 0.3 / 2 * sum(float((w.detach() ** 2).sum()) for w in weights)
    assert float(l2_penalty(model, 0.3).detach()) == pytest.approx(expected, rel=1e-6)
    decayed = decay_groups(model, 0.3)[0]["params"]
    assert [id(p) for p in decayed] == [id(w) for w in weights]


def test_l2_penalty_on_a_tiny_matrix():
    layer = nn.Linear(2, 1)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[3.0, 4.0]]))
    assert float(l2_penalty(layer, 0.1).detach()) == pytest.approx(0.1 / 2 * 25.0)
    assert float(l2_penalty(layer, 0.0)) == 0.0


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_l2_penalty_sgd_steps_equal_torch_sgd_weight_decay(momentum):
    l2, lr = 0.05, 0.1
    torch.manual_seed(1)
    x, y = torch.randn(16, 1, 4, 4), torch.randint(0, 2, (16,))
    ours, ref = _net(), _net()
    opt = torch.optim.SGD(ours.parameters(), lr=lr, momentum=momentum)
    # the reference decays only >=2-D weights, like torch users do with param groups
    ref_groups = [
        {"params": [p for p in ref.parameters() if p.ndim >= 2], "weight_decay": l2},
        {"params": [p for p in ref.parameters() if p.ndim < 2], "weight_decay": 0.0},
    ]
    ref_opt = torch.optim.SGD(ref_groups, lr=lr, momentum=momentum)
    for _ in range(5):
        opt.zero_grad()
        (F.cross_entropy(ours(x), y) + l2_penalty(ours, l2)).backward()
        opt.step()
        ref_opt.zero_grad()
        F.cross_entropy(ref(x), y).backward()
        ref_opt.step()
    for (name, a), b in zip(ours.state_dict().items(), ref.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
    # and it really regularized: without the penalty the weights differ
    plain = _net()
    plain_opt = torch.optim.SGD(plain.parameters(), lr=lr, momentum=momentum)
    for _ in range(5):
        plain_opt.zero_grad()
        F.cross_entropy(plain(x), y).backward()
        plain_opt.step()
    assert not torch.allclose(plain[4].weight, ours[4].weight)


def test_decay_groups_equal_l2_penalty_under_sgd():
    l2 = 0.05
    torch.manual_seed(2)
    x, y = torch.randn(8, 1, 4, 4), torch.randint(0, 2, (8,))
    ours, ref = _net(), _net()
    opt = torch.optim.SGD(ours.parameters(), lr=0.1)
    ref_opt = torch.optim.SGD(decay_groups(ref, l2), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (F.cross_entropy(ours(x), y) + l2_penalty(ours, l2)).backward()
        opt.step()
        ref_opt.zero_grad()
        F.cross_entropy(ref(x), y).backward()
        ref_opt.step()
    for a, b in zip(ours.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_decay_groups_put_biases_and_norms_in_the_no_decay_group():
    model = _net()
    decay, no_decay = decay_groups(model, 0.01)
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    assert {id(p) for p in decay["params"]} == {
        id(model[0].weight),
        id(model[4].weight),
        id(model[6].weight),
    }
    assert id(model[1].weight) in {id(p) for p in no_decay["params"]}
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (1e-4, "keras", "nooverfit", 2e-4),
        (2e-4, "nooverfit", "keras", 1e-4),
        (3e-3, "torch", "nooverfit", 3e-3),
        (5e-4, "keras", "torch", 1e-3),
    ],
)
def test_convert_l2_between_conventions(value, source, target, expected):
    assert convert_l2(value, source=source, target=target) == pytest.approx(expected)


def test_convert_l2_keras_gradient_matches():
    # Keras L2(l): loss += l * sum(W^2), gradient 2 l W; ours: l2 / 2 * sum(W^2), gradient l2 W
    w = torch.randn(3, 3, requires_grad=True)
    keras_l = 0.01
    (keras_l * (w**2).sum()).backward()
    keras_grad = w.grad.clone()
    w.grad = None
    layer = nn.Linear(3, 3, bias=False)
    layer.weight = nn.Parameter(w.detach().clone())
    l2_penalty(layer, convert_l2(keras_l, source="keras")).backward()
    torch.testing.assert_close(layer.weight.grad, keras_grad)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: l2_penalty(nn.Linear(2, 2), -1.0), "l2 must be"),
        (lambda: l2_penalty(nn.Linear(2, 2), float("nan")), "l2 must be"),
        (lambda: decay_groups(nn.Linear(2, 2), -0.1), "weight_decay must be"),
        (lambda: convert_l2(1e-3, source="jax"), "convention must be"),
        (lambda: convert_l2(-1e-3, source="keras"), "l2 must be"),
        (lambda: add_dropout(mlp(4, 2, width=3), 1.0), r"dropout must be in \[0, 1\), got 1.0"),
        (lambda: add_dropout(mlp(4, 2, width=3), -0.1), "dropout must be"),
    ],
)
def test_validation_errors_name_the_parameter_and_value(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_add_dropout_and_batchnorm_reject_non_sequential():
    with pytest.raises(TypeError, match=r"nn\.Sequential"):
        add_dropout(nn.Linear(2, 2), 0.3)
    with pytest.raises(TypeError, match=r"nn\.Sequential"):
        add_batchnorm(nn.Linear(2, 2))


def _layout(model: nn.Module) -> list[str]:
    return [type(m).__name__ for m in model.children()]


def _dropouts(model: nn.Module) -> list[float]:
    return [m.p for m in model.modules() if isinstance(m, nn.Dropout)]


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: mlp(64, 10, width=8, depth=2, **kw),
        lambda **kw: mlp(64, 10, width=8, depth=0, **kw),
        lambda **kw: cnn((1, 8, 8), 10, channels=4, depth=2, **kw),
        lambda **kw: cnn((1, 8, 8), 10, channels=4, depth=3, **kw),  # last block unpooled
        lambda **kw: cnn((3, 16, 16), 4, channels=4, depth=1, **kw),
    ],
)
@pytest.mark.filterwarnings("ignore:add_.* found no place")  # mlp of depth 0
def test_add_dropout_and_batchnorm_give_the_built_in_layouts(make):
    plain = make()
    before = copy.deepcopy(plain.state_dict())
    layout = _layout(plain)
    with_dropout = add_dropout(plain, 0.4)
    assert _layout(with_dropout) == _layout(make(dropout=0.4))
    assert set(_dropouts(with_dropout)) <= {0.4}
    with_bn = add_batchnorm(plain)
    assert _layout(with_bn) == _layout(make(batchnorm=True))
    both = add_batchnorm(add_dropout(plain, 0.4))
    assert _layout(both) == _layout(make(dropout=0.4, batchnorm=True))
    # the input is untouched and the copies carry its weights, not shared tensors
    assert _layout(plain) == layout
    for key, value in plain.state_dict().items():
        torch.testing.assert_close(value, before[key])
    # (keys shift with the inserted layers; the parameters keep their order)
    for new, old in zip(with_dropout.parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(new, old)
        assert new.data_ptr() != old.data_ptr()
    assert type(with_dropout) is type(plain)


def test_add_dropout_keeps_outputs_in_eval_mode():
    model = mlp(6, 3, width=5)
    x = torch.randn(4, 6)
    new = add_dropout(model, 0.5).eval()
    torch.testing.assert_close(new(x), model.eval()(x))
    bn = add_batchnorm(model).eval()  # fresh BN in eval mode: identity up to eps
    torch.testing.assert_close(bn(x), model(x), rtol=1e-4, atol=1e-4)


def test_add_dropout_does_not_double_existing_dropout():
    model = mlp(6, 3, width=5, depth=2, dropout=0.2)
    assert _dropouts(add_dropout(model, 0.5)) == [0.2, 0.2]
    assert _layout(add_batchnorm(mlp(6, 3, width=5, batchnorm=True))) == _layout(
        mlp(6, 3, width=5, batchnorm=True)
    )


def test_add_dropout_after_custom_layer_types_only():
    model = cnn((1, 8, 8), 10, channels=4, depth=2)
    # after Linear only: no Linear is followed by a weight layer here, so nothing changes
    with pytest.warns(UserWarning, match="add_dropout found no place.*unchanged"):
        assert _layout(add_dropout(model, 0.3, after=(nn.Linear,))) == _layout(model)
    net = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
    assert _layout(add_dropout(net, 0.3, after=(nn.Tanh,))) == [
        "Linear",
        "Tanh",
        "Dropout",
        "Linear",
    ]
    with pytest.warns(UserWarning, match="add_dropout found no place"):
        assert _layout(add_dropout(net, 0.3)) == _layout(net)  # no ReLU, no dropout


def test_add_dropout_recurses_into_nested_sequential():
    inner = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4))
    model = nn.Sequential(inner, nn.ReLU(), nn.Linear(4, 2))
    new = add_dropout(model, 0.3)
    assert _layout(new[0]) == ["Linear", "ReLU", "Dropout", "Linear"]
    assert _layout(new) == ["Sequential", "ReLU", "Dropout", "Linear"]
    assert _layout(model[0]) == ["Linear", "ReLU", "Linear"]


def test_add_dropout_and_batchnorm_see_through_nested_blocks():
    # the reviewer's case: each block ends in a ReLU whose next Linear is in the next block
    def block(i, o):
        return nn.Sequential(nn.Linear(i, o), nn.ReLU())

    model = nn.Sequential(block(64, 32), block(32, 32), nn.Linear(32, 10))
    new = add_dropout(model, 0.5)
    assert [_layout(b) for b in new[:2]] == [["Linear", "ReLU", "Dropout"]] * 2
    assert _layout(add_batchnorm(model)[1]) == ["Linear", "BatchNorm1d", "ReLU"]
    assert _layout(model[0]) == ["Linear", "ReLU"]  # the input is unchanged
    x = torch.randn(3, 64)
    torch.testing.assert_close(new.eval()(x), model.eval()(x))  # same weights


def test_add_dropout_refuses_layers_inside_other_containers():
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 4), nn.ReLU())

        def forward(self, x):
            return x + self.body(x)

    model = nn.Sequential(nn.Linear(4, 4), Residual(), nn.Linear(4, 2))
    with pytest.raises(TypeError, match=r"cannot change the inside of Residual \('1'\)"):
        add_dropout(model, 0.3)
    with pytest.raises(TypeError, match="add_batchnorm cannot change the inside of Residual"):
        add_batchnorm(model)


def _with_fresh_norms(model):
    """The reference: ``model``'s own layers, biases kept, with a fresh norm after each
    hidden Linear/Conv2d, built by hand (what add_batchnorm did before it dropped biases)."""
    layers = list(copy.deepcopy(model).children())
    out = []
    for i, layer in enumerate(layers):
        out.append(layer)
        later = any(isinstance(m, (nn.Linear, nn.Conv2d)) for m in layers[i + 1 :])
        if isinstance(layer, nn.Linear) and later:
            out.append(nn.BatchNorm1d(layer.out_features))
        elif isinstance(layer, nn.Conv2d) and later:
            out.append(nn.BatchNorm2d(layer.out_channels))
    return nn.Sequential(*out)


@pytest.mark.parametrize(
    ("model", "shape"),
    [
        (
            nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3)),
            (8, 6),
        ),
        (
            nn.Sequential(
                nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(48, 3)
            ),
            (8, 2, 4, 4),
        ),
    ],
)
def test_add_batchnorm_drops_the_bias_before_the_norm_and_keeps_the_outputs(model, shape):
    torch.manual_seed(0)
    for layer in model:
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            nn.init.normal_(layer.bias, std=0.5)  # a trained bias, far from zero
    reference, new = _with_fresh_norms(model), add_batchnorm(model)
    weighted = [m for m in new.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    assert [m.bias is None for m in weighted] == [True] * (len(weighted) - 1) + [False]
    assert all(m.bias is not None for m in model if isinstance(m, (nn.Linear, nn.Conv2d)))
    x = torch.randn(*shape)
    for _ in range(3):  # training mode: batch statistics, running means updated
        torch.testing.assert_close(new.train()(x), reference.train()(x))
        x = x + 0.3
    torch.testing.assert_close(new.eval()(x), reference.eval()(x))


def test_add_batchnorm_norms_follow_the_layers_dtype():
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)).double()
    new = add_batchnorm(model)
    assert new[1].running_mean.dtype == torch.float64
    assert new(torch.randn(3, 4, dtype=torch.float64)).dtype == torch.float64


@pytest.mark.parametrize(
    ("model", "shape"),
    [
        (nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3)), (8, 6)),
        (  # no running statistics: batch statistics in evaluation too
            nn.Sequential(
                nn.Linear(6, 5), nn.BatchNorm1d(5, track_running_stats=False), nn.Linear(5, 3)
            ),
            (8, 6),
        ),
        (
            nn.Sequential(
                nn.Conv2d(2, 3, 3, padding=1),
                nn.BatchNorm2d(3),
                nn.ReLU(),
                nn.Flatten(),
                nn.Linear(48, 3),
            ),
            (8, 2, 4, 4),
        ),
    ],
)
def test_add_batchnorm_folds_the_bias_into_a_norm_the_model_already_has(model, shape):
    # the project's rule: a Linear/Conv2d feeding batch norm has no bias, whoever put the
    # norm there; the reference is the model itself, bias kept, after a training step
    torch.manual_seed(0)
    for layer in model:
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            nn.init.normal_(layer.bias, std=0.5)
    x = torch.randn(*shape)
    model.train()(x + 1.0)  # a running mean that is not a fresh norm's zero
    reference = copy.deepcopy(model)
    before = copy.deepcopy(model.state_dict())
    new = add_batchnorm(model)
    assert _layout(new) == _layout(model)
    assert new[0].bias is None and new[-1].bias is not None
    for key, value in model.state_dict().items():  # the input is untouched
        torch.testing.assert_close(value, before[key])
    torch.testing.assert_close(new.eval()(x), reference.eval()(x))
    for _ in range(3):  # training mode: batch statistics, running means updated
        torch.testing.assert_close(new.train()(x), reference.train()(x))
        x = x + 0.3
    torch.testing.assert_close(new.eval()(x), reference.eval()(x))


@pytest.mark.parametrize(
    ("conv", "norm", "shape"),
    [(nn.Conv1d, nn.BatchNorm1d, (3, 2, 12)), (nn.Conv3d, nn.BatchNorm3d, (3, 2, 4, 4, 4))],
)
def test_add_batchnorm_norms_conv1d_and_conv3d_networks(conv, norm, shape):
    """A Conv1d/Conv3d network (audio, volumes) gets its norm as a Conv2d one does, where
    it got none and a false "no hidden layer followed by a later weight layer" warning
    (review i116). Reference: the layer with its bias followed by a fresh torch norm of
    the same kind, in training mode (batch statistics) and in eval mode after one step."""
    torch.manual_seed(0)
    net = nn.Sequential(conv(2, 5, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(3))
    x = torch.randn(*shape)
    net(x)  # materialize the lazy layer
    new = add_batchnorm(net)
    assert _layout(new)[:3] == [conv.__name__, norm.__name__, "ReLU"]
    assert new[0].bias is None
    reference = nn.Sequential(net[0], norm(5), *list(net)[1:])
    torch.testing.assert_close(new.train()(x), reference.train()(x), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(new.eval()(x), reference.eval()(x), rtol=1e-5, atol=1e-5)
