"""A trial or a worker that fails: one line each, the study's finished trials kept."""

import logging

import pytest
import typer
from optuna.trial import TrialState

from _tune import tiny_spec, trials_of
from nooverfit.cli._app import guard
from nooverfit.errors import BadInput, Reported
from nooverfit.tune import workers
from nooverfit.tune.objective import Objective

#: what torch's CPU allocator raises for a network too large for the machine
CPU_OOM = "DefaultCPUAllocator: can't allocate memory: you tried to allocate 68719476736 bytes."


@pytest.fixture
def optuna_records():
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger("optuna").addHandler(handler)
    yield records
    logging.getLogger("optuna").removeHandler(handler)


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_trial_out_of_memory_is_one_line_naming_it_and_what_to_shrink(
    tmp_path, monkeypatch, optuna_records
):
    """A search space too large for the machine (--max-width 65536) failed in its trial
    with Optuna's warning and traceback, then the same traceback again from the command."""

    def too_large(self, trial):
        trial.suggest_int("width", 16, 16)
        trial.suggest_int("depth", 1, 1)
        raise RuntimeError(CPU_OOM)

    monkeypatch.setattr(Objective, "__call__", too_large)
    spec = tiny_spec(f"sqlite:///{tmp_path}/t.db", trials=2)
    with pytest.raises(BadInput) as err:
        workers.work(spec)
    assert str(err.value) == (
        f"trial 0 (width 16, depth 1) ran out of memory: {CPU_OOM}; expected a search that "
        "fits the device: a smaller --max-width, --max-depth or --batch-size (the study's "
        "finished trials are kept)"
    )
    assert [t.state for t in trials_of(spec)] == [TrialState.FAIL]
    # Optuna's warning is kept, in one line: the error is told by the caller
    told = [r for r in optuna_records if "because of the following error" in r.getMessage()]
    assert len(told) == 1 and told[0].exc_info is None and CPU_OOM in told[0].getMessage()


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_trial_failing_of_a_bug_raises_it_with_one_traceback(tmp_path, monkeypatch):
    def bug(self, trial):
        raise KeyError("a bug")

    monkeypatch.setattr(Objective, "__call__", bug)
    with pytest.raises(KeyError, match="a bug"):
        workers.work(tiny_spec(f"sqlite:///{tmp_path}/t.db", trials=1))


def test_a_worker_process_tells_bad_input_in_one_line_and_exits_2(monkeypatch, caplog):
    def refused(spec, *, worker):
        raise BadInput("trial 3 ran out of memory: ...")

    monkeypatch.setattr(workers, "work", refused)
    with pytest.raises(SystemExit) as stop:
        workers._worker_main(tiny_spec("sqlite:///unused.db"), 1)
    assert stop.value.code == workers.BAD_INPUT_EXIT == 2
    assert [r.getMessage() for r in caplog.records] == [
        "tune worker 1: trial 3 ran out of memory: ..."
    ]


class _Ended:
    def __init__(self, code: int) -> None:
        self.exitcode = code

    def join(self) -> None:
        pass


@pytest.mark.parametrize(
    ("codes", "raised", "exit_code"), [([2, 2], BadInput, 2), ([1, 2], Reported, 1)]
)
def test_every_worker_failing_is_one_line_not_a_second_traceback(
    monkeypatch, capsys, codes, raised, exit_code
):
    """``--workers 2`` whose workers all failed printed each worker's traceback, then the
    command's own ("RuntimeError: all 2 tuning workers failed"), which said only where."""
    monkeypatch.setattr(workers, "start_workers", lambda *a, **k: [_Ended(c) for c in codes])
    spec = tiny_spec("sqlite:///unused.db")
    with pytest.raises(raised, match=r"^all 2 tuning workers failed \(exit codes"):
        workers.run_workers(spec, workers=2)

    def tune() -> None:
        workers.run_workers(spec, workers=2)

    with pytest.raises(typer.Exit) as stop:
        guard(tune)()
    assert stop.value.exit_code == exit_code
    err = capsys.readouterr().err
    assert err.startswith("error: all 2 tuning workers failed") and len(err.splitlines()) == 1
    assert "each one's error is above" in err


@pytest.mark.parametrize("error", [FileNotFoundError, NotADirectoryError, IsADirectoryError])
def test_a_worker_tells_a_missing_file_as_the_command_does(monkeypatch, caplog, error):
    """The worker's bad input is the command's (``errors.BAD_INPUT``): a missing file is
    one line and exit 2 there too, not a traceback and exit 1 (i153's review)."""

    def missing(spec, *, worker):
        raise error("data/train.npz does not exist")

    monkeypatch.setattr(workers, "work", missing)
    with pytest.raises(SystemExit) as stop:
        workers._worker_main(tiny_spec("sqlite:///unused.db"), 1)
    assert stop.value.code == 2
    assert [r.getMessage() for r in caplog.records] == [
        "tune worker 1: data/train.npz does not exist"
    ]


def test_out_of_memory_is_read_on_a_torch_without_its_generic_error(monkeypatch):
    """torch before 2.5 has no ``torch.OutOfMemoryError`` (pyproject allows 2.1): the
    check falls back to CUDA's and leaves any other error alone."""
    import torch

    from nooverfit.tune.objective import out_of_memory

    monkeypatch.delattr(torch, "OutOfMemoryError", raising=False)
    assert out_of_memory(RuntimeError(CPU_OOM))
    assert out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory"))
    assert not out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
