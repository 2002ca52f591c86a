"""Batched, seeded data augmentation on tensors, with one ``strength`` knob in [0, 1].

- Images: a random affine map per sample (rotation up to ``15 * strength`` degrees, shift
  up to ``0.1 * strength`` of the size, scale within ``1 +- 0.1 * strength``); never a
  flip, which would turn digits into other symbols. Data sets of natural images get a
  torchvision ``transforms.v2`` pipeline with crops and flips (:func:`image_pipeline`);
  image folders get crops without flips unless given as ``folder+flip:PATH``.
- Tabular: Gaussian noise of ``0.1 * strength`` standard deviations per feature (the
  features are standardized by :func:`nooverfit.data.prepare`), and mixup
  (Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018).
- Audio: time shift, gain and background noise at a random SNR
  (:mod:`nooverfit.data.augment_audio`).

Augmentation runs on whole batches on the training device, with a ``torch.Generator``,
so it costs a few kernel calls per step and the fused engine can apply it to K configs
at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from nooverfit.seeding import seeded

if TYPE_CHECKING:
    from torchvision.transforms.v2 import Compose

    from nooverfit.data.audio_io import NoiseBank

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


def cutout(x: torch.Tensor, fraction: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Erase one random square of each image ``(B, C, H, W)`` to zero (cutout).

    The square's side is ``size = round(fraction * min(H, W))`` pixels; its centre
    ``(cy, cx)`` is uniform over the pixels and it covers rows
    ``cy - size // 2 <= i < cy - size // 2 + size`` (columns likewise), clipped at the
    border, so a square near an edge erases less (DeVries & Taylor, "Improved
    Regularization of Convolutional Neural Networks with Cutout", 2017). Zero is the
    background of digits scaled to [0, 1].

    Args:
        x: images, ``(B, C, H, W)``.
        fraction: per-sample side of the square as a fraction of the shorter image side,
            in [0, 1], ``(B,)`` (0 erases nothing).
        gen: random generator on ``x.device``.
    """
    b, _, h, w = x.shape
    u = torch.rand((2, b), generator=gen, device=x.device)  # (2, B) in [0, 1)
    side = torch.round(fraction.to(x.device, torch.float32) * min(h, w)).long()  # (B,)
    top = (u[0] * h).long() - side // 2  # (B,)
    left = (u[1] * w).long() - side // 2
    rows = torch.arange(h, device=x.device).view(1, h)  # (1, H)
    cols = torch.arange(w, device=x.device).view(1, w)
    in_rows = (rows >= top.view(b, 1)) & (rows < (top + side).view(b, 1))  # (B, H)
    in_cols = (cols >= left.view(b, 1)) & (cols < (left + side).view(b, 1))  # (B, W)
    hole = in_rows.unsqueeze(2) & in_cols.unsqueeze(1)  # (B, H, W)
    return x.masked_fill(hole.unsqueeze(1), 0.0)


def gaussian_noise(
    x: torch.Tensor,
    strength: torch.Tensor,
    gen: torch.Generator,
    *,
    scale: torch.Tensor | None = None,
) -> torch.Tensor:
    """Add ``N(0, (0.1 * strength * scale)^2)`` noise to features ``(B, F)``.

    Args:
        x: features, ``(B, ...)``; standardized by :func:`nooverfit.data.prepare`.
        strength: per-sample strength in [0, 1], ``(B,)``.
        gen: random generator on ``x.device``.
        scale: per-feature standard deviation, shape ``x.shape[1:]`` (default 1, right for
            standardized features; pass the feature std for raw features).
    """
    noise = torch.randn(x.shape, generator=gen, device=x.device)
    if scale is not None:
        noise = noise * scale
    return x + noise * (0.1 * strength).view(-1, *([1] * (x.ndim - 1)))


