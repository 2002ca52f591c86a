"""Contrastive pretraining on unlabeled images: a source when no labelled one exists.

SimCLR (Chen et al., "A Simple Framework for Contrastive Learning of Visual
Representations", ICML 2020): each unlabeled image of a batch is augmented twice; the
network maps all ``2B`` views to unit vectors ``z``, and the NT-Xent loss asks each view
to pick out its partner among the other ``2B - 1`` views,

    loss = mean_i -log( exp(z_i . z_p(i) / t) / sum_{j != i} exp(z_i . z_j / t) ),

so the features become invariant to the augmentation (small rotations, shifts and
scalings for digits) and tell different images apart. The network is a nooverfit
model whose output layer is the projection (``dim`` outputs); transfer replaces it by
a new output layer and keeps the layers below.

The images come from the *unlabeled pool* of a split (:func:`unlabeled_pool`): its
training pool, never its validation or test images, so pretraining cannot leak the
images that select and score the transferred network.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.data.augment import affine_images
from nooverfit.data.dataset import Dataset
from nooverfit.data.split import Split
from nooverfit.models import build_model
from nooverfit.seeding import AUGMENT_SEED_OFFSET
from nooverfit.train import batch_order
from nooverfit.transfer.pretrain import Source
from nooverfit.transfer.seen import Seen

log = logging.getLogger(__name__)

PRETEXTS = ("rotation", "contrastive")


def unlabeled_pool(split: Split, *, exclude: Sequence[int] = ()) -> np.ndarray:
    """Indices a self-supervised pretext may use: the split's training pool (sorted),
    without ``exclude``; validation and test indices are never in it.

    Args:
        split: the target split.
        exclude: more indices to leave out, e.g. the labelled training images (default
            none: they are training images, and the pretext ignores labels).

    Raises:
        ValueError: if the pool overlaps the validation or test indices (a broken split).
    """
    held_out = np.union1d(split.val, split.test)
    if np.intersect1d(split.pool, held_out).size:
        raise ValueError("the split's pool overlaps its validation or test indices")
    return np.setdiff1d(split.pool, np.asarray(exclude, dtype=np.int64))


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """NT-Xent loss of two views ``(B, D)`` of the same ``B`` samples (module docstring).

    The rows are L2-normalized here; row ``i`` of ``z1`` and row ``i`` of ``z2`` are
    partners, every other row of either view is a negative.

    Raises:
        ValueError: if the shapes differ, ``B < 2`` or ``temperature <= 0``.
    """
    if z1.shape != z2.shape or z1.ndim != 2 or len(z1) < 2:
        raise ValueError(f"nt_xent needs two (B >= 2, D) views, got {z1.shape}, {z2.shape}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    b = len(z1)
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(2 * b, dtype=torch.bool, device=z.device), -math.inf)
    partner = torch.cat([torch.arange(b, 2 * b), torch.arange(b)]).to(z.device)
    return F.cross_entropy(sim, partner)


def train_contrastive(
    model: nn.Module,
    x: torch.Tensor,
    config: RunConfig,
    *,
    temperature: float = 0.5,
    strength: float = 1.0,
) -> tuple[float, ...]:
    """Train ``model`` in place on images ``x`` with NT-Xent for ``config.epochs`` epochs.

    Adam at ``config.lr`` (``weight_decay`` decoupled, as AdamW), mini-batches of
    ``config.batch_size`` images (``2 * batch_size`` views) in the order of
    :func:`nooverfit.train.batch_order`; a last batch of one image is skipped. Views come
    from :func:`nooverfit.data.augment.affine_images` at ``strength``, drawn from a
    generator seeded by ``config.seed``.

    Args:
        model: maps ``(B, C, H, W)`` images to ``(B, D)`` projections.
        x: the unlabeled images, on the training device.
        config: lr, weight_decay, batch_size, epochs and seed (the rest is ignored).
        temperature: NT-Xent temperature (default 0.5).
        strength: augmentation strength of each view, in (0, 1] (default 1: up to 15
            degrees, 10 % shifts, +-10 % scale).

    Returns:
        The mean loss of each epoch.

    Raises:
        ValueError: for fewer than two images or a strength outside (0, 1].
    """
    if len(x) < 2:
        raise ValueError(f"contrastive pretraining needs >= 2 images, got {len(x)}")
    if not 0 < strength <= 1:
        raise ValueError(f"strength must be in (0, 1], got {strength}")
    device = x.device
    model.to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    gen = torch.Generator(device=device).manual_seed(config.seed + AUGMENT_SEED_OFFSET)
    s = torch.full((config.batch_size,), strength, device=device)
    losses = []
    for epoch in range(config.epochs):
        model.train()
        order = batch_order(config.seed, epoch, len(x), device=device)
        total, batches = 0.0, 0
        for i in range(0, len(order), config.batch_size):
            xb = x[order[i : i + config.batch_size]]
            if len(xb) < 2:
                continue
            v1, v2 = (affine_images(xb, s[: len(xb)], gen) for _ in range(2))
            z1, z2 = model(torch.cat([v1, v2])).chunk(2)
            loss = nt_xent(z1, z2, temperature)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total, batches = total + loss.item(), batches + 1
        losses.append(total / batches)
    return tuple(losses)


def contrastive_pretrain(
    dataset: Dataset,
    config: RunConfig,
    *,
    index: np.ndarray | None = None,
    dim: int = 64,
    temperature: float = 0.5,
    device: str | torch.device | None = None,
) -> Source:
    """Pretrain ``config``'s network contrastively on the images ``dataset.x[index]``.

    Labels are ignored. The source's output layer is the ``dim``-wide projection;
    ``early_stopping`` does not apply (there is no validation task), so training runs
    ``config.epochs`` epochs and keeps the last weights.

    Args:
        dataset: an image data set.
        config: model, width, depth, batch norm, lr, batch_size, epochs, seed, and
            ``augment``: the strength of the views, in (0, 1] (1 is a good default).
        index: the unlabeled pool (:func:`unlabeled_pool`); default all images.
        dim: projection size (default 64).
        temperature: NT-Xent temperature (default 0.5).
        device: torch device (default: CUDA if available).

    Raises:
        ValueError: if ``dataset`` does not hold images or ``config.augment`` is 0.
    """
    if dataset.kind != "image":
        raise ValueError(f"contrastive pretraining needs images, got {dataset.kind} data")
    if config.augment <= 0:
        raise ValueError("contrastive pretraining needs augment > 0 (the views' strength)")
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    images = dataset.x if index is None else dataset.x[index]
    x = torch.as_tensor(np.ascontiguousarray(images), dtype=torch.float32, device=device)
    config = config.replace(train_size=None, train_per_class=None, early_stopping=None)
    model = build_model(config, x.shape[1:], dim)
    losses = train_contrastive(model, x, config, temperature=temperature, strength=config.augment)
    log.info(
        "contrastive pretraining on %d images of %s: loss %.3f -> %.3f",
        len(x),
        dataset.name,
        losses[0],
        losses[-1],
    )
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    seen = Seen.of(images, labelled=False)  # its pool, unlabeled: still transductive
    return Source(config, tuple(x.shape[1:]), dim, state, f"contrastive:{dataset.name}", seen)
