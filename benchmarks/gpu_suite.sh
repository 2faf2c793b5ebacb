#!/usr/bin/env bash
# Everything that needs a GPU, in one command, from the repository root of a CUDA machine:
#
#     bash benchmarks/gpu_suite.sh [--dry-run] [profile|train|tests|bench|scaling|all]...
#                                                          (default: all = train tests bench scaling)
#
#   train  the heads sweep of configs/gpu_converge.json (the schedule that converged on the CPU: d = 8, s = 1,
#          batch 128, cosine then a hold at lr / 10 for 36% of the steps; h = 8 and h = 1 with seeds 0, 1, 2,
#          and h = 4, 2 with seed 0), eight trainings at once on the GPU, their step count sized to TRAIN_MINUTES
#          (default 4, leaving the probes room in the stage's 540 s) by a probe of the training rate: eager, CUDA
#          graphs of the model, CUDA graphs of the whole step, one process per run or all in one
#          (TRAIN_COMPILE=auto, TRAIN_TOGETHER=auto; see
#          simulations/transformer/budgeted_sweep.py); the runs are packed into gpu_heads_1.tgz and
#          gpu_heads_2.tgz next to the logs. Analyse them on any machine: docs/transformer.md, "The GPU path".
#   tests  the GPU-marked tests (CuPy against NumPy, device RNG, real out-of-memory halving, float32, the
#          CLI on cupy, the Lasso on cupy, training steps recorded as CUDA graphs against eager ones)
#   profile  benchmarks/lasso_profile.py alone (CUDA_LAUNCH_BLOCKING=1): where the Lasso's array-API engine spends
#          its GPU time, in half a minute
#   bench  benchmarks/bench_scale.py --backend cupy (float64 and float32), benchmarks/lasso.py (the CUDA kernel and
#          the array-API engine against scikit-learn), benchmarks/bench_solvers.py, all at n = 64, d = 32: the
#          numbers of docs/performance.md's GPU section
#   scaling  bench_scale.py's (512, 256) panel and fitted exponents; lasso.py at n = 32 and 16, d = 32, and at
#          n = 512, d = 256
#
# `all` takes longer than one 10-minute call of a lent machine: run `train`, then `tests bench`, then `scaling`.
# Each step has a hard time limit (seconds: TRAIN_LIMIT 540, TESTS_LIMIT 180, PROFILE_LIMIT 30 for lasso_profile.py,
# BENCH_LIMIT 75 for bench_scale float64, then 60, 30 and 45 for lasso.py, bench_solvers.py and bench_scale float32;
# SCALING_LIMIT 150 for the (512, 256) panel and the exponents, 60 for each lasso.py at d = 32, 100 at d = 256);
# a step that runs out is killed and the suite goes on, keeping its partial log. Logs go to $OUT (the device
# tool's folder) or runs/gpu/: train.txt, gpu_tests.txt, bench.txt and scaling.txt (six files with the two archives, within
# the device tool's eight); every step's first line names the date and the GPU.
#
# --dry-run runs the same Python on the CPU at toy sizes (NumPy backend, a tiny CPU training config), in
# seconds, so that a typo cannot waste device minutes; tests/test_benchmarks.py runs it. Its time limits are
# DRY_SLACK (default 4) times the stages' own.
#
# Uses `python3` (override with PYTHON=...) with NumPy, SciPy, scikit-learn, pandas, tqdm, matplotlib,
# pytest, torch and (without --dry-run) CuPy. The package need not be installed: the repository root goes
# on PYTHONPATH. A machine without network that lacks array-api-compat installs it from .whl/
# (make gpu-wheels, on a machine with network, fills .whl/).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LOGS=${OUT:-runs/gpu}
DRY=0
STAGES=()
for arg in "$@"; do
    case $arg in
        --dry-run) DRY=1 ;;
        profile|train|tests|bench|scaling) STAGES+=("$arg") ;;
        all) STAGES+=(train tests bench scaling) ;;
        *) echo "usage: $0 [--dry-run] [profile|train|tests|bench|scaling|all]..." >&2; exit 2 ;;
    esac
