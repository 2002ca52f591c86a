"""Helpers of the tuning tests: a tiny search on digits and the trials a study holds."""

import optuna

from nooverfit.config import RunConfig
from nooverfit.tune import Space, TuneSpec

TINY = Space(width=(16, 16), depth=(1, 1))


def tiny_spec(storage: str, **changes) -> TuneSpec:
    """Digits, width 16, a few epochs: a trial takes a fraction of a second."""
    options = {
        "storage": storage,
        "trials": 4,
        "base": RunConfig(epochs=5, train_per_class=10),
        "space": TINY,
        "heartbeat_interval": 1,
        "grace_period": 3,
        "poll": 0.2,
    }
    return TuneSpec(**{**options, **changes})


def trials_of(spec: TuneSpec) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=spec.study_name, storage=spec.storage).get_trials()
