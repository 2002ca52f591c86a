"""``nooverfit tune``: Optuna search over the regularization space, on many workers."""

from __future__ import annotations

import datetime
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from nooverfit._words import counted
from nooverfit.cli import _options as opt
from nooverfit.cli._app import app, console, guard
from nooverfit.config import RunConfig

if TYPE_CHECKING:
    from nooverfit.tune import TuneResult, TuneSpec


@app.command()
@guard
def tune(
    data: opt.Data = "digits",
    target: opt.Target = None,
    ignore: opt.Ignore = None,
    groups: opt.Groups = None,
    split_by_group: opt.SplitByGroup = False,
    data_dir: opt.DataDir = "data",
    test: opt.TestSize = 0.25,
    val: opt.ValSize = 0.2,
    trials: Annotated[
        int, typer.Option(help="Finished trials the study aims for, all workers together.")
    ] = 20,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds after which no new trial starts.")
    ] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            help="Study database: sqlite:///PATH or postgresql://USER@HOST:PORT/DB "
            "(default: sqlite:///OUT/tune.db)."
        ),
    ] = None,
    study_name: Annotated[str, typer.Option(help="Study shared by all workers.")] = "nooverfit",
    workers: Annotated[
        int, typer.Option(help="Local worker processes (one torch thread each).")
    ] = 1,
    model: Annotated[str, typer.Option(help="Model family: mlp or cnn.")] = "mlp",
    epochs: Annotated[int, typer.Option(help="Maximum epochs per trial.")] = 100,
    batch_size: Annotated[int, typer.Option(help="Mini-batch size.")] = 32,
    train_per_class: Annotated[
        int | None, typer.Option(help="Training images per class (small-data runs).")
    ] = None,
    max_width: Annotated[int, typer.Option(help="Largest width searched (smallest: 32).")] = 512,
    max_depth: Annotated[int, typer.Option(help="Largest depth searched (smallest: 1).")] = 3,
    pruner: Annotated[str, typer.Option(help="median, halving or none.")] = "median",
    heartbeat: Annotated[int, typer.Option(help="Seconds between trial heartbeats.")] = 10,
    seed: opt.Seed = 0,
    device: opt.Device = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("runs/tune"),
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace another study's results in --out."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print best.json's content only.")
    ] = False,
) -> None:
    """Search L2, dropout, batch norm, augmentation, width/depth, stopping and lr with Optuna.

    Run the same command on every machine (same --storage and --study-name) to add workers;
    run it again to resume. Writes best.json, best_history.csv, plots/history.png,
    plots/importance.png and report/ (the best configuration against its baseline); an
    --out holding another study's results is refused unless --overwrite, one holding a
    nooverfit study's always.
    """
    from nooverfit._io import check_output, refuse_a_study, refuse_a_train_run
    from nooverfit.tune import Space, TuneSpec, check_out, default_storage
    from nooverfit.tune import tune as run_tune
    from nooverfit.tune.storage import sqlite_file

    if workers < 1:
        raise ValueError(f"--workers must be an integer >= 1, got {workers}")
    spec = TuneSpec(
        storage=storage or default_storage(out),
        study_name=study_name,
        trials=trials,
        timeout=timeout,
        data=data,
        # --ignore and the group options only where given, as a study's identity holds
        # them: a tuning started before they existed resumes with the same identity
        data_options={
            "target": target,
            "data_dir": data_dir,
            **({"ignore": ignore} if ignore else {}),
            **opt.group_options(groups, split_by_group),
        },
        test=int(test) if test >= 1 else test,
        val=int(val) if val >= 1 else val,
        seed=seed,
        device=device,
        base=RunConfig(
            model=model,
            epochs=epochs,
            batch_size=batch_size,
            train_per_class=train_per_class,
            seed=seed,
        ),
        space=Space(width=(min(32, max_width), max_width), depth=(1, max_depth)),
        pruner=pruner,
        heartbeat_interval=heartbeat,
    )
    # the tuning's plots/history.png among a study's made the study's rerun refuse its folder
    expected = "an earlier tuning's (one command's results to a folder)"
    refuse_a_study(out, expected=expected)
    refuse_a_train_run(out, expected=expected)  # predict would find its model and ours
    check_out(out, spec, overwrite=overwrite)  # before the banner and any trial
    if (database := sqlite_file(spec.storage)) is not None:
        # as --out is checked: a database under a file raised FileExistsError in a worker
        check_output(database, folder=False, option="--storage")
    if as_json:
        console.quiet = True
    held = finished_trials(spec)
    banner = f"nooverfit tune: study {study_name!r} with {workers} local worker(s)"
    with TrialLines(spec, banner=banner):
        result = run_tune(spec, workers=workers, out=out, overwrite=overwrite)
    if held >= trials:  # the workers stopped before asking for a trial: say why
        console.print(
            f"tune: study {study_name!r} already holds {counted(held, 'finished trial')} "
            f"(--trials {trials}), so none were run; --trials counts the study's total, not "
            f"this run's: pass --trials {held + 1} or more to run more",
            highlight=False,
        )
    if as_json:
        from nooverfit._io import _jsonable

        typer.echo(json.dumps(_jsonable(result.to_dict()), indent=2))
        return
    _summary(result, out)


def finished_trials(spec: TuneSpec) -> int:
    """The finished (complete or pruned) trials the study holds, as the workers count them
    against ``--trials`` (:func:`nooverfit.tune.count_trials`); 0 where it does not exist
    yet. Read only: no database, table or study is created."""
    import optuna

    from nooverfit.tune.storage import count_trials, sqlite_file, storage_url

    sqlite = sqlite_file(spec.storage)
    if spec.storage.startswith("sqlite:///") and not (sqlite and sqlite.is_file()):
        return 0  # (before storage_url, which makes a SQLite file's folder)
    url = storage_url(spec.storage)
    try:
        storage = optuna.storages.RDBStorage(
            url, skip_table_creation=True, skip_compatibility_check=True
        )
        study = optuna.load_study(study_name=spec.study_name, storage=storage)
    except Exception:  # no such study, or no tables yet
        return 0
    return count_trials(study).finished