done
[[ ${#STAGES[@]} -eq 0 ]] && STAGES=(train tests bench scaling)

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
if [[ $DRY == 1 ]]; then
    BACKEND=numpy
else
    BACKEND=cupy
    "$PY" -c "import cupy; print('GPU:', cupy.cuda.runtime.getDeviceProperties(0)['name'].decode(), '| CuPy', cupy.__version__)" || exit 2
fi
mkdir -p "$LOGS"  # only once the stages and the GPU are known good: a refused run leaves no directory behind
DEVICE="$(date -u +%FT%TZ) | $(nvidia-smi -L 2>/dev/null | head -1 || true)"
[[ $DRY == 1 ]] && DEVICE="$DEVICE dry run on the CPU"
FAILED=0

step() {  # step LOG NAME LIMIT COMMAND...: run under a time limit, show, and append the output to $LOGS/LOG.txt
    local log=$LOGS/$1.txt name=$2 limit=$3; shift 3
    # the dry run checks the Python, not the timings: a CPU shared with other jobs runs the toy sizes slower
    [[ $DRY == 1 ]] && limit=$((limit * ${DRY_SLACK:-4}))
    printf '== %s\n== %s (limit %s s): %s\n' "$DEVICE" "$name" "$limit" "$*" | tee -a "$log"
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee -a "$log"
    local rc=${PIPESTATUS[0]}
    [[ $rc == 124 || $rc == 137 ]] && echo "== $name: stopped at its ${limit} s limit" | tee -a "$log"
    [[ $rc != 0 ]] && FAILED=1
    return 0
}

train() {
    local config=simulations/transformer/configs/gpu_converge.json runs=runs/gpu_heads minutes=${TRAIN_MINUTES:-4}
    local compile=${TRAIN_COMPILE:-auto} probe=150
    if [[ $DRY == 1 ]]; then
        config=$LOGS/tiny_config.json runs=$LOGS/gpu_heads minutes=0.05 compile=config probe=5
        "$PY" -c "import json, sys; c = json.load(open(sys.argv[1])); c.update(d=4, s=1, n_min=2, n_max=6, \
queries=2, width=16, batch=8, warmup=2, steps=100, hold=36, device='cpu', log_every=10, checkpoint_every=10); \
json.dump(c, open(sys.argv[2], 'w'))" simulations/transformer/configs/gpu_converge.json "$config"
    fi
    step train train "${TRAIN_LIMIT:-540}" "$PY" -m simulations.transformer.budgeted_sweep --config "$config" \
        --runs 8:0 8:1 8:2 4:0 1:0 1:1 1:2 2:0 --minutes "$minutes" --compile "$compile" \
        --together "${TRAIN_TOGETHER:-auto}" --out "$runs" --probe-steps $probe
    # two archives, each under the device tool's 16 MiB a file (eight runs of two 1.8 MB checkpoints each)
    local base; base=$(basename "$runs")
    tar czf "$LOGS/gpu_heads_1.tgz" -C "$(dirname "$runs")" "$base/sweep.json" "$base"/h8_seed{0,1,2} "$base"/h4_seed0
    tar czf "$LOGS/gpu_heads_2.tgz" -C "$(dirname "$runs")" "$base"/h1_seed{0,1,2} "$base"/h2_seed0
}

tests() {
    if [[ $DRY == 1 ]]; then  # the GPU tests skip without CuPy: collect them, to catch import errors
        step gpu_tests gpu_tests "${TESTS_LIMIT:-180}" "$PY" -m pytest -p no:cacheprovider --collect-only -m gpu \
            tests/test_gpu.py tests/test_lasso.py tests/test_lasso_cuda.py tests/test_train_graph.py
    else
        step gpu_tests gpu_tests "${TESTS_LIMIT:-180}" "$PY" -m pytest -p no:cacheprovider -m gpu \
            tests/test_gpu.py tests/test_lasso.py tests/test_lasso_cuda.py tests/test_train_graph.py
    fi
}

profile() {  # profile LOG: the Lasso engine's cProfile, appended to $LOGS/LOG.txt
    local args=(--instances 20000)  # 10^5 instances ran past 35 s under CUDA_LAUNCH_BLOCKING on an H100
    [[ $DRY == 1 ]] && args=(--instances 50 --top 5)
    CUDA_LAUNCH_BLOCKING=1 step "${1:-profile}" lasso_profile "${PROFILE_LIMIT:-30}" "$PY" benchmarks/lasso_profile.py "${args[@]}"
}

bench() {
    local limit=${BENCH_LIMIT:-75} size=() lasso=() solvers=()
    if [[ $DRY == 1 ]]; then
        size=(--tiny) lasso=(--instances 20 --loop-instances 2 --gpu-instances 20 --rounds 1 --tols 1e-4)
        solvers=(--n 16 --d 8 --trials 20 --loop-trials 2)
    fi
    local first=(--parts panel stages cell)
    step bench bench_scale_float64 "$limit" "$PY" benchmarks/bench_scale.py --backend $BACKEND "${first[@]}" "${size[@]}"
    step bench bench_lasso $((limit * 4 / 5)) "$PY" benchmarks/lasso.py "${lasso[@]}"
    step bench bench_solvers $((limit * 2 / 5)) "$PY" benchmarks/bench_solvers.py "${solvers[@]}"
    step bench bench_scale_float32 $((limit * 3 / 5)) "$PY" benchmarks/bench_scale.py --backend $BACKEND --dtype float32 \
        "${first[@]}" "${size[@]}"
}

scaling() {
    local size=() lasso=(--tols 1e-8 --rounds 2)
    if [[ $DRY == 1 ]]; then
        size=(--tiny) lasso=(--instances 20 --loop-instances 2 --gpu-instances 20 --rounds 1 --tols 1e-4)
    fi
    step scaling bench_scale_big "${SCALING_LIMIT:-150}" "$PY" benchmarks/bench_scale.py --backend $BACKEND \
        --parts big exponents "${size[@]}"
    for n in 32 16; do  # n <= d: the homotopy warm starts
        step scaling "bench_lasso_n$n" 60 "$PY" benchmarks/lasso.py --n $n --d 32 "${lasso[@]}"
    done
    # d = 256: one GPU thread per instance against the array-API engine, few instances
    local big=(--n 512 --d 256 --instances 40 --loop-instances 4 --gpu-instances 2000 --rounds 1 --tols 1e-8)
    [[ $DRY == 1 ]] && big=(--n 32 --d 16 "${lasso[@]}")
    step scaling bench_lasso_d256 100 "$PY" benchmarks/lasso.py "${big[@]}"
}

for stage in "${STAGES[@]}"; do $stage; done
exit $FAILED
