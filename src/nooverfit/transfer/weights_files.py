"""Where a ``torchvision:`` source's weights are on disk, found without building the model:
the hub cache's file of a model's default weights, or the file given. Apart from
:mod:`.backbones` (which builds and loads the models) so that the leak check
(:mod:`.seen`) can refuse a source it cannot load before any run.
"""

from __future__ import annotations

from pathlib import Path

import torch


def hub_weights_path(name: str) -> Path:
    """Where torchvision's default weights for model ``name`` live in the hub cache.

    Raises:
        ValueError: if torchvision has no model ``name`` with pretrained weights.
    """
    from torchvision import models

    try:
        url = models.get_model_weights(name).DEFAULT.url
    except (ValueError, AttributeError):
        raise ValueError(
            f"unknown torchvision model {name!r}; expected e.g. resnet18, mobilenet_v3_small"
        ) from None
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]


def torchvision_weights(name: str, weights: str | Path | None = None) -> Path:
    """The weights file of torchvision model ``name``: ``weights``, or by default its file
    in the torch hub cache; checked without building the model, so that a study refuses a
    ``--source torchvision:NAME`` it cannot load before its first run.

    Raises:
        ValueError: if torchvision has no model ``name``.
        FileNotFoundError: no weights file; the message says where to put it.
    """
    from torchvision import models

    if weights is None:
        path = hub_weights_path(name)
    elif name not in models.list_models():
        raise ValueError(
            f"unknown torchvision model {name!r}; expected e.g. resnet18, mobilenet_v3_small"
        )
    else:
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(
                f"weights file {path} of torchvision:{name} does not exist; expected a "
                "state-dict file (torchvision:NAME:PATH)"
            )
    if not path.is_file():
        raise FileNotFoundError(
            f"no weights for torchvision:{name}: put {path.name} in {path.parent} or pass "
            f"the file (torchvision:{name}:PATH); nothing is downloaded"
        )
    return path