def mixup(
    x: torch.Tensor, y_onehot: torch.Tensor, alpha: float, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mix each sample with a random partner of the same batch.

    ``x' = lam * x + (1 - lam) * x[perm]``, ``y' = lam * y + (1 - lam) * y[perm]`` with one
    ``lam ~ Beta(alpha, alpha)`` per sample. A training loop uses the soft targets with
    cross-entropy on probabilities::

        xb, target = mixup(xb, F.one_hot(yb, classes).float(), alpha=0.2, gen=gen)
        loss = F.cross_entropy(model(xb), target)  # soft-label cross-entropy

    and measures train/val metrics on clean data as before.

    Args:
        x: inputs ``(B, ...)``.
        y_onehot: targets as probabilities ``(B, C)``.
        alpha: Beta concentration, > 0 (0.2-0.4 is typical; 0 returns the batch as is).
        gen: random generator (its device decides where the permutation is drawn).

    Returns:
        The mixed inputs and mixed targets, shapes as given.
    """
    if alpha < 0:
        raise ValueError(f"mixup alpha must be >= 0, got {alpha}")
    if alpha == 0 or len(x) < 2:
        return x, y_onehot
    b = x.shape[0]
    perm = torch.randperm(b, generator=gen, device=gen.device).to(x.device)
    seed = int(torch.randint(0, 2**62, (1,), generator=gen, device=gen.device).item())
    lam_np = np.random.default_rng(seed).beta(alpha, alpha, size=b)
    lam = torch.as_tensor(lam_np, dtype=x.dtype, device=x.device)  # (B,)
    lx = lam.view(-1, *([1] * (x.ndim - 1)))
    ly = lam.view(-1, 1).to(y_onehot.dtype)
    return lx * x + (1 - lx) * x[perm], ly * y_onehot + (1 - ly) * y_onehot[perm]


@dataclass(frozen=True)
class ImagePolicy:
    """What an image augmentation may do, at strength 1.

    Attributes:
        rotate: maximum rotation, degrees.
        shift: maximum translation, fraction of the size.
        scale: maximum relative zoom (``1 +- scale``).
        crop: random-resized-crop minimum area lost (area in ``[1 - crop, 1]``); 0 = none.
        flip: horizontal flips allowed (never for digits or text).
        color: brightness/contrast/saturation jitter (0 = none).
    """

    rotate: float = 15.0
    shift: float = 0.1
    scale: float = 0.1
    crop: float = 0.0
    flip: bool = False
    color: float = 0.0

    @property
    def pipelined(self) -> bool:
        """Whether images get the torchvision pipeline (crops, flips or colour jitter)
        rather than the fast batched affine map (:func:`augmenter`'s choice)."""
        return bool(self.flip or self.crop or self.color)


#: Per-data-set defaults: digits move a little and never flip; clothes and natural images
#: are left-right symmetric, so they flip; natural photos also crop and jitter colour. An
#: image folder may hold digits, letters or signs (a flipped 2, b or arrow is another
#: class), so ``folder:PATH`` never flips; ``folder+flip:PATH`` is the opt-in for classes
#: that stay themselves in a mirror.
POLICIES: dict[str, ImagePolicy] = {
    "digits": ImagePolicy(),
    "mnist": ImagePolicy(),
    "fashion-mnist": ImagePolicy(rotate=5.0, shift=0.1, scale=0.05, flip=True),
    "cifar10": ImagePolicy(rotate=0.0, shift=0.125, scale=0.0, flip=True, color=0.2),
    "folder": ImagePolicy(rotate=10.0, shift=0.0, scale=0.0, crop=0.5, color=0.2),
    "folder+flip": ImagePolicy(rotate=10.0, shift=0.0, scale=0.0, crop=0.5, flip=True, color=0.2),
}


def image_policy(name: str) -> ImagePolicy:
    """The default policy for a data set spec (``"digits"``, ``"folder:PATH"``, ...);
    unknown names get the conservative digit policy (no flips). Only data sets whose
    classes are left-right symmetric flip: Fashion-MNIST, CIFAR-10 and
    ``folder+flip:PATH``."""
    return POLICIES.get(name.partition(":")[0], POLICIES["digits"])


def image_pipeline(policy: ImagePolicy, strength: float, *, size: tuple[int, int]) -> Compose:
    """A torchvision ``transforms.v2.Compose`` for one image ``(C, H, W)`` in [0, 1].

    Every magnitude is the policy's times ``strength`` (flips happen with probability
    ``0.5 * strength``); strength 0 gives the identity.

    Args:
        policy: what is allowed (see :data:`POLICIES`).
        strength: in [0, 1].
        size: ``(H, W)`` of the images (crops are resized back to it).
    """
    from torchvision.transforms import v2

    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"augmentation strength must be in [0, 1], got {strength}")
    steps: list[object] = []
    s = strength
    if s > 0 and policy.crop > 0:
        steps.append(v2.RandomResizedCrop(size, scale=(1 - policy.crop * s, 1.0), antialias=True))
    if s > 0 and (policy.rotate or policy.shift or policy.scale):
        steps.append(
            v2.RandomAffine(
                degrees=policy.rotate * s,
                translate=(policy.shift * s, policy.shift * s),
                scale=(1 - policy.scale * s, 1 + policy.scale * s),
            )
        )
    if s > 0 and policy.flip:
        steps.append(v2.RandomHorizontalFlip(p=0.5 * s))
    if s > 0 and policy.color > 0:
        c = policy.color * s
        steps.append(v2.ColorJitter(brightness=c, contrast=c))
    return v2.Compose(steps or [v2.Identity()])


def pipeline_augmenter(policy: ImagePolicy) -> Augmenter:
    """An :data:`Augmenter` that applies :func:`image_pipeline` to each sample of a batch.

    torchvision draws from the global generator; this seeds it from ``gen`` inside a
    forked RNG state, so results are reproducible and the caller's state is untouched.
    It loops over samples (slower than :func:`affine_images`), which is what crops and
    flips of natural images need.
    """

    def apply(x: torch.Tensor, strength: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        seed = int(torch.randint(0, 2**62, (1,), generator=gen, device=gen.device).item())
        size = (int(x.shape[-2]), int(x.shape[-1]))
        out = x.clone()
        with seeded(seed):
            for s in torch.unique(strength).tolist():
                if s <= 0:
                    continue
                pipe = image_pipeline(policy, float(s), size=size)
                for i in torch.nonzero(strength == s).flatten().tolist():
                    out[i] = pipe(x[i].cpu()).to(x.device)
        return out

    return apply


def augmenter(kind: str, *, name: str | None = None, noise: NoiseBank | None = None) -> Augmenter:
    """The default batched augmentation for a data set kind (``image``/``tabular``/``audio``).

    Args:
        kind: the data set kind.
        name: the data set spec (optional); images whose policy crops or flips (CIFAR-10,
            Fashion-MNIST, image folders) then get :func:`pipeline_augmenter`, others the
            fast batched :func:`affine_images`.
        noise: the data set's background-noise bank (``Dataset.noise``); audio with one
            gets the synthesis remedy, :func:`~nooverfit.data.augment_audio.synthesis_augment`.
    """
    if kind == "image":
        if name is not None:
            policy = image_policy(name)
            if policy.pipelined:
                return pipeline_augmenter(policy)
        return affine_images
    if kind == "audio":
        from nooverfit.data.augment_audio import audio_augment, synthesis_augment

        return audio_augment if noise is None else synthesis_augment(noise)
    return gaussian_noise
