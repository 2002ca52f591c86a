"""Identical feature rows (:mod:`nooverfit.repeats`): counts and the accuracy ceiling,
checked by hand, and the audit's warnings on a coarse CSV."""

import json

import numpy as np
from typer.testing import CliRunner

from nooverfit.audit import sample_hashes
from nooverfit.cli import app
from nooverfit.data import load_dataset
from nooverfit.feature_columns import feature_columns
from nooverfit.repeats import repeat_warnings, repeats


def test_counts_and_ceiling_by_hand():
    # rows a, a, a (labels 0, 0, 1), b, b (1, 1), c (0): 3 distinct of 6
    r = repeats(["a", "a", "a", "b", "b", "c"], np.array([0, 0, 1, 1, 1, 0]))
    assert (r.samples, r.distinct, r.repeated, r.conflicting) == (6, 3, 5, 3)
    # majority of each distinct row: a 2 of 3, b 2 of 2, c 1 of 1 -> 5 of 6
    assert r.ceiling == 5 / 6
    assert r.coarse  # 3 distinct < 0.9 * 6
    (line,) = repeat_warnings(r)
    assert line.startswith("3 of the 6 samples share all their features with a sample of")
    assert "above 83.3% on this data set" in line


def test_distinct_rows_bound_nothing():
    r = repeats(["a", "b", "c"], np.array([0, 1, 0]))
    assert (r.distinct, r.repeated, r.conflicting, r.ceiling) == (3, 0, 0, 1.0)
    assert not r.coarse and repeat_warnings(r) == []


def _coarse_csv(tmp_path):
    """Two coarse columns (3 x 2 values), labels that a row's values decide only in part."""
    rng = np.random.default_rng(0)
    lines = ["colour,size,label"]
    for _ in range(300):
        colour, size = rng.choice(["red", "green", "blue"]), rng.choice(["s", "l"])
        odds = 0.8 if colour == "red" else 0.3
        lines.append(f"{colour},{size},{'yes' if rng.random() < odds else 'no'}")
    path = tmp_path / "coarse.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, lines[1:]


def test_audit_of_a_coarse_csv_names_the_ceiling_and_the_twins_nature(tmp_path):
    path, rows = _coarse_csv(tmp_path)
    result = CliRunner().invoke(app, ["audit", f"csv:{path}", "--target", "label", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # by hand from the rows: 6 distinct (colour, size), each row's majority label
    groups: dict[str, list[str]] = {}
    for row in rows:
        key, _, label = row.rpartition(",")
        groups.setdefault(key, []).append(label)
    best = sum(max(g.count("yes"), g.count("no")) for g in groups.values())
    assert data["repeats"]["distinct"] == len(groups) == 6
    assert data["repeats"]["ceiling"] == best / 300
    warnings = " ".join(data["warnings"])
    assert f"no model of these features can score above {100 * best / 300:.1f}%" in warnings
    assert "only 6 of the 300 rows are distinct" in warnings


def test_the_studys_ceiling_sentence_reads_its_audit():
    from dataclasses import asdict

    from nooverfit.repeats import ceiling_sentence

    r = repeats(["a", "a", "a", "b", "b", "c"], np.array([0, 0, 1, 1, 1, 0]))
    assert ceiling_sentence({"repeats": asdict(r)}) == (
        "Ceiling: 3 of the 6 samples share all their features with a sample of another label, so "
        "no model of these features scores above 83.3% on this data set"
    )
    clean = repeats(["a", "b"], np.array([0, 1]))
    # no conflicts, an audit written before repeats, no audit: nothing to say
    assert ceiling_sentence({"repeats": asdict(clean)}) == ""
    assert ceiling_sentence({"warnings": []}) == "" and ceiling_sentence(None) == ""


def test_copies_hold_a_value_no_other_row_has():
    # rows 0-1 copies on a fine column (0.123 nowhere else); rows 2-3 twins on values
    # others share (x 1.0 also on row 4, c 'a' also on row 5); rows 4, 5 alone
    x = np.array([0.123, 0.123, 1.0, 1.0, 1.0, 2.0])
    c = np.array([[1, 0], [1, 0], [1, 0], [1, 0], [0, 1], [1, 0]])  # one-hot 'a', 'b'
    digests = ["p", "p", "q", "q", "r", "s"]
    r = repeats(digests, np.zeros(6, int), columns=[x, c])
    assert (r.repeated, r.copies) == (4, 2)
    assert not r.copied  # 2 of 4: not most
    r = repeats([*digests[:2], "t", "u", "r", "s"], np.zeros(6, int), columns=[x, c])
    assert (r.repeated, r.copies, r.copied) == (2, 2, True)
    assert not r.coarse  # 5 distinct of 6 is under 90 %, but the twins are copies


def _copied_csv(tmp_path):
    """120 rows of 3-decimal features and a 3-category column, then 30 of them again."""
    rng = np.random.default_rng(0)
    rows = [
        f"{rng.normal():.3f},{rng.normal():.3f},{rng.choice(['a', 'b', 'c'])},"
        f"{rng.choice(['pos', 'neg'])}"
        for _ in range(120)
    ]
    path = tmp_path / "copied.csv"
    path.write_text("\n".join(["x1,x2,cat,y", *rows, *rows[:30]]) + "\n")
    return path


def test_audit_names_copies_not_coarse_features(tmp_path):
    path = _copied_csv(tmp_path)
    result = CliRunner().invoke(app, ["audit", f"csv:{path}", "--target", "y", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # 30 copies: 60 repeated rows, each holding its x1 (3 decimals) with its twin alone
    found = data["repeats"]
    assert (found["distinct"], found["repeated"], found["copies"]) == (120, 60, 60)
    leaks = [w for w in data["warnings"] if w.startswith("leakage")]
    assert leaks and all("60 of the 60 repeated rows share with their twins" in w for w in leaks)
    assert not any("coarse" in w for w in data["warnings"])


def test_a_coarse_csv_has_no_copies(tmp_path):
    path, _ = _coarse_csv(tmp_path)
    ds = load_dataset(f"csv:{path}", target="label")
    columns = [c.values for c in feature_columns(ds)]
    r = repeats(sample_hashes(ds.x), ds.y, columns=columns)
    # 6 (colour, size) rows; every colour and size is also another row's: none alone
    assert (r.distinct, r.copies, r.coarse) == (6, 0, True)
