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


def test_a_header_in_decomposed_unicode_matches_the_names_typed(tmp_path):
    """s29 i155: a header written decomposed (NFD: ``e`` and a combining accent, as macOS
    and some exporters write it) matched no name typed (NFC), while the message listed
    one that looked the same: "no column 'étiquette'; expected ... one of: ..., étiquette"."""
    import unicodedata

    import numpy as np

    from nooverfit.data import load_dataset
    from nooverfit.data.fitted import Column, Columns
    from nooverfit.raw_input import read_rows

    header = unicodedata.normalize("NFD", "größe,température,étiquette")
    assert header != "größe,température,étiquette"
    rows = "".join(f"{i % 7 / 2},{i % 3},{'ab'[i % 2]}\n" for i in range(30))
    path = tmp_path / "nfd.csv"
    path.write_text(f"{header}\n{rows}", encoding="utf-8")
    data = load_dataset(f"csv:{path}", target="étiquette", ignore="température")
    assert [c.name for c in data.columns.features] == ["größe"]
    # a saved model's names (here as older nooverfit saved an NFD header) read it too
    saved = Columns((Column(unicodedata.normalize("NFD", "größe")),), "étiquette")
    read = read_rows(path, columns=saved, raw_shape=(1,), kind="tabular", id_column="température")
    np.testing.assert_array_equal(read.x[:, 0], [i % 7 / 2 for i in range(30)])
    assert read.ids == tuple(str(i % 3) for i in range(30))
    assert read.labels == tuple("ab"[i % 2] for i in range(30))
