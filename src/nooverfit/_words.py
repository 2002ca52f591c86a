"""Small wording helpers shared by the texts a person reads (diagnoses, CLI tables)."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str = "") -> str:
    """``n`` followed by its noun, singular for exactly one.

    Args:
        n: The count.
        noun: The singular noun, e.g. ``"epoch"``.
        plural: The plural where it is not ``noun + "s"`` (default: ``noun + "s"``).

    Returns:
        ``counted(1, "epoch")`` -> ``"1 epoch"``; ``counted(3, "epoch")`` -> ``"3 epochs"``.
    """
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
