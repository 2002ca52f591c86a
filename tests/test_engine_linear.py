"""`stacked_linear` against autograd through ``torch.baddbmm``: same outputs and
gradients, written into the preallocated buffers rather than added to them."""

import pytest
import torch

from nooverfit.engine.layers import NARROW, linear, stacked_linear


def _leaf(shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
    """A leaf that, like `StackedNet`'s parameters, is a view of a flat buffer whose
    ``grad`` is a view of another, here filled with garbage to show it is overwritten."""
    flat = torch.randn(shape[0], 3 + torch.Size(shape[1:]).numel(), generator=gen)
    p = flat[:, 3:].view(shape).requires_grad_(True)
    p.grad = torch.full_like(flat, 123.0)[:, 3:].view(shape)
    return p


@pytest.mark.parametrize("n_out", [6, 20])  # computed transposed below NARROW outputs
@pytest.mark.parametrize("shared", [True, False])
def test_stacked_linear_matches_autograd_and_overwrites_gradients(shared, n_out):
    gen = torch.Generator().manual_seed(0)
    k, b, n_in = 3, 5, 4
    w, bias = _leaf((k, n_in, n_out), gen), _leaf((k, n_out), gen)
    shape = (b, n_in) if shared else (k, b, n_in)
    h = torch.randn(*shape, generator=gen, requires_grad=not shared)
    target = torch.randn(k, b, n_out, generator=gen)

    ref_w, ref_b = w.detach().clone().requires_grad_(), bias.detach().clone().requires_grad_()
    ref_h = h.detach().clone().requires_grad_(not shared)
    hk = ref_h.expand(k, b, n_in) if shared else ref_h
    expected = torch.baddbmm(ref_b.unsqueeze(1), hk, ref_w)
    (expected * target).sum().backward()

    for _ in range(2):  # a second pass must not accumulate
        out = stacked_linear(h, w, bias)
        torch.testing.assert_close(out, expected)
        (out * target).sum().backward()
        torch.testing.assert_close(w.grad, ref_w.grad)
        torch.testing.assert_close(bias.grad, ref_b.grad)
    if not shared:
        assert h.grad is not None and ref_h.grad is not None
        torch.testing.assert_close(h.grad, 2 * ref_h.grad)  # inputs accumulate as usual


def test_stacked_linear_needs_preallocated_gradients():
    w = torch.zeros(2, 3, 4, requires_grad=True)
    bias = torch.zeros(2, 4, requires_grad=True)
    with pytest.raises(ValueError, match="preallocated"):
        stacked_linear(torch.zeros(5, 3), w, bias)


@pytest.mark.parametrize("n_out", [NARROW - 1, NARROW])
def test_linear_outputs_take_in_place_relu_with_correct_gradients(n_out):
    """A narrow layer's output has transposed strides; ReLU in place on it (as
    `StackedNet` does) must still give autograd's gradients, and `linear` (evaluation)
    the same outputs."""
    gen = torch.Generator().manual_seed(1)
    k, b, n_in = 2, 7, 5
    w, bias = _leaf((k, n_in, n_out), gen), _leaf((k, n_out), gen)
    h = torch.randn(k, b, n_in, generator=gen)
    target = torch.randn(k, b, n_out, generator=gen)
    ref_w = w.detach().clone().requires_grad_()
    expected = torch.relu(torch.baddbmm(bias.detach().unsqueeze(1), h, ref_w))
    (expected * target).sum().backward()

    out = torch.relu_(stacked_linear(h, w, bias))
    torch.testing.assert_close(out, expected)
    (out * target).sum().backward()
    torch.testing.assert_close(w.grad, ref_w.grad)
    torch.testing.assert_close(torch.relu(linear(h, w, bias)), expected.detach())