class TrialLines:
    """Prints one plain line per finished trial, whichever worker (or machine) ran it,
    by polling the study's storage from a thread: a log shows the search is alive."""

    def __init__(self, spec: Any, *, banner: str = "", every: float = 1.0) -> None:
        # The banner waits for the study to exist in storage: bad input (an unknown data
        # set, say) fails before that and prints its one-line error alone.
        self.spec, self.banner, self.every = spec, banner, every
        self.failed = False
        self.seen: set[int] = set()
        # trials finished before this command started belong to an earlier run of the
        # study (a resume): counted once, never printed as new (Optuna stores local times)
        self.started = datetime.datetime.now()
        self.resumed = self.announced = False
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="tune-lines", daemon=True)

    def __enter__(self) -> TrialLines:
        if not console.quiet:
            self.thread.start()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.failed = exc_type is not None
        if self.thread.is_alive():
            self.stop.set()
            self.thread.join()

    def _run(self) -> None:
        import optuna

        study = None
        while True:
            stopping = self.stop.wait(self.every)
            try:
                if study is None:
                    # Read only: never create the tables while the workers create them.
                    storage = optuna.storages.RDBStorage(
                        self.spec.storage, skip_table_creation=True, skip_compatibility_check=True
                    )
                    study = optuna.load_study(study_name=self.spec.study_name, storage=storage)
                # Nothing is printed before a trial of this run starts: a resumed study
                # refused for other settings prints its one-line error alone.
                if not self.failed and (self.announced or self._started_here(study)):
                    if self.banner and not self.announced:
                        console.print(self.banner, highlight=False)
                    self.announced = True
                    self._print_new(study)
            except Exception:  # not created yet, or busy: try again at the next poll
                pass
            if stopping:
                return

    def _started_here(self, study: Any) -> bool:
        return any(
            t.datetime_start is not None and t.datetime_start >= self.started
            for t in study.get_trials(deepcopy=False)
        )

    def _print_new(self, study: Any) -> None:
        finished = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()]
        earlier = [
            t for t in finished if t.datetime_complete and t.datetime_complete < self.started
        ]
        if earlier and not self.resumed:
            console.print(
                f"tune: resuming study {self.spec.study_name!r}: {counted(len(earlier), 'trial')} "
                "finished before",
                highlight=False,
            )
        self.resumed = True
        self.seen.update(t.number for t in earlier)
        # each line gives the counts as they stood when its trial finished, in that order
        order = sorted(finished, key=lambda t: (t.datetime_complete or self.started, t.number))
        done, values = 0, []
        for t in order:
            complete = t.state.name == "COMPLETE" and t.value is not None
            done += t.state.name in ("COMPLETE", "PRUNED")
            values += [t.value] if complete else []
            if t.number in self.seen or t.user_attrs.get("over_budget"):
                continue
            self.seen.add(t.number)
            value = f" val accuracy {100 * t.value:.1f}%" if complete else ""
            best = f"; best so far {100 * max(values):.1f}%" if values else ""
            console.print(
                f"tune: trial {t.number} {t.state.name.lower()}{value}; "
                f"{done}/{self.spec.trials} finished{best}",
                highlight=False,
            )


def _summary(result: TuneResult, out: Path) -> None:
    from nooverfit.tune.report import tuning_summary

    table = Table(title=f"best of study {result.study_name!r}: trial {result.best_number}")
    table.add_column("parameter")
    table.add_column("value", justify="right")
    table.add_column("importance", justify="right")
    config = result.config.to_dict()
    for name in (
        "l2",
        "dropout",
        "batchnorm",
        "augment",
        "width",
        "depth",
        "early_stopping",
        "lr",
    ):
        value = config[name]
        shown = f"{value:.3g}" if isinstance(value, float) else str(value)
        share = result.importances.get(name)
        table.add_row(name, shown, "" if share is None else f"{share:.2f}")
    console.print(table)
    console.print(
        f"trials: {result.count('COMPLETE')} complete, {result.count('PRUNED')} pruned, "
        f"{result.count('FAIL')} failed; val accuracy {100 * result.best_value:.1f}%, "
        f"test accuracy {100 * result.test.accuracy:.1f}% (tested once); "
        f"wrote {out}/best.json, plots/, report/"
    )
    # the report's caveat, where the table's importances rest on few trials
    if caveat := tuning_summary(result)["importance_warning"]:
        console.print(caveat, highlight=False)
    if kept := _kept_baseline(out):
        console.print(kept, highlight=False, soft_wrap=True)


def _kept_baseline(out: Path) -> str:
    """The line saying that the report recommends the unregularized baseline, where the
    tuned configuration, retrained beside it, did not beat it on validation ("" where it
    did, or without a report): the summary above gives the tuned configuration's scores
    only, which read as the answer."""
    from nooverfit.studies.results_file import read_results

    path = out / "report" / "results.json"
    if not path.is_file():
        return ""
    saved = read_results(path)
    if saved.get("extras", {}).get("tuning", {}).get("beat_baseline", True):
        return ""
    val = saved["baseline"]["score"]["val_accuracy"]
    test = saved["test"]["baseline"]["accuracy"]
    return (
        f"the baseline (no regularization), retrained on the same split, scored {100 * val:.1f}% "
        "validation accuracy, which the tuned configuration did not beat: the report "
        f"({out}/report/report.html) recommends keeping it (test accuracy {100 * test:.1f}%)"
    )
