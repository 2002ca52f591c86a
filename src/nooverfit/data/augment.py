"""Batched, seeded data augmentation on tensors, with one ``strength`` knob in [0, 1].

- Images: a random affine map per sample (rotation up to ``15 * strength`` degrees, shift
  up to ``0.1 * strength`` of the size, scale within ``1 +- 0.1 * strength``); never a
  flip, which would turn digits into other symbols.
- Tabular: Gaussian noise of ``0.1 * strength`` standard deviations per feature (the
  features are standardized by :func:`nooverfit.data.prepare`).

Augmentation runs on whole batches on the training device, with a ``torch.Generator``,
so it costs a few kernel calls per step and the fused engine can apply it to K configs
at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

Augmenter = Callable[[torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]


def affine_images(x: torch.Tensor, strength: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Randomly rotate, shift and scale images ``(B, C, H, W)``.

    Args:
        x: images, ``(B, C, H, W)``.
        strength: per-sample strength in [0, 1], shape ``(B,)`` (0 leaves a sample as is).
        gen: random generator on ``x.device``.
    """
    b = x.shape[0]
    u = torch.rand((4, b), generator=gen, device=x.device) * 2 - 1  # (4, B) in [-1, 1)
    angle = u[0] * math.radians(15) * strength
    scale = 1 + 0.1 * strength * u[1]
    tx, ty = 0.2 * strength * u[2], 0.2 * strength * u[3]  # grid units: 2 == full size
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1
    )  # (B, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return torch.where((strength > 0).view(-1, 1, 1, 1), out, x)


def gaussian_noise(x: torch.Tensor, strength: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Add ``N(0, (0.1 * strength)^2)`` noise to standardized features ``(B, F)``."""
    noise = torch.randn(x.shape, generator=gen, device=x.device)
    return x + noise * (0.1 * strength).view(-1, *([1] * (x.ndim - 1)))


def augmenter(kind: str) -> Augmenter:
    """The default batched augmentation for a data set kind (``image``/``tabular``/``audio``)."""
    if kind == "image":
        return affine_images
    return gaussian_noise
