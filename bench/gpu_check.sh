#!/usr/bin/env bash
# The fused engine's GPU checks as one short script, for a session lent a device
# (`run` tool, one call of about 6 minutes on an H100/H200; the device image may lack the
# optional extras, so the source tree is used directly):
#   1. the CUDA equivalence tests and the engine tests on the GPU machine;
#   2. `fused_speed.py --gpu`: K = 1, 64, 1024, 8192 in float32 and TF32 (issue 5, item 3);
#   3. the default study on CUDA, fused engine only (the sequential engine takes minutes);
#   4. with --suite: the whole default test suite (not slow) where CUDA is present, so the
#      device-default paths ("cuda" when available) run too; needs pytest-xdist there.
# Packages the device lacks (optuna) can come as wheels installed to a folder already on
# PYTHONPATH, which is kept.
# Usage: bash bench/gpu_check.sh [--suite]
set -euo pipefail
export PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python -m pytest -q -x -p no:cacheprovider tests/test_engine_cuda.py tests/test_engine_fused.py \
    tests/test_engine_linear.py tests/test_engine_stacked.py tests/test_engine_feed.py
python bench/fused_speed.py --gpu
python - <<'PY'
import tempfile, time
from nooverfit.studies import study
with tempfile.TemporaryDirectory() as out:
    start = time.perf_counter()
    result = study(seeds=3, engine="fused", out=out, device="cuda")
    print(f"default study, fused on cuda: {time.perf_counter() - start:.1f} s, "
          f"recommended {result.recommended.name!r}")
PY
if [[ "${1:-}" == "--suite" ]]; then
    python -m pytest -q -p no:cacheprovider -m "not slow" -n 12 --timeout 300 tests
fi
