#!/usr/bin/env bash
# Everything that needs a GPU, in one command, from the repository root of a CUDA machine:
#
#     bash benchmarks/gpu_suite.sh [tests|bench|train|all]      (default: all)
#
#   tests  tests/test_gpu.py and the other GPU-marked tests (CuPy against NumPy, device RNG,
#          real out-of-memory halving, float32, the CLI on cupy)
#   bench  benchmarks/bench_scale.py --backend cupy (float64 and float32), benchmarks/lasso.py,
#          benchmarks/bench_solvers.py: the numbers of docs/performance.md's GPU section
#   train  one 8-minute chunk of the GPU transformer run (configs/gpu_default.json), then
#          `analyze` of whatever checkpoint exists; rerun to resume (the run directory is also
#          saved as gpu_h8.tgz next to the logs, for machines that do not keep runs/)
#
# Uses `python3` (override with PYTHON=...) with CuPy, NumPy, SciPy, scikit-learn, pandas, tqdm,
# matplotlib, pytest and (train) torch. The package need not be installed: the repository root
# goes on PYTHONPATH. A machine without network that lacks array-api-compat installs it from
# .whl/ (make gpu-wheels, on a machine with network, fills .whl/). Logs go to $OUT (the device
# tool's folder) or runs/gpu/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LOGS=${OUT:-runs/gpu}
STAGE=${1:-all}
case $STAGE in tests|bench|train|all) ;; *) echo "usage: $0 [tests|bench|train|all]" >&2; exit 2 ;; esac

if ! "$PY" -c "import array_api_compat" 2>/dev/null; then
    if compgen -G ".whl/*.whl" >/dev/null; then
        "$PY" -m pip install -q --no-index --no-deps --no-compile --target /tmp/gpu_suite_site .whl/*.whl
        export PYTHONPATH=/tmp/gpu_suite_site
    else
        echo "array-api-compat is missing and .whl/ is empty: run 'make gpu-wheels' where pip has network" >&2
        exit 2
    fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
"$PY" -c "import cupy; print('GPU:', cupy.cuda.runtime.getDeviceProperties(0)['name'].decode(), '| CuPy', cupy.__version__)"
mkdir -p "$LOGS"  # only once the stage and the GPU are known good: a refused run leaves no directory behind

step() {  # step NAME COMMAND...: run, show, and keep the output in $LOGS/NAME.txt
    local name=$1; shift
    echo "== $name: $*"
    "$@" 2>&1 | tee "$LOGS/$name.txt"
}

if [[ $STAGE == tests || $STAGE == all ]]; then
    step gpu_tests "$PY" -m pytest -q -p no:cacheprovider -m gpu tests/test_gpu.py tests/test_lasso.py
fi
if [[ $STAGE == bench || $STAGE == all ]]; then
    step bench_scale_float64 "$PY" benchmarks/bench_scale.py --backend cupy
    step bench_scale_float32 "$PY" benchmarks/bench_scale.py --backend cupy --dtype float32
    step bench_lasso "$PY" benchmarks/lasso.py
    step bench_solvers "$PY" benchmarks/bench_solvers.py
fi
if [[ $STAGE == train || $STAGE == all ]]; then
    RUN=runs/gpu_h8
    RESUME=$([[ -f $RUN/checkpoint.pt ]] && echo --resume || true)
    step train "$PY" -m simulations train --config simulations/transformer/configs/gpu_default.json \
        --out "$RUN" --max-minutes 8 --quiet $RESUME
    step analyze "$PY" -m simulations analyze "$RUN" --n-probe 16
    tar czf "$LOGS/gpu_h8.tgz" -C runs gpu_h8  # to resume elsewhere: untar into runs/ and rerun this stage
fi
