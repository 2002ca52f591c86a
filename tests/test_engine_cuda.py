"""The fused engine on a CUDA device against the sequential engine there and the fused
engine on the CPU. Skipped where no GPU is present (CI); run on a GPU machine."""

import numpy as np
import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.data import load_split
from nooverfit.engine import run_configs

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.fixture(scope="module")
def cuda_data():
    # TF32 would round matrix products to 10-bit mantissas; compare full float32 math
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return load_split("digits", seed=0, device="cuda")


def test_fused_on_cuda_matches_sequential_on_cuda(cuda_data):
    base = RunConfig(width=32, epochs=10, train_per_class=5, batch_size=16)
    configs = [
        base.replace(l2=1e-2),
        base.replace(width=16, weight_decay=0.1, lr=3e-3, optimizer="adamw", seed=1),
        base.replace(train_per_class=3, seed=2),
        base.replace(early_stopping="patience:2", lr=3e-2, seed=3),
        base.replace(model="cnn", width=4, seed=4),
    ]
    fused = run_configs(configs, cuda_data, engine="fused")
    seq = run_configs(configs, cuda_data, engine="sequential")
    for f, s in zip(fused, seq, strict=True):
        assert f.history.stop_reason == s.history.stop_reason
        assert len(f.history) == len(s.history)
        for name in ("loss", "val_loss"):
            np.testing.assert_allclose(
                f.history.column(name), s.history.column(name), rtol=1e-3, err_msg=name
            )


def test_fused_on_cuda_with_dropout_batchnorm_augment_and_divergence(cuda_data):
    base = RunConfig(width=32, epochs=8, train_per_class=10, batch_size=16, lr=1e-2)
    configs = [
        base.replace(dropout=0.3),
        base.replace(batchnorm=True, seed=1),
        base.replace(augment=0.5, seed=2),
        base.replace(lr=1e12, seed=3),  # logits overflow: diverges
        base,
    ]
    fused = run_configs(configs, cuda_data, engine="fused")
    assert fused[3].history.stop_reason == "diverged"
    for result in fused[:3] + fused[4:]:
        assert result.history.stop_reason == "completed"
        assert result.history.val_accuracy[-1] > 0.5  # learned (10 classes)
    cpu = run_configs([base], load_split("digits", seed=0, device="cpu"), engine="fused")[0]
    np.testing.assert_allclose(fused[4].history.val_loss, cpu.history.val_loss, rtol=1e-3)
