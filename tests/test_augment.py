import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nooverfit.data.augment import (
    POLICIES,
    affine_images,
    augmenter,
    cutout,
    gaussian_noise,
    image_pipeline,
    image_policy,
    mixup,
    pipeline_augmenter,
)
from nooverfit.data.augment_audio import (
    AudioAugment,
    add_noise,
    audio_augment,
    random_gain,
    time_shift,
)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_augmenter_picks_by_kind():
    assert augmenter("image") is affine_images
    assert augmenter("tabular") is gaussian_noise
    assert augmenter("audio") is audio_augment
    assert augmenter("image", name="digits") is affine_images
    assert augmenter("image", name="cifar10") is not affine_images


def test_affine_images_zero_strength_is_identity():
    x = torch.rand(4, 1, 8, 8)
    assert torch.equal(affine_images(x, torch.zeros(4), gen()), x)


def test_gaussian_noise_scale_per_feature():
    x = torch.zeros(20000, 2)
    out = gaussian_noise(x, torch.ones(20000), gen(), scale=torch.tensor([1.0, 10.0]))
    std = out.std(0)
    assert std[0].item() == pytest.approx(0.1, rel=0.05)
    assert std[1].item() == pytest.approx(1.0, rel=0.05)


def test_mixup_is_convex_combination_of_batch():
    x = torch.arange(8, dtype=torch.float32).view(8, 1) * torch.ones(8, 3)
    y = F.one_hot(torch.arange(8) % 2, 2).float()
    xm, ym = mixup(x, y, 0.4, gen(1))
    assert torch.allclose(ym.sum(1), torch.ones(8))
    # each row is lam * x_i + (1 - lam) * x_j with the same lam in x and y
    assert torch.allclose(xm[:, 0], xm[:, 2])
    xm2, ym2 = mixup(x, y, 0.4, gen(1))
    assert torch.equal(xm, xm2) and torch.equal(ym, ym2)
    assert not torch.equal(xm, x)
    assert mixup(x, y, 0.0, gen())[0] is x
    with pytest.raises(ValueError, match="alpha"):
        mixup(x, y, -1.0, gen())


def test_mixup_soft_target_loss_matches_manual():
    x, y = torch.randn(6, 4), F.one_hot(torch.tensor([0, 1, 2, 0, 1, 2]), 3).float()
    _, ym = mixup(x, y, 1.0, gen(3))
    logits = torch.randn(6, 3)
    manual = -(ym * logits.log_softmax(1)).sum(1).mean()
    assert torch.allclose(F.cross_entropy(logits, ym), manual)


def test_digit_policies_never_flip():
    assert not POLICIES["digits"].flip and not POLICIES["mnist"].flip
    assert image_policy("unknown").flip is False
    pipe = image_pipeline(POLICIES["digits"], 1.0, size=(8, 8))
    assert not any("Flip" in type(t).__name__ for t in pipe.transforms)
    identity = image_pipeline(POLICIES["cifar10"], 0.0, size=(8, 8))
    x = torch.rand(3, 8, 8)
    assert torch.equal(identity(x), x)


def test_image_folders_flip_only_when_asked():
    # a folder may hold digits or letters: flips are the folder+flip:PATH opt-in
    folder, flipped = image_policy("folder:/x"), image_policy("folder+flip:/x")
    assert not folder.flip and flipped.flip
    assert folder == dataclasses.replace(flipped, flip=False)  # crops and colour as before
    assert folder.pipelined  # still the torchvision pipeline (crops, colour jitter)
    pipe = image_pipeline(folder, 1.0, size=(8, 8))
    assert not any("Flip" in type(t).__name__ for t in pipe.transforms)
    pipe = image_pipeline(flipped, 1.0, size=(8, 8))
    assert any("Flip" in type(t).__name__ for t in pipe.transforms)


def test_pipeline_augmenter_flips_and_is_seeded():
    policy = POLICIES["folder"].__class__(rotate=0, shift=0, scale=0, flip=True)
    x = torch.rand(16, 3, 6, 6)
    aug = pipeline_augmenter(policy)
    out = aug(x, torch.ones(16), gen(5))
    flipped = [torch.equal(out[i], x[i].flip(-1)) for i in range(16)]
    same = [torch.equal(out[i], x[i]) for i in range(16)]
    assert all(f or s for f, s in zip(flipped, same, strict=True)) and any(flipped) and any(same)
    assert torch.equal(out, aug(x, torch.ones(16), gen(5)))
    assert torch.equal(aug(x, torch.zeros(16), gen(5)), x)
    with pytest.raises(ValueError, match="strength"):
        image_pipeline(policy, 1.5, size=(6, 6))


