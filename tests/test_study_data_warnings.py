"""What the loader says as a study reads its CSV reaches results.json and the report."""

from __future__ import annotations

import json

import numpy as np
from markupsafe import escape

from conftest import TINY
from nooverfit.studies.run import study
from nooverfit.study_files import write_study


def _write_csv(path):
    """120 rows: two numeric features, a colour typed 'Red' and 'red', a column renumbering
    the label, and a label typed 'Yes' and 'yes'."""
    rng = np.random.default_rng(0)
    label = rng.choice(["yes", "no"], 120)
    label[:20] = "Yes"
    colour = rng.choice(["Red", "red", "blue"], 120)
    copy = {"yes": 1, "no": 0, "Yes": 2}  # the label, renumbered
    a, b = rng.normal(size=(2, 120))
    rows = [f"{a[i]:.3f},{b[i]:.3f},{colour[i]},{copy[y]},{y}" for i, y in enumerate(label)]
    path.write_text("a,b,colour,copy,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_study_loader_warnings_reach_results_json_and_report_once(tmp_path, caplog):
    path = _write_csv(tmp_path / "d.csv")
    out = tmp_path / "out"
    with caplog.at_level("WARNING", logger="nooverfit"):
        result = study(
            f"csv:{path}",
            target="label",
            width=16,
            train_per_class=5,
            budget=TINY,
            seeds=1,
            engine="sequential",
        )
    write_study(result, out)
    saved = json.loads((out / "results.json").read_text())["extras"]
    said = saved["data_warnings"]
    assert [w.split(":")[0] for w in said] == [
        f"column 'colour' of {path} writes a category in ways that differ only in case or spacing",
        f"column 'label' of {path} writes a label in ways that differ only in case or spacing",
    ]
    assert said == [r.getMessage() for r in caplog.records if r.getMessage() in said]  # verbatim
    # the column copying the label: logged by the loader, kept as the audit's line only
    assert any("'copy'" in r.getMessage() for r in caplog.records)
    assert any("'copy'" in w for w in saved["audit"]["warnings"])
    assert not any("'copy'" in w for w in said)
    report = (out / "report.html").read_text()
    for w in said:
        assert report.count(str(escape(w))) == 1
