#!/usr/bin/env bash
# The linear-attention theory model on the CPU: heads [8, 1, 1], the shape of the exact PtO construction.
# Six recipes, run in turn: configs/cpu_linear.json (MSE loss; unstable), configs/cpu_linear_huber.json
# (the same with the Huber objective), three variants of the latter: lr 1e-4, n in [16, 32], and a start at
# the exact PtO construction (init "pto", its best fixed step at n = d; head_dim 8, the construction's shape),
# at lr 3e-4 and at lr 3e-5.
# Each run lives in docs/data/runs/<name> until finished, then docs/data/models/<name>. Rerunning resumes bit
# for bit (threads: 1).
set -eu
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
train_one() {  # name config
  local run=docs/data/runs/$1 done=docs/data/models/$1 resume=""
  [ -f "$done/checkpoint.pt" ] && return 0
  [ -f "$run/checkpoint.pt" ] && resume="--resume"
  "$PY" -m simulations train --config "simulations/transformer/configs/$2" --out "$run" --threads 1 --quiet $resume
  mkdir -p docs/data/models && mv "$run" "$done"
}
train_one d8s1_linear_seed0 cpu_linear.json
train_one d8s1_linear_huber_seed0 cpu_linear_huber.json
train_one d8s1_linear_huber_lr1e-4_seed0 cpu_linear_huber_lr1e-4.json
train_one d8s1_linear_huber_n16_seed0 cpu_linear_huber_n16.json
train_one d8s1_linear_huber_pto_init_seed0 cpu_linear_huber_pto_init.json
train_one d8s1_linear_huber_pto_init_lr3e-5_seed0 cpu_linear_huber_pto_init_lr3e-5.json
