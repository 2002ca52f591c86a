"""The shortcut check: did a network trained on synthesized data learn the noise?

A keyword detector trained on recordings mixed with café noise can learn "café noise
means keyword" instead of the keyword. Three probes expose it:

(a) clean foreground clips (no noise at all);
(b) noise-only clips (a detector must not fire on them);
(c) the same foregrounds mixed with the training noise kinds, drawn at random (no longer
    matched to the label as a leaky synthesis matched them), and with background noises
    held out from training, at each SNR.

The clearest symptom of a shortcut is (c): a network that reads the noise instead of the
word names the wrong keyword as soon as the noise stops matching the label, even at
20 dB. A network trained on clean clips loses accuracy under noise too, but differently:
noise it never heard makes it *miss* the keyword (it answers "background"), it does not
make it name another one. So the drop is measured on the clips the network decides on,
``noise_drop = clean accuracy - accuracy among mixed clips not predicted as background``
(all clips without a background class): a clean network's drop is discounted, a leaky
one's is not. The model is flagged when it fires on noise alone (the background class,
if there is one, is not predicted for noise-only clips), when ``noise_drop`` exceeds
``max_noise_drop``, or when it does far worse on held-out noises than on the training
ones (``max_drop``). The thresholds were calibrated on leaky, clean and correctly mixed
networks over three seeds, on the synthetic ``keywords`` and on ``spoken``
(``bench/spoken.py`` prints the figures). The decision is the pure function
:func:`shortcut_flags`; :func:`shortcut_check` builds the probes and runs the model.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nooverfit.data.audio_io import NoiseBank
from nooverfit.data.synthesize import active_region, fit_length, snr_gain


class ShortcutFlag(str, enum.Enum):
    """Why the shortcut check failed a model."""

    FIRES_ON_NOISE = "fires_on_noise"
    HELD_OUT_DROP = "held_out_drop"
    NOISE_DROP = "noise_drop"


@dataclass(frozen=True)
class ShortcutReport:
    """Accuracies on the three probes and the verdict.

    Attributes:
        clean_accuracy: accuracy on the clean foregrounds.
        fire_rate: fraction of training-noise-only clips on which a keyword "fires"
            (predicted as a non-background class, or with confidence >= ``confidence``).
        held_out_fire_rate: the same on held-out-noise-only clips.
        snr_db: the SNRs probed, dB.
        train_noise_accuracy: accuracy per SNR on mixes with the training noises.
        held_out_accuracy: accuracy per SNR on mixes with the held-out noises.
        drop: mean over SNRs of ``train_noise_accuracy - held_out_accuracy``.
        noise_drop: ``clean_accuracy`` minus the accuracy, pooled over SNRs, on the
            training-noise mixes the model did not predict as background: the keyword
            errors that mixing in the training noises causes.
        flags: what failed (empty when the model passes).
    """

    clean_accuracy: float
    fire_rate: float
    held_out_fire_rate: float
    snr_db: tuple[float, ...]
    train_noise_accuracy: tuple[float, ...]
    held_out_accuracy: tuple[float, ...]
    drop: float
    flags: tuple[ShortcutFlag, ...]
    noise_drop: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.flags

    def to_dict(self) -> dict[str, object]:
        return {
            "clean_accuracy": self.clean_accuracy,
            "fire_rate": self.fire_rate,
            "held_out_fire_rate": self.held_out_fire_rate,
            "snr_db": list(self.snr_db),
            "train_noise_accuracy": list(self.train_noise_accuracy),
            "held_out_accuracy": list(self.held_out_accuracy),
            "drop": self.drop,
            "noise_drop": self.noise_drop,
            "flags": [f.value for f in self.flags],
            "passed": self.passed,
        }


@dataclass(frozen=True, eq=False)
class ShortcutProbes:
    """What :func:`shortcut_check` needs besides the model, for one synthesized data set.

    Attributes:
        foreground: clean clips ``(N, T)`` the model did not train on.
        labels: their labels ``(N,)``.
        noise: the background noises the synthesis used.
        held_out: background noises it never used.
        background_class: the "no keyword" class, if the data set has one.
    """

    foreground: np.ndarray
    labels: np.ndarray
    noise: NoiseBank
    held_out: NoiseBank
    background_class: int | None = None

    def check(self, model: nn.Module, *, seed: int = 0) -> ShortcutReport:
        """:func:`shortcut_check` of ``model`` on these probes."""
        return shortcut_check(
            model,
            self.foreground,
            self.labels,
            noise=self.noise,
            held_out=self.held_out,
            background_class=self.background_class,
            seed=seed,
        )


#: Calibrated thresholds (see the module docstring and ``bench/spoken.py``). Leaky
#: networks fired on 56-85 % of noise-only clips, the others on at most 24 %. Clean
#: ``spoken`` networks under the normalized log-mel front end lose up to 36 points on
#: decided noisy clips (their training clips' silence is exactly the 40 dB floor, so any
#: noise is new to them), as much as leaky ``keywords`` ones (32-38), so the noise-drop
#: bound sits above both and flags only the extreme drops.
MAX_FIRE_RATE = 0.4
MAX_DROP = 0.3
MAX_NOISE_DROP = 0.45


def shortcut_flags(
    fire_rate: float,
    drop: float,
    noise_drop: float = 0.0,
    *,
    max_fire_rate: float = MAX_FIRE_RATE,
    max_drop: float = MAX_DROP,
    max_noise_drop: float = MAX_NOISE_DROP,
) -> tuple[ShortcutFlag, ...]:
    """The verdict: fires on noise alone more than ``max_fire_rate`` of the time, loses
    more than ``max_drop`` accuracy on held-out noise than on training noise, or loses
    more than ``max_noise_drop`` of its clean accuracy on clips mixed with the training
    noises."""
    flags = []
    if fire_rate > max_fire_rate:
        flags.append(ShortcutFlag.FIRES_ON_NOISE)
    if drop > max_drop:
        flags.append(ShortcutFlag.HELD_OUT_DROP)
    if noise_drop > max_noise_drop:
        flags.append(ShortcutFlag.NOISE_DROP)
    return tuple(flags)


@torch.no_grad()
def _predict(model: nn.Module, x: np.ndarray) -> torch.Tensor:
    """Softmax probabilities ``(N, C)`` in eval mode, on the model's device."""
    was = model.training
    model.eval()
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    probs = torch.cat(
        [
            model(torch.as_tensor(x[i : i + 1024], device=device)).softmax(1).cpu()
            for i in range(0, len(x), 1024)
        ]
    )
    model.train(was)
    return probs


