"""`printed_literal`: a history printed by Python rather than saved as JSON, as a notebook
shows ``print(history.history)`` and a user pastes it into a file: ``{'loss': [0.69,
0.52], 'val_loss': [...]}``, single quotes, ``nan``, and NumPy's or torch's scalars
(``np.float32(0.69)``, ``tensor(0.69)``) as NumPy 2 and torch print them. Read as the
literal it is (``ast.literal_eval``: no code runs), each scalar its number."""

from __future__ import annotations

import ast
import re

#: NumPy's and torch's printed scalars: ``np.float32(0.69)``, ``numpy.int64(3)``,
#: ``tensor(0.6931)``, ``tensor(0.69, device='cuda:0')``, ``tensor(0.69, grad_fn=...)``.
_SCALAR = re.compile(
    r"\b(?:(?:np|numpy)\.(?:float|int|uint)\d*|tensor)\(\s*([-+\w.]+)\s*(?:,[^()]*(?:\([^()]*\))?[^()]*)?\)"
)
#: Python's printed non-finite floats, which no literal spells.
_NON_FINITE = re.compile(r"(?<![\w'\"])(-?(?:nan|inf))(?![\w'\"])")
#: The most text read as one printed literal (a history of 100,000 epochs of 10 curves).
MOST = 50_000_000


def printed_literal(
    text: str, *, lines: bool = False
) -> dict[object, object] | list[object] | None:
    """``text`` as the dict or list Python printed, or None where it is no such literal
    (JSON is read as JSON first: this is the fallback of a file that is not JSON).
    Non-finite values are kept as the text ``"nan"`` / ``"inf"``, which the readers'
    number parser reads.

    Args:
        text: the file's text.
        lines: whether a dict printed on each line, one an epoch, is read too (a list of
            them: ``print(trainer.callback_metrics)`` at each epoch's end, its values
            ``tensor(0.52)``), where the text is no one literal. Default False.
    """
    whole = _literal(text)
    if whole is not None or not lines:
        return whole
    rows = [_literal(line) for line in text.splitlines() if line.strip()]
    dicts: list[object] = [r for r in rows if isinstance(r, dict)]
    return dicts if dicts and len(dicts) == len(rows) else None


def _literal(text: str) -> dict[object, object] | list[object] | None:
    """``text`` as one dict or list Python printed, or None."""
    text = text.strip()
    if not text.startswith(("{", "[")) or len(text) > MOST:
        return None
    text = _SCALAR.sub(r"\1", text)
    text = _NON_FINITE.sub(r"'\1'", text)
    try:
        data = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None
    return data if isinstance(data, (dict, list)) else None
