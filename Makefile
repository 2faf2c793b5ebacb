# The two commands of the README: `make demo` (the default sweep, CPU only) and `make test`.
# Each creates .venv on first use and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of PyTorch for the transformer tests; override, e.g. TORCH='torch==2.5.1'.
TORCH ?= torch==2.13.0

.PHONY: demo test bench gpu-wheels clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.core: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(VENV)/.core
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[test,train,dist]"
	touch $@

demo: $(VENV)/.core
	$(BIN)/sparse-icl sweep

test: $(VENV)/.dev
	$(BIN)/python -m pytest -n 2 -m "not slow"

bench: $(VENV)/.core
	$(BIN)/python benchmarks/bench_solvers.py

# Pure-Python wheels that the lent GPU machines lack (they have no network): carry .whl/ there and
# run `bash benchmarks/gpu_suite.sh`. See docs/performance.md.
GPU_WHEELS ?= array-api-compat==1.16.0
gpu-wheels:
	$(PYTHON) -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
		--implementation cp --platform manylinux2014_x86_64 -d .whl $(GPU_WHEELS)

clean:
	rm -rf $(VENV) runs
