"""What the study's augmentation does to one data set, in words and as PyTorch lines,
read from the augmenters' own settings (``data/augment*.py``), so the report's technique
text and its recipe cannot drift from what was trained.

Which augmenter a data set gets is :func:`nooverfit.data.augment.augmenter`'s choice:
images whose policy crops, flips or jitters colour get the torchvision pipeline of that
policy, other images the batched affine map (the digit policy); audio without a
background-noise bank :data:`~nooverfit.data.augment_audio.audio_augment`; the ``spoken``
data set (log-mel maps and a noise bank) the spectral synthesis remedy.
"""

from __future__ import annotations

from nooverfit.data.augment import ImagePolicy, image_policy


def _g(value: float) -> str:
    return f"{value:.3g}"


def _f(value: float) -> str:
    """A float literal (``0.0``, not ``0``: torchvision keeps the type in its repr)."""
    return repr(float(f"{value:.6g}"))


def _pct(value: float) -> str:
    return f"{100 * value:.3g} %"


def image_policy_used(data: str) -> ImagePolicy:
    """The policy whose effects the study applied to images of data set ``data`` (the
    batched affine map is the default :class:`ImagePolicy`'s)."""
    policy = image_policy(data)
    return policy if policy.pipelined else ImagePolicy()


def image_words(data: str) -> str:
    """The image augmentation of data set ``data`` at strength 1, in words."""
    p = image_policy_used(data)
    parts = []
    if p.crop:
        parts.append(f"a random crop keeping {_pct(1 - p.crop)} to all of the area, resized back")
    if p.rotate:
        parts.append(f"a rotation of up to {_g(p.rotate)} degrees")
    if p.shift:
        parts.append(f"a shift of up to {_pct(p.shift)} of the size")
    if p.scale:
        parts.append(f"a zoom within ±{_pct(p.scale)}")
    if p.flip:
        parts.append("a left-right flip of half the images")
    if p.color:
        parts.append(f"brightness and contrast jitter of ±{_pct(p.color)}")
    text = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
    if p.flip:
        return text
    hint = " (folder+flip:PATH flips classes that mirror)" if _folder(data) else ""
    return text + f"; never a flip (a flipped digit or letter is another symbol){hint}"


def _folder(data: str) -> bool:
    return data.partition(":")[0] == "folder"


def image_pytorch(data: str, strength: float) -> list[str]:
    """torchvision lines of ``data``'s image augmentation at ``strength``, step by step as
    :func:`nooverfit.data.augment.image_pipeline` builds them."""
    p, s = image_policy_used(data), strength
    if not p.pipelined:
        return [
            "from torchvision.transforms import v2  # on each training batch",
            f"augment = v2.RandomAffine(degrees={_f(p.rotate * s)}, "
            f"translate=({_f(p.shift * s)}, {_f(p.shift * s)}), "
            f"scale=({_f(1 - p.scale * s)}, {_f(1 + p.scale * s)}))",
        ]
    steps = []
    if p.crop:
        steps.append(
            f"v2.RandomResizedCrop(size, scale=({_f(1 - p.crop * s)}, 1.0), antialias=True)"
        )
    if p.rotate or p.shift or p.scale:
        steps.append(
            f"v2.RandomAffine(degrees={_f(p.rotate * s)}, "
            f"translate=({_f(p.shift * s)}, {_f(p.shift * s)}), "
            f"scale=({_f(1 - p.scale * s)}, {_f(1 + p.scale * s)}))"
        )
    if p.flip:
        steps.append(f"v2.RandomHorizontalFlip(p={_f(0.5 * s)})")
    if p.color:
        steps.append(f"v2.ColorJitter(brightness={_f(p.color * s)}, contrast={_f(p.color * s)})")
    return [
        "from torchvision.transforms import v2  # on each training image (C, H, W) in [0, 1]",
        "size = tuple(x_train.shape[-2:])",
        "augment = v2.Compose([",
        *(f"    {step}," for step in steps),
        "])",
    ]


def audio_words(data: str) -> str:
    """The audio augmentation a study of data set ``data`` trains with, at strength 1."""
    from nooverfit.data.augment_audio import audio_augment
    from nooverfit.data.augment_spectra import SpectralAugment

    if data.partition(":")[0] == "spoken":
        a = SpectralAugment()
        lo, hi = a.snr_db
        return (
            "on the log-mel maps: a vocal-tract-length warp of the frequencies within "
            f"×{_g(1 + a.warp)}^±1, a tempo change within ×{_g(1 + a.speed)}^±1, a time "
            f"shift of up to {_pct(a.shift)} of the clip, the data set's background noises "
            f"at {_g(lo)}-{_g(hi)} dB SNR on {_pct(a.noise)} of the clips, and SpecAugment "
            f"masks of up to {a.band_mask} bands and {a.frame_mask} frames"
        )
    w = audio_augment
    lo, hi = w.snr_db
    text = (
        f"a time shift of up to {_pct(w.shift)} of the clip, a gain of up to "
        f"±{_g(w.gain_db)} dB and background noise at {_g(lo)}-{_g(hi)} dB SNR"
    )
    if data.partition(":")[0] == "keywords":
        return text + " (white noise)"
    return text + (
        " (white noise; a folder with a _background_noise_ subfolder also gets speed and "
        "pitch changes and its own noises)"
    )


def audio_pytorch(data: str, strength: float) -> list[str]:
    """The lines that apply the study's own audio augmenter to ``data`` (no torchvision
    equivalent): with the data set's background-noise bank, as the study had it."""
    if data.partition(":")[0] == "keywords":  # synthesized without a bank
        made = ['augment = augmenter("audio")  # no noise bank: white noise']
    else:
        made = [
            f"bank = load_dataset({data!r}).noise  # its background noises (None: white)",
            f'augment = augmenter("audio", name={data!r}, noise=bank)',
        ]
    return [
        "from nooverfit.data import augmenter, load_dataset  # the study's audio augmentation:",
        f"# {audio_words(data)}",
        *made,
        "gen = torch.Generator().manual_seed(0)",
        f"# each training batch: xb = augment(xb, torch.full((len(xb),), {_g(strength)}), gen)",
    ]
