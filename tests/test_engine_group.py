import pytest
import torch
import torch.nn.functional as F

from nooverfit.engine.group import cross_entropy


@pytest.mark.parametrize("transposed", [False, True])
def test_cross_entropy_per_sample_in_either_layout(transposed):
    """Logits stored as (K, B, C) or, as a narrow output layer leaves them, as (K, C, B):
    losses and gradients equal torch's cross-entropy on each config's rows."""
    gen = torch.Generator().manual_seed(0)
    k, b, c = 3, 5, 10
    shape = (k, c, b) if transposed else (k, b, c)
    base = torch.randn(*shape, generator=gen).requires_grad_(True)
    logits = base.mT if transposed else base  # (K, B, C) either way
    y = torch.randint(0, c, (k, b), generator=gen)
    weights = torch.rand(k, b, generator=gen)
    ce = cross_entropy(logits, y)
    (ce * weights).sum().backward()

    ref = logits.detach().contiguous().requires_grad_(True)
    expected = F.cross_entropy(ref.flatten(0, 1), y.flatten(), reduction="none").view(k, b)
    (expected * weights).sum().backward()
    torch.testing.assert_close(ce, expected)
    assert base.grad is not None and ref.grad is not None
    grad = base.grad.mT if transposed else base.grad
    torch.testing.assert_close(grad, ref.grad)
