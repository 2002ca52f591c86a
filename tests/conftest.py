import importlib.util
import os
from pathlib import Path

import pytest
import torch
from hypothesis import settings

from nooverfit.studies import plan

# Property tests draw the same examples on every run, so a red CI is reproducible and a
# green one stays green; HYPOTHESIS_PROFILE=explore draws new ones on each run, to search for
# failures before they reach the fixed draw.
settings.register_profile("fixed", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fixed"))

# Small tensors: one thread avoids oversubscription on 2-core machines.
torch.set_num_threads(1)

TINY = plan.StudyBudget(
    epochs=4,
    l2=(1e-3, 1e-1),
    dropout=(0.3,),
    widths=(0.5,),
    augment=(1.0,),
    stopping=("patience:2",),
    sizes=(5, 10),
)


@pytest.fixture(autouse=True)
def _loud_console():
    """Each test starts with the CLI's console printing: ``--quiet`` and ``--json`` set it
    quiet for the rest of the process (one command per process outside the tests), and a
    test that reads what the console printed after one of those caught nothing (i144: a
    classic-models caption test failed when run after ``test_cli_study.py``)."""
    from nooverfit.cli._app import console

    console.quiet = False
    yield
    console.quiet = False


@pytest.fixture(scope="module")
def data():
    """The digits split of seed 0 on the CPU, one per test module, read on one thread
    (tiny matrices: more threads only add overhead)."""
    from nooverfit.data import load_split

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield load_split("digits", seed=0, device="cpu")
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory):
    """A two-seed study of a width-16 MLP on digits, written to disk once per session."""
    from nooverfit.studies import study
    from nooverfit.study_files import write_study

    out = tmp_path_factory.mktemp("study")
    result = study(
        "digits", width=16, train_per_class=10, budget=TINY, seeds=2, out=out, engine="sequential"
    )
    write_study(result, out)
    return result, out


def bench_module(name: str):
    """A script of ``bench/`` imported as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(
        name, Path(__file__).parents[1] / "bench" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pytest_collection_modifyitems(config, items):
    """Skip each test case parametrized by a TensorBoard real-run log when tensorboard is
    not installed (tests that read such a log through ``_real_logs.load`` skip there)."""
    from _optional import installed, reason

    if installed("tensorboard"):
        return
    from _real_logs import TENSORBOARD

    skip = pytest.mark.skip(reason=reason("tensorboard"))
    for item in items:
        params = getattr(item, "callspec", None)
        if params is not None and any(
            isinstance(v, str) and v in TENSORBOARD for v in params.params.values()
        ):
            item.add_marker(skip)


def toy_tabular_session(random_state: int):
    """A fused-engine study session on a 240-row, 5-feature ``make_classification`` set
    (seeds 0 and 1, CPU, one torch thread while it lives): a generator for a module-scoped
    fixture (``yield from toy_tabular_session(k)``)."""
    import numpy as np
    from sklearn.datasets import make_classification

    from nooverfit.data import Dataset
    from nooverfit.data.split import split_dataset
    from nooverfit.data.tensors import prepare
    from nooverfit.studies.session import StudySession

    x, y = make_classification(
        n_samples=240, n_features=5, n_informative=3, random_state=random_state
    )
    dataset = Dataset.from_arrays(x.astype(np.float32), y, name="toy", kind="tabular")
    data = {s: prepare(dataset, split_dataset(dataset, seed=s), device="cpu") for s in (0, 1)}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield StudySession(data, engine="fused")
    torch.set_num_threads(threads)
