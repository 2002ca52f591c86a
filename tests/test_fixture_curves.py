"""The labelled curve suite under ``tests/fixtures/curves/`` and its ``manifest.json``."""

import json
from pathlib import Path

from nooverfit.history import History, best_index

CURVES = Path(__file__).parent / "fixtures" / "curves"


def test_manifest_names_the_kept_epoch_apart_from_the_validation_minimum():
    """``kept_epoch`` is ``History.kept_epoch``, the epoch whose weights the run kept: the
    last epoch without an early-stopping criterion, the lowest validation loss with one (Keras's
    ``restore_best_weights``). A field called ``best_epoch`` was read as the validation
    minimum, which it is not (epoch 59 vs 22 in ``overfitting__digits__s0``)."""
    manifest = json.loads((CURVES / "manifest.json").read_text())
    assert len(manifest) >= 50
    differ = 0
    for run in manifest:
        assert "best_epoch" not in run, run["file"]
        history = History.load(CURVES / run["file"])
        lowest = history.epoch[best_index(history.val_loss) or 0]
        kept = lowest if run["config"]["early_stopping"] else history.epoch[-1]
        assert run["kept_epoch"] == kept, run["file"]
        differ += kept != lowest
    assert differ > 0  # the two are different numbers on this suite (25 of 50 runs)
