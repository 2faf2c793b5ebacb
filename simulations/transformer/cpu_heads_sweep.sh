#!/usr/bin/env bash
# The CPU heads sweep of docs/transformer.md: h = 1, 2, 4, 8 (seed 0), then seeds 1 and 2 of h = 8 and h = 1,
# every model on configs/cpu_converge.json (one budget, one schedule), two queues on the two cores.
# Each run lives in docs/data/runs/<name> until it finishes, then moves to docs/data/models/<name>.
# Rerunning resumes every unfinished run bit for bit from its checkpoint (same threads: 1).
set -u
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
CONFIG=simulations/transformer/configs/cpu_converge.json
train_one() {  # name heads seed
  local name=$1 heads=$2 seed=$3 run=docs/data/runs/$1 done=docs/data/models/$1
  [ -f "$done/checkpoint.pt" ] && return 0
  local resume=""
  [ -f "$run/checkpoint.pt" ] && resume="--resume"
  "$PY" -m simulations train --config "$CONFIG" --heads "$heads,$heads,$heads" --seed "$seed" \
      --out "$run" --threads 1 --quiet $resume || return 1
  mkdir -p docs/data/models && mv "$run" "$done"
}
queue() { for job in "$@"; do train_one $job || return 1; done; }
queue "d8s1_h8_seed0 8 0" "d8s1_h2_seed0 2 0" "d8s1_h8_seed1 8 1" "d8s1_h8_seed2 8 2" &
queue "d8s1_h1_seed0 1 0" "d8s1_h4_seed0 4 0" "d8s1_h1_seed1 1 1" "d8s1_h1_seed2 1 2" &
wait
