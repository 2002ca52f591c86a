"""Raw rows for a saved model's predictions: errors word their counts in the singular."""

from __future__ import annotations

import pytest

from nooverfit.errors import BadInput
from nooverfit.raw_input import raw_features


@pytest.mark.parametrize(
    ("header", "raw_shape", "message"),
    [
        ("a", (2,), "has 1 column; expected the 2 numeric feature columns the"),
        ("a,b", (1,), "has 2 columns; expected the 1 numeric feature column the"),
    ],
)
def test_raw_features_csv_column_count_error_is_singular_for_one(
    tmp_path, header, raw_shape, message
):
    path = tmp_path / "rows.csv"
    path.write_text(f"{header}\n" + ",".join("1" for _ in header.split(",")) + "\n")
    with pytest.raises(BadInput, match=message):
        raw_features(path, columns=None, raw_shape=raw_shape, kind="tabular")
