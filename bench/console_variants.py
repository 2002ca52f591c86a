"""Read a loop's console lines in variants nobody wrote a test for, and print what each
read as (JSON), to compare two versions of the console reader side by side (s33 i177).

    PYTHONPATH=OLD/src python bench/console_variants.py > old.json
    PYTHONPATH=src python bench/console_variants.py > new.json
    diff old.json new.json

Each variant prints 8 epochs: training loss ``1/(e+1)``, validation loss
``0.5 + 0.01 |e - 4|``, an accuracy or score ``0.7 + 0.01 e`` (``p``: in percent, ``q``:
the error in percent).
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

from nooverfit.logs import read_log

VARIANTS = {
    "sides of each metric": "Epoch {e} | Train Loss {t:.4f} Val {v:.4f} | Train Acc {a:.4f} "
    "Val {a:.4f}",
    "each metric's sides after it": "Epoch {e}: Loss Train {t:.4f} Val {v:.4f} | Acc Train "
    "{a:.4f} Val {a:.4f}",
    "error in % in brackets": "Epoch {e}: loss {t:.4f} (err {q:.1f}%), val_loss {v:.4f} "
    "(val_err {q:.1f}%)",
    "f1/val": "Epoch {e} loss: {t:.4f} val_loss: {v:.4f} f1/val: {a:.4f}",
    "top1/val": "Epoch {e} train_loss {t:.4f} val_loss {v:.4f} top1/val {p:.2f}",
    "slash after values": "Epoch {e} loss:{t:.4f}/val_loss:{v:.4f}/val_acc:{a:.4f}",
    "accuracy in % in brackets": "Epoch {e}: train loss {t:.4f} (acc {p:.1f}%), val loss "
    "{v:.4f} (acc {p:.1f}%)",
    "sides alone": "Epoch {e} | Train {t:.4f} | Val {v:.4f}",
    "step then summary": "Epoch {e} step 100 loss {t:.4f} val_loss {v:.4f}",
    "Keras verbose 2": "Epoch {e}/8\n32/32 - 0s - 5ms/step - accuracy: {a:.4f} - loss: {t:.4f} "
    "- val_accuracy: {a:.4f} - val_loss: {v:.4f}",
}


def _rounded(values: tuple[float, ...]) -> list[float | None]:
    return [None if math.isnan(x) else round(x, 6) for x in values]


def main() -> None:
    out: dict[str, object] = {}
    folder = Path(tempfile.mkdtemp())
    for name, line in VARIANTS.items():
        text = "\n".join(
            line.format(
                e=e,
                t=1 / (e + 1),
                v=0.5 + 0.01 * abs(e - 4),
                a=0.7 + 0.01 * e,
                p=70 + e,
                q=30 - e,
            )
            for e in range(1, 9)
        )
        (folder / "train.log").write_text(text + "\n")
        try:
            h = read_log(folder / "train.log")
        except ValueError as err:
            out[name] = f"refused: {str(err).replace(str(folder), '')[:120]}"
            continue
        read = {c: _rounded(h.column(c)) for c in h.columns()[1:]}
        out[name] = {"epoch": list(h.epoch), **read}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
