"""What the saved-model tests share (tests/test_saved_model.py, test_saved_format.py and
test_bias_free.py): a CSV with a text column, a study session trained on it, and an
ensemble of its networks saved as a study saves its recommendation. Plain functions: each
test module wraps them in its own module-scoped fixtures."""

from __future__ import annotations

import csv

import numpy as np
import torch

from nooverfit.config import RunConfig
from nooverfit.data import load_dataset
from nooverfit.data.split import split_dataset
from nooverfit.data.tensors import prepare
from nooverfit.saved_model import model_card, save_card
from nooverfit.studies import ensemble
from nooverfit.studies.session import StudySession


def write_csv(path, n=150, seed=0):
    """A CSV with a text column (with an empty category), two numeric columns and a
    text label; its rows, as dicts."""
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue", ""], n)
    height = rng.normal(size=n).round(3)
    weight = rng.exponential(size=n).round(3)
    label = np.where((colour == "red") ^ (height > 0.2), "yes", "no")
    lines = [f"{w},{c},{h},{t}" for c, h, w, t in zip(colour, height, weight, label, strict=True)]
    path.write_text("weight,colour,height,label\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return list(csv.DictReader(path.open(encoding="utf-8")))


def csv_table(tmp_path_factory):
    """:func:`write_csv`'s file under a fresh folder: its path, rows and data set."""
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    rows = write_csv(path)
    return path, rows, load_dataset(f"csv:{path}", target="label")


def trained_session(table):
    """A study session on :func:`csv_table`'s data with three variants, two input
    encodings; the session and the configurations."""
    _, _, dataset = table
    data = {0: prepare(dataset, split_dataset(dataset, seed=0), device="cpu")}
    session = StudySession(data, engine="sequential")
    base = RunConfig(width=16, epochs=8)
    configs = [base, base.replace(dropout=0.3), base.replace(inputs="ple")]
    session.train(configs)
    return session, configs


def save_ensemble(session, configs, out, weights=()):
    members = ensemble.Members(tuple(configs), ("a",) * len(configs), weights=weights)
    nets = ensemble.networks(session, members, 0)
    out.mkdir(exist_ok=True)
    torch.save(ensemble.assemble(session, members, 0).state_dict(), out / "best_model.pt")
    members = [(c, session.split_data(c)) for c in configs]
    save_card(
        model_card(session.dataset, members, name="ensemble", ensemble=True),
        out / "best_model.pt",
    )
    return nets
