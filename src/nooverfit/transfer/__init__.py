"""Transfer learning: reuse a network trained on more data, retrain the layers that matter.

- :mod:`~nooverfit.transfer.blocks`: blocks of a network, frozen batch norm.
- :mod:`~nooverfit.transfer.strategy`: :func:`prepare` with ``head``/``io``/``full``/
  ``gradual`` and discriminative learning rates.
- :mod:`~nooverfit.transfer.pretrain`: offline source tasks and :class:`Source` files.
- :mod:`~nooverfit.transfer.pretext`: contrastive pretraining on an unlabeled pool.
- :mod:`~nooverfit.transfer.backbones`: nooverfit, state-dict and torchvision backbones.
- :mod:`~nooverfit.transfer.runs`: :func:`transfer_runs`, the study hook.
- :mod:`~nooverfit.transfer.retrained`: what a prepared network retrains and keeps frozen.
"""

from nooverfit.transfer.backbones import (
    Pretrained,
    load_pretrained,
    load_torchvision,
)
from nooverfit.transfer.blocks import (
    Block,
    FrozenBatchNorm1d,
    FrozenBatchNorm2d,
    find_blocks,
    freeze_batchnorm,
    thaw_batchnorm,
)
from nooverfit.transfer.pretext import (
    PRETEXTS,
    contrastive_pretrain,
    nt_xent,
    train_contrastive,
    unlabeled_pool,
)
from nooverfit.transfer.pretrain import (
    Source,
    class_subset,
    parse_classes,
    pretrain,
    rotation_pretext,
)
from nooverfit.transfer.runs import as_pretrained, transfer_model, transfer_runs
from nooverfit.transfer.strategy import (
    STRATEGIES,
    GradualUnfreeze,
    Group,
    Strategy,
    Transfer,
    adapt_channels,
    prepare,
)
from nooverfit.transfer.weights_files import hub_weights_path

__all__ = [
    "PRETEXTS",
    "STRATEGIES",
    "Block",
    "FrozenBatchNorm1d",
    "FrozenBatchNorm2d",
    "GradualUnfreeze",
    "Group",
    "Pretrained",
    "Source",
    "Strategy",
    "Transfer",
    "adapt_channels",
    "as_pretrained",
    "class_subset",
    "contrastive_pretrain",
    "find_blocks",
    "freeze_batchnorm",
    "hub_weights_path",
    "load_pretrained",
    "load_torchvision",
    "nt_xent",
    "parse_classes",
    "prepare",
    "pretrain",
    "rotation_pretext",
    "thaw_batchnorm",
    "train_contrastive",
    "transfer_model",
    "transfer_runs",
    "unlabeled_pool",
]
