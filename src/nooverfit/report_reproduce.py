"""How the report says to repeat a study: the ``nooverfit study`` command line and the
Python call that ran it (or, for a tuning report, the ``nooverfit train`` line of the tuned
configuration). Pure: a study result in, text out."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nooverfit.studies.result import StudyResult


def reproduce(result: StudyResult) -> dict[str, str]:
    """The command line (and the Python call) that repeats the study.

    The command the CLI ran is kept in ``extras["command"]``; else it is rebuilt from the
    settings. Either ends with the ``--threads`` the runs trained with, where recorded."""
    st = result.settings
    if result.extras.get("tuning"):
        return _train_command(result)
    args = {
        "--data": st.data,
        "--model": st.model if st.model != "custom" else None,
        "--width": st.width,
        "--depth": st.depth,
        "--train-per-class": st.train_per_class or 0,
        "--budget": st.budget if st.budget != "custom" else None,
        "--seeds": len(st.seeds) or None,
        "--engine": st.engine,
        "--test": st.test,
        "--val": st.val,
        "--classes": st.class_subset,
    }
    rebuilt = "nooverfit study " + " ".join(
        f"{k} {shlex.quote(str(v))}" for k, v in args.items() if v is not None
    )
    command = (result.extras.get("command") or rebuilt) + _threads(result)
    seeds = list(st.seeds)
    python = result.extras.get("call") or (
        f"nooverfit.study({st.data!r}, model={st.model!r}, "
        f"width={st.width}, depth={st.depth}, "
        f"train_per_class={st.train_per_class}, budget={st.budget!r}, "
        f"seeds={seeds!r}, engine={st.engine!r}, test={st.test!r}, "
        f"val={st.val!r})"
    )
    return {"command": command, "python": python}


def _train_command(result: StudyResult) -> dict[str, str]:
    """A tuning report: the ``nooverfit train`` line of the tuned configuration."""
    tuned = next(v for v in result.variants if v.stage == "tuned").config
    defaults = type(tuned)()
    flags = []
    for name in ("model", "width", "depth", "l2", "weight_decay", "dropout", "augment"):
        flags += _flag(name, getattr(tuned, name), getattr(defaults, name))
    if tuned.batchnorm:
        flags.append("--batchnorm")
    for name in ("optimizer", "lr", "batch_size", "epochs", "early_stopping", "seed"):
        flags += _flag(name, getattr(tuned, name), getattr(defaults, name))
    for name in ("train_per_class", "train_size"):
        flags += _flag(name, getattr(tuned, name), None)
    data = ["--data", shlex.quote(str(result.settings.data))]
    return {
        "command": " ".join(["nooverfit train", *data, *flags]) + _threads(result),
        "python": "nooverfit.RunConfig.from_dict(results['combinations'][0]['config'])",
    }


def _threads(result: StudyResult) -> str:
    """`` --threads N``: the CPU threads torch trained the runs with, where the result
    recorded them (``extras["threads"]``; "" in results written before). Another count sums
    in another order: the same command then ends a few 1e-8 away in loss. The command
    records what the user typed, never ``--threads``, a shared option."""
    threads = result.extras.get("threads")
    return f" --threads {threads}" if isinstance(threads, int) and threads > 0 else ""


def _flag(name: str, value: object, default: object) -> list[str]:
    if value is None or value == default:
        return []
    shown = f"{value:.6g}" if isinstance(value, float) else str(value)
    return [f"--{name.replace('_', '-')}", shlex.quote(shown)]