def _mixes(
    foreground: np.ndarray, bank: NoiseBank, snr: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each foreground mixed with a random bank clip at ``snr``; also the scaled noise."""
    mixes, noises = [], []
    for fg in foreground:
        clip = bank.clips[int(rng.integers(len(bank)))]
        noise = fit_length(clip, len(fg), offset=int(rng.integers(len(clip))))
        a = snr_gain(fg, noise, snr, active=active_region(fg))
        mixes.append(fg + a * noise)
        noises.append(a * noise)
    return np.stack(mixes).astype(np.float32), np.stack(noises).astype(np.float32)


def shortcut_check(
    model: nn.Module,
    foreground: np.ndarray,
    labels: np.ndarray,
    *,
    noise: NoiseBank,
    held_out: NoiseBank,
    snr_db: Sequence[float] = (0.0, 10.0, 20.0),
    background_class: int | None = None,
    confidence: float = 0.9,
    max_fire_rate: float = MAX_FIRE_RATE,
    max_drop: float = MAX_DROP,
    max_noise_drop: float = MAX_NOISE_DROP,
    seed: int = 0,
) -> ShortcutReport:
    """Probe ``model`` with clean clips, noise-only clips and held-out-noise mixes.

    Args:
        model: a classifier of waveforms ``(B, T)`` (include any feature front end).
        foreground: clean keyword clips ``(N, T)`` the model did not train on.
        labels: their labels ``(N,)``.
        noise: the background noises used in training.
        held_out: background noises never used in training.
        snr_db: SNRs to probe, dB (default 0, 10, 20).
        background_class: index of the model's "no keyword" class, if it has one; a
            noise-only clip "fires" when predicted as any other class. Without one, it
            fires when the top softmax probability is at least ``confidence``.
        confidence: firing confidence for models without a background class (default 0.9).
        max_fire_rate: flag above this firing rate on training noises (default 0.4).
        max_drop: flag above this mean accuracy drop on held-out noises (default 0.3).
        max_noise_drop: flag above this drop from clean accuracy to accuracy on
            training-noise mixes (default 0.45).
        seed: seed of noise choices and offsets.

    Noise-only clips are the noise exactly as it appears in the probe mixes (same gain),
    so their loudness matches what the model saw in training.
    """
    fg = np.asarray(foreground, np.float32).reshape(len(foreground), -1)
    y = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    if len(fg) != len(y) or len(fg) == 0:
        raise ValueError(f"need as many labels as clips (>0), got {len(fg)} and {len(y)}")
    rng = np.random.default_rng(seed)

    def accuracy(x: np.ndarray) -> float:
        return float((_predict(model, x).argmax(1) == y).float().mean())

    decided = [0, 0]  # correct, total over the training-noise mixes not called background

    def count(x: np.ndarray) -> None:
        pred = _predict(model, x).argmax(1)
        keep = pred != background_class if background_class is not None else pred >= 0
        decided[0] += int((pred[keep] == y[keep]).sum())
        decided[1] += int(keep.sum())

    def fires(x: np.ndarray) -> float:
        p = _predict(model, x)
        if background_class is not None:
            return float((p.argmax(1) != background_class).float().mean())
        return float((p.max(1).values >= confidence).float().mean())

    train_acc, held_acc, train_noise, held_noise = [], [], [], []
    for snr in snr_db:
        mix, n = _mixes(fg, noise, float(snr), rng)
        train_acc.append(accuracy(mix))
        count(mix)
        train_noise.append(n)
        mix, n = _mixes(fg, held_out, float(snr), rng)
        held_acc.append(accuracy(mix))
        held_noise.append(n)
    fire_rate = fires(np.concatenate(train_noise))
    drop = float(np.mean(np.subtract(train_acc, held_acc)))
    clean = accuracy(fg)
    noise_drop = clean - (decided[0] / decided[1] if decided[1] else clean)
    return ShortcutReport(
        clean_accuracy=clean,
        fire_rate=fire_rate,
        held_out_fire_rate=fires(np.concatenate(held_noise)),
        snr_db=tuple(float(s) for s in snr_db),
        train_noise_accuracy=tuple(train_acc),
        held_out_accuracy=tuple(held_acc),
        drop=drop,
        flags=shortcut_flags(
            fire_rate,
            drop,
            noise_drop,
            max_fire_rate=max_fire_rate,
            max_drop=max_drop,
            max_noise_drop=max_noise_drop,
        ),
        noise_drop=noise_drop,
    )
