"""The layouts of the files nooverfit writes and reads back, in one place.

Each file records its layout's number; every reader reads the older ones and refuses a
newer one in one line (:func:`nooverfit.errors.newer_nooverfit`), never misreads it. The
package version (``nooverfit --version``, recorded beside these numbers) changes only at
a release, while these change whenever a layout does: they, not the version, say whether
a file can be read. ``nooverfit --version`` lists them (:func:`summary`).
"""

from __future__ import annotations

#: ``results.json``'s ``schema_version`` (:mod:`nooverfit.studies.results_file`). 2: each
#: run's history names the epoch whose weights it kept ``kept_epoch``, and ``best_epoch`` is
#: its lowest ``val_loss``'s (the diagnosis's); 1 called the kept epoch ``best_epoch``,
#: which ``History.from_dict`` still reads as ``kept_epoch``.
RESULTS = 2
#: ``best_model.json``'s ``format``, which also covers the ``best_model.pt`` it describes
#: (:mod:`nooverfit.saved_card`). 1: the first. 2: a layer before batch norm has no bias,
#: and an ensemble's file holds its members' ``weights`` in the average; older code
#: refused either as "does not fit the network its card describes", so these cards say 2
#: and older code refuses them by their format. An image model's ``image_medians`` (the
#: training images' backgrounds, :mod:`nooverfit.ink`) came later: a key added, none read
#: differently, still 2 (a card without it is not checked for inverted ink).
CARD = 2
#: A pretrained source file's ``format`` tag (:mod:`nooverfit.transfer.seen`). 2: layers
#: before batch norm have no bias (as today's networks); 1's files hold one there, which
#: ``Source.build`` folds into the norm's running mean, so both load.
SOURCE = "nooverfit-source/2"
#: A ``nooverfit train`` run's ``metrics.json`` ``format`` (:mod:`nooverfit.train_run`);
#: a file without one was written before it was recorded and is format 1. Its
#: ``kept_epoch`` came later (a key added, none read differently: still 1); a file without
#: it kept ``best_epoch``'s weights whenever a ``val_loss`` was finite. Its ``data
#: options`` came later too (still 1; a file without them cannot say which differs). The
#: ``model.json`` a run writes beside ``model.pt`` is a :data:`CARD`, of one network.
METRICS = 1
#: A tuning study's ``best.json`` ``format`` (:mod:`nooverfit.tune.result`); a file
#: without one is format 1. 2: ``kept_epoch`` is the epoch whose weights the retrained run
#: kept, and ``best_epoch`` its lowest finite ``val_loss``'s (the diagnosis's, as
#: ``results.json`` schema 2); format 1 files without ``kept_epoch`` called the kept epoch
#: ``best_epoch``, those with it already meant 2's. A resume reads only the study's name,
#: storage and format, so both still resume (and are rewritten as 2).
BEST = 2
#: ``nooverfit synthesize``'s ``manifest.csv`` ``format`` column
#: (:mod:`nooverfit.data.synthesis_manifest`); a manifest without one is format 1.
MANIFEST = 1


def summary() -> str:
    """The formats this nooverfit writes, in one line (``nooverfit --version``)."""
    return (
        f"file formats: results.json schema_version {RESULTS}, best_model.json format {CARD}, "
        f"pretrained sources {SOURCE}, train metrics.json format {METRICS}, tune best.json "
        f"format {BEST}, synthesize manifest.csv format {MANIFEST} (older ones are read, "
        "newer ones refused)"
    )
