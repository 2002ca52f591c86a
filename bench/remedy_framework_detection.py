"""Framework detection (``History.framework``, which picks the remedies' words) against
the labelled real logs' ``framework``.

    python bench/remedy_framework_detection.py tests/fixtures/logs/real
"""

import collections
import json
import sys
from pathlib import Path

from nooverfit.logs import read_log

root = Path(sys.argv[1])
table: collections.Counter[tuple[str, str]] = collections.Counter()
for label in sorted(root.glob("*.label.json")):
    want = str(json.loads(label.read_text()).get("framework"))
    run = root / label.name.removesuffix(".label.json")
    table[(want, read_log(run).framework)] += 1
for (want, got), n in sorted(table.items()):
    print(f"labelled {want:12} detected {got or '(plain)':10} {n}")
