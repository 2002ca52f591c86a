"""detectron2's ``metrics.json`` (its ``JSONWriter``): one JSON object a line, keyed by
``iteration``, its training values smoothed over the last 20 iterations (``total_loss``,
the sum of ``loss_cls``, ``loss_box_reg``, ...), and the evaluation results
(``bbox/AP``, ``segm/AP50``, in percent) on the lines of the iterations where
evaluation ran, computed on ``cfg.DATASETS.TEST``: held out, read as validation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: The tasks detectron2's COCO, LVIS and semantic evaluators name their results by.
_TASKS = frozenset({"bbox", "segm", "keypoints", "sem_seg", "panoptic_seg"})


def evaluation_named(rows: Sequence[Mapping[str, float]]) -> tuple[list[dict[str, float]], str]:
    """``rows`` with a detectron2 log's evaluation results named as validation values
    (``bbox/AP`` is ``val/bbox_AP``), and a note saying so; the rows as given and ``""``
    for any other log."""
    names = {k for row in rows for k in row}
    if not {"iteration", "total_loss"} <= names:
        return [dict(row) for row in rows], ""
    results = sorted(k for k in names if k.split("/")[0] in _TASKS and "/" in k)
    if not results:
        return [dict(row) for row in rows], ""
    renamed = {k: "val/" + k.replace("/", "_") for k in results}
    out = [{renamed.get(k, k): v for k, v in row.items()} for row in rows]
    shown = ", ".join(results[:3]) + (", ..." if len(results) > 3 else "")
    return out, (
        f"a detectron2 metrics.json: its evaluation results ({shown}), computed on "
        "cfg.DATASETS.TEST where evaluation ran, read as validation; total_loss as the "
        "training loss"
    )
