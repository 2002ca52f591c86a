"""The real-run log fixtures of issue 15 (``bench/make_log_fixtures.py``): their names,
paths and labels, shared by the verdict tests and the metamorphic tests."""

import json
from pathlib import Path

from _optional import require
from nooverfit.history import History
from nooverfit.logs import read_log

REAL = Path(__file__).parent / "fixtures" / "logs" / "real"
LOGS = {
    "collapse_keras": "collapse_keras/training.log",
    "memorization_tensorboard": "memorization_tensorboard",
    "short_still_falling_keras": "short_still_falling_keras/training.log",
    "gap_flat_val_lightning": "gap_flat_val_lightning",
    "overfit_hf": "overfit_hf/trainer_state.json",
    "overfit_hf_checkpoint": "overfit_hf_checkpoint",
    "steps_epoch_tensorboard": "steps_epoch_tensorboard",
    "steps_only_tensorboard": "steps_only_tensorboard",
    "regression_mae_keras": "regression_mae_keras/training.log",
    "noisy_still_falling_keras": "noisy_still_falling_keras/training.log",
    "penalty_underfit_keras": "penalty_underfit_keras/training.log",
    "sparse_epoch_tensorboard": "sparse_epoch_tensorboard",
    "saturated_lightning": "saturated_lightning",
    "unstable_near_chance_tensorboard": "unstable_near_chance_tensorboard",
    "nan_frozen_accuracy_tensorboard": "nan_frozen_accuracy_tensorboard",
    "nan_after_first_eval_tensorboard": "nan_after_first_eval_tensorboard",
    "noisy_steps_overfit_tensorboard": "noisy_steps_overfit_tensorboard",
    # design-part runs of the log corpus (bench/make_log_fixtures.py --corpus)
    "once_logged_train_good_fit_hf": "once_logged_train_good_fit_hf/trainer_state.json",
    "once_logged_train_good_fit_tensorboard": "once_logged_train_good_fit_tensorboard",
    "saturated_at_chance_hf": "saturated_at_chance_hf/trainer_state.json",
    "gap_from_loss_bound_hf": "gap_from_loss_bound_hf",
    "noisy_batches_overfit_tensorboard": "noisy_batches_overfit_tensorboard",
    "above_half_accuracy_overfit_tensorboard": "above_half_accuracy_overfit_tensorboard",
    "recovering_blow_up_hf": "recovering_blow_up_hf/trainer_state.json",
    "recovering_blow_up_tensorboard": "recovering_blow_up_tensorboard",
    "memorized_from_first_log_tensorboard": "memorized_from_first_log_tensorboard",
    "memorized_unlearned_tensorboard": "memorized_unlearned_tensorboard",
    "frozen_after_blow_up_tensorboard": "frozen_after_blow_up_tensorboard",
    "fitted_classifier_far_below_validation_tensorboard": (
        "fitted_classifier_far_below_validation_tensorboard"
    ),
    "climbing_after_memorizing_hf": "climbing_after_memorizing_hf/trainer_state.json",
    "good_fit_minimum_before_end_keras": "good_fit_minimum_before_end_keras/training.log",
    "good_fit_fell_early_hf": "good_fit_fell_early_hf",
    "gap_from_loss_bound_tensorboard": "gap_from_loss_bound_tensorboard",
    "thrown_out_keras": "thrown_out_keras/training.log",
    "thrown_out_logged_once_hf": "thrown_out_logged_once_hf",
    "thrown_out_short_keras": "thrown_out_short_keras/training.log",
    "fitting_below_guessing_overfit_tensorboard": "fitting_below_guessing_overfit_tensorboard",
    "mae_bouncing_hf": "mae_bouncing_hf",
    # fresh8 / fresh9 runs (tuned on after being scored once, i45)
    "dead_outputs_hf": "dead_outputs_hf",
    "dead_outputs_short_hf": "dead_outputs_short_hf",
    "mae_thrashing_keras": "mae_thrashing_keras/training.log",
    "thrown_around_short_lightning": "thrown_around_short_lightning",
    "thrown_around_lightning": "thrown_around_lightning",
    # i50 (design, design2)
    "penalty_underfit_mae_keras": "penalty_underfit_mae_keras/training.log",
    "jumping_unfitted_hf": "jumping_unfitted_hf/trainer_state.json",
    # s21 (its own design batch)
    "scaled_memorizing_overfit_tensorboard": "scaled_memorizing_overfit_tensorboard",
    "imbalanced_memorizing_overfit_tensorboard": "imbalanced_memorizing_overfit_tensorboard",
}


#: The logs written as TensorBoard event files: read only with the tensorboard extra.
TENSORBOARD = frozenset(
    name for name, path in LOGS.items() if any((REAL / path).glob("**/events.out.tfevents*"))
)


def load(name: str) -> History:
    """The log ``name`` read; the calling test (or module) skips when it is an event file
    and tensorboard is not installed."""
    if name in TENSORBOARD:
        require("tensorboard")
    return read_log(REAL / LOGS[name])


def label(name: str) -> dict:
    return json.loads((REAL / f"{name}.label.json").read_text())
