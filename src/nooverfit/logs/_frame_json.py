"""`frame_lists`: a data frame saved by pandas's ``DataFrame.to_json`` (its default
layout, ``{"loss": {"0": 2.3, "1": 1.9}}``, and the ``index``, ``split`` and ``table``
ones) as the object of lists that Keras's ``history.history`` is, so that
``pd.DataFrame(history.history).to_json(path)`` reads as ``json.dump(history.history)``
does. The ``records`` layout is a list of objects, read as it is."""

from __future__ import annotations

from collections.abc import Mapping


def frame_lists(data: object) -> dict[str, list[object]] | None:
    """``data`` (parsed JSON) as ``{column: [value per row]}`` where it is a pandas layout,
    rows in the order of their labels, with an ``epoch`` column of the labels where they
    are not ``0, 1, ..., n - 1`` (a frame indexed by epoch, or every fifth one); ``None``
    for any other JSON. Missing cells are ``None``."""
    if not isinstance(data, Mapping) or not data:
        return None
    if isinstance(data.get("schema"), Mapping) and isinstance(data.get("data"), list):
        records = data["data"]  # orient="table": records with their row label, "index"
        if not all(isinstance(r, Mapping) for r in records):
            return None
        names = [str(k) for k in dict.fromkeys(k for r in records for k in r) if k != "index"]
        labels = _labels([r.get("index", i) for i, r in enumerate(records)])
        if labels is None:
            return None
        return _with_epochs({n: [r.get(n) for r in records] for n in names}, labels)
    if isinstance(data.get("columns"), list) and isinstance(data.get("data"), list):
        columns, rows = data["columns"], data["data"]  # orient="split"
        if not all(isinstance(r, list) and len(r) == len(columns) for r in rows):
            return None
        index = data.get("index", list(range(len(rows))))
        labels = _labels(index) if isinstance(index, list) else None
        if labels is None or len(labels) != len(rows):
            return None
        out = {str(c): [r[j] for r in rows] for j, c in enumerate(columns)}
        return _with_epochs(out, labels)
    inner = list(data.values())
    if not all(isinstance(v, Mapping) and v for v in inner):
        return None
    outer = _labels(list(data))
    if outer is not None:  # orient="index": {row: {column: value}}
        names = [str(k) for k in dict.fromkeys(c for row in inner for c in row)]
        order = sorted(range(len(inner)), key=outer.__getitem__)
        out = {n: [inner[i].get(n) for i in order] for n in names}
        return _with_epochs(out, sorted(outer))
    per_column = [_labels(list(v)) for v in inner]
    if any(labels is None for labels in per_column):
        return None
    # orient="columns" (the default): {column: {row: value}}
    rows = sorted({r for labels in per_column for r in labels or ()})
    out = {}
    for (name, cells), labels in zip(data.items(), per_column, strict=True):
        by_row = dict(zip(labels or (), cells.values(), strict=True))
        out[str(name)] = [by_row.get(r) for r in rows]
    return _with_epochs(out, rows)


def _labels(keys: list[object]) -> list[int] | None:
    """Row labels as whole numbers (pandas writes them as text: ``"0"``), or ``None``
    where one is not."""
    out = []
    for key in keys:
        text = str(key).strip()
        if not text.lstrip("-").isdigit():
            return None
        out.append(int(text))
    return out


def _with_epochs(columns: dict[str, list[object]], labels: list[int]) -> dict[str, list[object]]:
    """``columns`` with an ``epoch`` column of the row ``labels`` where they number the
    rows otherwise than ``0, 1, ...`` and no column is named epoch."""
    if labels != list(range(len(labels))) and "epoch" not in {c.lower() for c in columns}:
        return {"epoch": list(labels), **columns}
    return columns