def test_time_shift_moves_impulse_without_wrapping():
    x = torch.zeros(200, 100)
    x[:, 50] = 1.0
    out = time_shift(x, torch.ones(200), gen(), shift=0.1)
    pos = out.argmax(1)
    assert (out.sum(1) == 1).all()
    assert (pos - 50).abs().max().item() <= 10 and (pos != 50).any()
    edge = torch.zeros(1, 10)
    edge[0, 9] = 1.0
    moved = time_shift(edge.repeat(50, 1), torch.ones(50), gen(), shift=0.5)
    assert moved.sum(1).max() <= 1.0  # shifted past the end: dropped, not wrapped


def test_random_gain_within_db_range():
    x = torch.ones(500, 4)
    out = random_gain(x, torch.ones(500), gen(), gain_db=6.0)
    db = 20 * torch.log10(out[:, 0])
    assert db.abs().max().item() <= 6.0 + 1e-4 and db.std().item() > 2


def test_add_noise_hits_snr_in_range():
    x = torch.sin(torch.linspace(0, 100, 400)).repeat(64, 1)
    bank = torch.randn(3, 150)  # shorter than the clip: looped
    out = add_noise(x, torch.ones(64), gen(), noise=bank, snr_db=(5.0, 10.0))
    n = out - x
    snr = 10 * torch.log10(x.pow(2).mean(1) / n.pow(2).mean(1))
    assert snr.min().item() >= 5.0 - 1e-3 and snr.max().item() <= 10.0 + 1e-3
    assert torch.equal(add_noise(x, torch.zeros(64), gen(), snr_db=(0, 1)), x)
    with pytest.raises(ValueError, match="snr_db"):
        add_noise(x, torch.ones(64), gen(), snr_db=(10, 0))


def test_audio_augment_keeps_shape_and_zero_strength():
    x = torch.randn(8, 1, 64)
    aug = AudioAugment(noise=torch.randn(2, 64))
    out = aug(x, torch.full((8,), 0.5), gen())
    assert out.shape == x.shape and not torch.equal(out, x)
    assert torch.equal(aug(x, torch.zeros(8), gen()), x)
    assert math.isfinite(out.sum().item())
    np.testing.assert_array_equal(out.numpy(), aug(x, torch.full((8,), 0.5), gen()).numpy())


def _hand_mask(rows: range, cols: range) -> torch.Tensor:
    mask = torch.ones(8, 8)
    for i in rows:
        for j in cols:
            mask[i, j] = 0.0
    return mask


@pytest.mark.parametrize(
    ("seed", "centre", "rows", "cols"),
    [
        (2, [4, 3], range(3, 6), range(2, 5)),  # a 3-pixel square: centre -1 .. centre +1
        (3, [0, 0], range(0, 2), range(0, 2)),  # clipped at the corner
    ],
)
def test_cutout_erases_the_hand_computed_square(seed, centre, rows, cols):
    # the centre is (floor(8 u0), floor(8 u1)) of the generator's first two draws
    u = torch.rand((2, 1), generator=gen(seed))
    assert (u * 8).long().flatten().tolist() == centre
    x = torch.rand(1, 2, 8, 8, generator=gen(9)) + 0.5  # no zeros before
    out = cutout(x, torch.tensor([0.375]), gen(seed))  # round(0.375 * 8) = 3 pixels
    expected = x * _hand_mask(rows, cols)  # every channel loses the same square
    torch.testing.assert_close(out, expected, rtol=0, atol=0)


def test_cutout_zero_fraction_is_identity_and_draws_are_seeded():
    x = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(0)) + 0.5
    fraction = torch.tensor([0.0, 0.25, 0.5, 0.0, 0.25, 1.0])
    a = cutout(x, fraction, torch.Generator().manual_seed(1))
    b = cutout(x, fraction, torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    erased = (a == 0).flatten(1).sum(1).tolist()  # pixels lost per image
    assert erased[0] == erased[3] == 0
    assert 0 < erased[1] <= 4 and 0 < erased[2] <= 16 and 16 <= erased[5] <= 64
