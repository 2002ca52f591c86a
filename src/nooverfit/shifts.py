"""Test-time augmentation by one-pixel shifts, as two parameter-free layers of the network.

In evaluation mode :class:`ShiftCopies` turns a batch of images ``(B, C, H, W)`` into the
images and their four one-pixel shifts (up, down, left, right; zeros fill the edge),
``(5B, C, H, W)``, copies first; the network scores all of them and :class:`CopyMean`, its
last layer, averages the five predicted distributions of each image:
``log(mean_copies(softmax(logits)))``, which are the logits of the averaged probabilities.
In training mode both pass their input through, so training is unchanged.

A network trained on shifted images (augmentation) answers about as well on each shifted
copy; averaging the copies cancels part of its errors, like an ensemble that costs five
forward passes and no training (Simonyan & Zisserman, ICLR 2015, averaged flipped and
cropped copies at test time). Being layers of the ``nn.Sequential``, the averaging is part
of every evaluation the study makes (validation curves, selection, test) and of the saved
model, which rebuilds them from its configuration (``RunConfig.tta``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

#: (rows, columns) each copy moves by: the image itself first
SHIFTS = ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))


def shift_copies(x: torch.Tensor) -> torch.Tensor:
    """``x`` ``(B, C, H, W)`` and its four one-pixel shifts, ``(5B, C, H, W)``, copy-major
    (rows ``k * B .. (k + 1) * B - 1`` hold copy ``k`` of :data:`SHIFTS`)."""
    h, w = x.shape[-2:]
    padded = F.pad(x, (1, 1, 1, 1))  # (B, C, H + 2, W + 2), zeros around
    return torch.cat([padded[..., 1 - dy : 1 - dy + h, 1 - dx : 1 - dx + w] for dy, dx in SHIFTS])


def copy_mean(logits: torch.Tensor) -> torch.Tensor:
    """Logits ``(5B, classes)`` of copy-major copies -> ``(B, classes)``, the logits of each
    image's average probabilities, ``log(mean_k softmax(logits_k))``."""
    copies = logits.view(len(SHIFTS), -1, logits.shape[-1])  # (5, B, classes)
    return torch.logsumexp(F.log_softmax(copies, dim=-1), dim=0) - math.log(len(SHIFTS))


class ShiftCopies(nn.Module):
    """The first layer of a network with test-time shifts (see the module docstring)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.training else shift_copies(x)


class CopyMean(nn.Module):
    """The last layer of a network with test-time shifts (see the module docstring)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.training else copy_mean(x)
