"""The model families a study trains: an MLP and a small CNN, as plain ``nn.Sequential``.

Both are flat stacks of standard layers (Linear/Conv2d, BatchNorm, ReLU, MaxPool,
Dropout, Flatten), so the regularizers can insert layers into them and the fused engine
can stack K of them layer by layer. For audio, a fixed :class:`LogSpectrogram` front end
(no parameters) comes first, so the networks read waveforms.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import torch
from torch import nn

from nooverfit.config import RunConfig, check_dropout
from nooverfit.mlp_layers import hidden_layers
from nooverfit.seeding import seeded


class Network(nn.Sequential):
    """An ``nn.Sequential`` that reports its size."""

    @property
    def num_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


class LogSpectrogram(nn.Module):
    """Waveforms ``(B, T)`` -> ``log(1 + |STFT|)`` maps ``(B, n_fft // 2 + 1, frames)``.

    A Hann-windowed short-time Fourier transform (``torch.stft``); put it in front of an
    MLP or CNN to classify audio by its time-frequency pattern. It has no parameters.
    With ``bands``, the magnitudes are first summed by ``bands`` triangular filters
    equally spaced on the mel scale, ``mel(f) = 2595 * log10(1 + f / 700)`` (the usual
    speech front end), giving ``(B, bands, frames)``.

    With ``normalize`` (the speech front end of :func:`speech_front`), the maps are
    ``log(P + 1e-4 * max P)`` of the mel *power* ``P`` (a 40 dB floor below each clip's
    loudest cell, so digital silence and quiet noise look alike), normalized to zero mean
    and unit variance per utterance (:func:`log_normalize`), which takes loudness and
    recording level out of what the network can tell voices by. Maps of that shape,
    ``(B, bands, frames)``, are taken to be its own output and pass through: the
    ``spoken`` data set holds :func:`speech_features` of its clips, computed once, so
    neither the STFT nor the normalization run again in training or evaluation, while
    waveforms (the shortcut probes, a user's clips) go through the whole front end.

    Args:
        n_fft: FFT size in samples (default 128).
        hop: hop between frames in samples (default 64).
        channel: add a channel axis, ``(B, 1, F, frames)``, for a CNN (default False).
        bands: mel bands, 0 for none (default 0).
        rate: sample rate in Hz, for the mel filters (default 16,000).
        normalize: log mel power with a floor, normalized per utterance (needs ``bands``).
    """

    def __init__(
        self,
        n_fft: int = 128,
        hop: int = 64,
        *,
        channel: bool = False,
        bands: int = 0,
        rate: int = 16000,
        normalize: bool = False,
    ) -> None:
        super().__init__()
        if normalize and not bands:
            raise ValueError("a normalized log-mel front end needs bands > 0")
        self.n_fft, self.hop, self.channel, self.bands, self.rate = (
            n_fft,
            hop,
            channel,
            bands,
            rate,
        )
        self.normalize = normalize
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        filters = mel_filters(n_fft, bands, rate) if bands else torch.zeros(0)
        self.register_buffer("filters", filters, persistent=False)

    window: torch.Tensor
    filters: torch.Tensor

    def out_shape(self, length: int) -> tuple[int, ...]:
        """The shape of one output map for waveforms of ``length`` samples."""
        shape = (self.bands or self.n_fft // 2 + 1, 1 + length // self.hop)
        return (1, *shape) if self.channel else shape

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.normalize:
            maps = x.ndim == 3 and x.shape[1] == self.bands
            out = x if maps else log_normalize(self.mel_power(x))
            return out.unsqueeze(1) if self.channel else out
        x = x.reshape(x.shape[0], -1)
        spec = torch.stft(
            x, self.n_fft, self.hop, window=self.window, return_complex=True, center=True
        )
        mag = spec.abs()  # (B, F, frames)
        if self.bands:
            mag = torch.matmul(self.filters, mag)  # (bands, F) @ (B, F, frames)
        out = torch.log1p(mag)
        return out.unsqueeze(1) if self.channel else out

    def mel_power(self, x: torch.Tensor) -> torch.Tensor:
        """Mel power maps ``(B, bands, frames)`` of waveforms ``(B, T)`` or ``(B, 1, T)``."""
        x = x.reshape(x.shape[0], -1)
        spec = torch.stft(
            x, self.n_fft, self.hop, window=self.window, return_complex=True, center=True
        )
        power = spec.real.square() + spec.imag.square()  # (B, F, frames)
        return torch.matmul(self.filters, power)

    def extra_repr(self) -> str:
        bands = f", bands={self.bands}, rate={self.rate}" if self.bands else ""
        norm = ", normalize=True" if self.normalize else ""
        return f"n_fft={self.n_fft}, hop={self.hop}, channel={self.channel}{bands}{norm}"


def log_normalize(power: torch.Tensor, *, floor: float = 1e-4) -> torch.Tensor:
    """``log(P + floor * max P)`` per map of ``power`` ``(B, F, frames)``, then zero mean
    and unit variance per map (per-utterance normalization)."""
    peak = power.amax(dim=(1, 2), keepdim=True)
    logp = torch.log(power + floor * peak + 1e-12)
    mean = logp.mean(dim=(1, 2), keepdim=True)
    std = logp.std(dim=(1, 2), keepdim=True)
    return (logp - mean) / std.clamp_min(1e-5)


def mel_filters(n_fft: int, bands: int, rate: int) -> torch.Tensor:
    """Triangular filters ``(bands, n_fft // 2 + 1)`` with centres equally spaced in mel
    from 0 to ``rate / 2``, each peaking at 1."""
    mel = torch.linspace(0, 2595 * math.log10(1 + rate / 2 / 700), bands + 2, dtype=torch.float64)
    hz = 700 * (10 ** (mel / 2595) - 1)  # (bands + 2,) filter edges and centres
    f = torch.linspace(0, rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    lo, mid, hi = hz[:-2, None], hz[1:-1, None], hz[2:, None]
    up = (f - lo) / (mid - lo)
    down = (hi - f) / (hi - mid)
    return torch.clamp(torch.minimum(up, down), min=0).float()


def audio_front(length: int, *, channel: bool = False) -> LogSpectrogram:
    """The front end for waveforms of ``length`` samples: short clips (the 4 kHz
    ``keywords``) get the plain 128-point spectrogram; speech-length clips (8,000 samples
    or more, e.g. 1 s at 16 kHz) 40 mel bands of 32 ms frames every 20 ms, which keeps
    the map near 2,000 values instead of 16,000."""
    if length >= 8000:
        return LogSpectrogram(512, 320, channel=channel, bands=40, rate=16000)
    return LogSpectrogram(channel=channel)


#: The speech front end's STFT: 64 ms frames every 40 ms at 16 kHz (26 frames a second),
#: 40 mel bands. Half the frames of 32 ms every 20 ms, so half the network's input:
#: held-out-voice accuracy measured about the same, training ~1.7x faster (bench/spoken.py).
SPEECH_FFT, SPEECH_HOP, SPEECH_BANDS, SPEECH_RATE = 1024, 640, 40, 16000


def speech_front(*, channel: bool = False) -> LogSpectrogram:
    """The normalized log-mel front end of 16 kHz speech (see :class:`LogSpectrogram`)."""
    return LogSpectrogram(
        SPEECH_FFT,
        SPEECH_HOP,
        channel=channel,
        bands=SPEECH_BANDS,
        rate=SPEECH_RATE,
        normalize=True,
    )


@torch.no_grad()
def mel_power(x: torch.Tensor, *, chunk: int = 256) -> torch.Tensor:
    """The speech front end's mel power maps ``(N, 40, frames)`` of 16 kHz waveforms
    ``(N, T)``, in chunks."""
    front = speech_front()
    return torch.cat([front.mel_power(x[i : i + chunk]) for i in range(0, len(x), chunk)])


@torch.no_grad()
def speech_features(x: torch.Tensor, *, chunk: int = 256) -> torch.Tensor:
    """What :func:`speech_front` makes of 16 kHz waveforms ``(N, T)``: normalized log-mel
    maps ``(N, 40, frames)``, in chunks. A data set that holds these is read by the front
    end as they are, so they are computed once per clip instead of once per epoch."""
    return log_normalize(mel_power(x, chunk=chunk))


def mlp(
    in_features: int,
    classes: int,
    *,
    width: int = 256,
    depth: int = 2,
    dropout: float = 0.0,
    batchnorm: bool = False,
) -> Network:
    """A multilayer perceptron: ``depth`` x [Linear -> (BatchNorm) -> ReLU -> (Dropout)],
    then a Linear output layer. Inputs of any shape are flattened first.

    Args:
        in_features: number of input features (product of the sample shape).
        classes: number of output logits.
        width: hidden units per layer (default 256).
        depth: number of hidden layers, >= 0 (default 2; 0 is logistic regression).
        dropout: dropout rate after each hidden layer, in [0, 1) (default 0).
        batchnorm: BatchNorm1d after each hidden Linear (default False).
    """
    check_dropout(dropout)
    norm = nn.BatchNorm1d if batchnorm else None
    hidden = hidden_layers(in_features, width, depth, dropout, norm)
    return Network(nn.Flatten(), *hidden, nn.Linear(width if depth else in_features, classes))


def cnn(
    in_shape: Sequence[int],
    classes: int,
    *,
    channels: int = 32,
    depth: int = 2,
    dropout: float = 0.0,
    batchnorm: bool = False,
    convs: int = 1,
) -> Network:
    """A small CNN: ``depth`` blocks of ``convs`` x [Conv3x3 -> (BatchNorm) -> ReLU], each
    block then MaxPool2 -> (Dropout), channels doubling per block, then Flatten -> Linear.
    Pooling stops at 2x2 maps.

    ``convs >= 2`` gives VGG-style blocks (two 3x3 convolutions see 5x5 pixels with fewer
    weights than one 5x5; Simonyan & Zisserman, ICLR 2015). A convolution followed by
    batch norm has no bias, which batch norm's mean subtraction would cancel (its ``beta``
    is the shift); networks saved with one load through
    :func:`nooverfit.stale_bias.fold_stale_biases`.

    Args:
        in_shape: ``(C, H, W)`` of one image.
        classes: number of output logits.
        channels: channels of the first block (default 32).
        depth: number of conv blocks, >= 1 (default 2).
        dropout: dropout rate after each block, in [0, 1) (default 0).
        batchnorm: BatchNorm2d after each convolution (default False).
        convs: convolutions per block, >= 1 (default 1).
    """
    check_dropout(dropout)
    if len(in_shape) != 3:
        raise ValueError(f"cnn needs image inputs (C, H, W), got shape {tuple(in_shape)}")
    if not isinstance(convs, int) or convs < 1:
        raise ValueError(f"convs must be an integer >= 1, got {convs!r}")
    c, h, w = in_shape
    bias = not batchnorm
    layers: list[nn.Module] = []
    for i in range(depth):
        out = channels * 2**i
        for j in range(convs):
            layers.append(nn.Conv2d(c if j == 0 else out, out, 3, padding=1, bias=bias))
            if batchnorm:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.ReLU())
        if min(h, w) >= 4:
            layers.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        c = out
    layers += [nn.Flatten(), nn.Linear(c * h * w, classes)]
    return Network(*layers)


def build_model(
    config: RunConfig, in_shape: Sequence[int], classes: int, *, kind: str | None = None
) -> Network:
    """Build the model ``config`` describes, initialized from ``config.init_seed``.

    For ``kind == "audio"`` (waveforms ``(T,)``, or mel power maps ``(40, frames)``)
    the network starts with a :class:`LogSpectrogram`. The global random state is left as
    it was.
    """
    front = None
    if kind == "audio" and len(in_shape) == 2 and in_shape[0] == SPEECH_BANDS:
        # precomputed mel power maps (the ``spoken`` data set)
        front = speech_front(channel=config.model == "cnn")
        in_shape = (1, *in_shape) if front.channel else tuple(in_shape)
    elif kind == "audio":
        front = audio_front(math.prod(in_shape), channel=config.model == "cnn")
        in_shape = front.out_shape(math.prod(in_shape))
    if config.tta and (kind == "audio" or len(in_shape) != 3):
        raise ValueError(f"tta needs image inputs (C, H, W), got shape {tuple(in_shape)}")
    with seeded(config.init_seed):
        if config.model == "cnn":
            net = cnn(
                in_shape,
                classes,
                channels=config.width,
                depth=config.depth,
                dropout=config.dropout,
                batchnorm=config.batchnorm,
                convs=config.convs,
            )
        else:  # with one member and no PLR embeddings, exactly mlp()'s layers and weights
            from nooverfit.tabm import tabular_mlp

            net = Network(
                *tabular_mlp(
                    math.prod(in_shape),
                    classes,
                    width=config.width,
                    depth=config.depth,
                    dropout=config.dropout,
                    batchnorm=config.batchnorm,
                    members=config.members,
                    periodic=config.periodic,
                )
            )
    if config.tta:  # parameter-free: the initial weights are the same without it
        from nooverfit.shifts import CopyMean, ShiftCopies

        net = Network(ShiftCopies(), *net, CopyMean())
    return net if front is None else Network(front, *net)


class DataShape(Protocol):
    """What a network is built for: a ``Dataset`` or ``SplitData``."""

    @property
    def in_shape(self) -> tuple[int, ...]: ...

    @property
    def num_classes(self) -> int: ...

    @property
    def kind(self) -> str: ...


def network_for(config: RunConfig, data: DataShape) -> Network:
    """:func:`build_model` for ``data``'s sample shape, class count and kind."""
    return build_model(config, data.in_shape, data.num_classes, kind=data.kind)
