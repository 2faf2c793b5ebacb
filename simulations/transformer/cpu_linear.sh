#!/usr/bin/env bash
# The linear-attention theory model on the CPU: heads [8, 1, 1], the shape of the exact PtO construction.
# Four recipes, run in turn: configs/cpu_linear.json (MSE loss; unstable), configs/cpu_linear_huber.json
# (the same with the Huber objective), and two variants of the latter: lr 1e-4, and n in [16, 32]. Each run lives in docs/data/runs/<name> until finished, then
# docs/data/models/<name>. Rerunning resumes bit for bit (threads: 1).
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
