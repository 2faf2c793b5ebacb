#!/usr/bin/env bash
# The linear-attention theory model on the CPU (configs/cpu_linear.json): heads [8, 1, 1], the shape of the
# exact PtO construction. Lives in docs/data/runs/d8s1_linear_seed0 until finished, then docs/data/models/.
# Rerunning resumes bit for bit (threads: 1).
set -eu
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
name=d8s1_linear_seed0 run=docs/data/runs/d8s1_linear_seed0 done=docs/data/models/d8s1_linear_seed0
[ -f "$done/checkpoint.pt" ] && exit 0
resume=""
[ -f "$run/checkpoint.pt" ] && resume="--resume"
"$PY" -m simulations train --config simulations/transformer/configs/cpu_linear.json --out "$run" --threads 1 --quiet $resume
mkdir -p docs/data/models && mv "$run" "$done"
