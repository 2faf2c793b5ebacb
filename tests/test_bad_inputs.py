"""A table of bad command-line inputs: each exits with status 2 and one line on stderr, without a traceback.

The commands run in-process through ``simulations.cli.main`` (the console
script's entry point), so the whole table takes a few seconds; one row also
runs through a real ``python -m simulations`` process. Rows that need torch
(the ``train`` and ``analyze`` commands) are skipped without it, and two rows
check the message given when it is missing. See docs/reliability.md.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from simulations.cli import main

TINY_SWEEP = ["sweep", "--n", "8", "--d", "4", "--s", "1", "--trials", "10", "--methods", "ols", "--quiet"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Input files for the table: a results.csv and its damaged variants, configs, checkpoints."""
    root = tmp_path_factory.mktemp("bad_inputs")
    assert main([*TINY_SWEEP, "--n", "8,16", "--out", str(root / "run")]) == 0
    results = (root / "run" / "results.csv").read_text()
    header, first, *rest = results.splitlines()
    paths = {"root": root, "results": root / "run" / "results.csv", "a_file": root / "a_file"}
    paths["a_file"].write_text("not a directory\n")
    columns = header.split(",")

    def with_value(column, value, name):
        cells = first.split(",")
        cells[columns.index(column)] = value
        path = root / name
        path.write_text("\n".join([header, ",".join(cells), *rest]) + "\n")
        return path

    paths["risk_text"] = with_value("risk_mean", "abc", "risk_text.csv")
    paths["escape_signal"] = with_value("signal", "x/../../ESCAPED", "escape_signal.csv")
    paths["escape_tuning"] = with_value("tuning", "x/../../ESCAPED", "escape_tuning.csv")
    paths["no_columns"] = root / "no_columns.csv"
    paths["no_columns"].write_text("a,b\n1,2\n")
    paths["empty"] = root / "empty.csv"
    paths["empty"].write_text("")
    paths["binary"] = root / "binary.csv"
    paths["binary"].write_bytes(b"\xff\xfe\x00\x81" * 64)
    for name, text in {"malformed": '{"d": 8, "heads": [4, 4],}', "a_list": "[1, 2]",
                       "heads_text": json.dumps({"heads": "44"}), "steps_bool": json.dumps({"steps": True}),
                       "sigma_text": json.dumps({"sigma": "0.1"}), "lr_null": json.dumps({"lr": None}),
                       "unknown_key": json.dumps({"layers": 3}), "heads_zero": json.dumps({"heads": [4, 0]}),
                       "lr_inf": '{"lr": 1e400}'}.items():
        paths[name] = root / f"{name}.json"
        paths[name].write_text(text)
    paths["not_checkpoint"] = root / "not_checkpoint.pt"
    paths["not_checkpoint"].write_bytes(b"garbage, not a checkpoint" * 10)
    return paths


# (argv with {placeholders} for the files above, a fragment the one line must contain, needs torch)
CASES = [
    # sweep: grid values
    (["sweep", "--n", "8,x"], "--n: cannot read 'x'", False),
    (["sweep", "--n", "8.5"], "--n: cannot read '8.5' (expected an integer)", False),
    (["sweep", "--n", "8:9:0.5"], "a range of integers needs an integer step", False),
    (["sweep", "--n", "9:8:1"], "stop must be >= start", False),
    (["sweep", "--n", "8:128:x1"], "factor > 1", False),
    (["sweep", "--n", "inf"], "--n: cannot read 'inf' (not a finite number)", False),
    (["sweep", "--n", "1:1e9:1"], "more than 1000000", False),
    (["sweep", "--n", "0"], "n must be a non-empty list of integers >= 1", False),
    (["sweep", "--n", "8:128:x"], "--n: cannot read '8:128:x'", False),
    (["sweep", "--n", "1:2:3:4"], "a range is start:stop:step", False),
    (["sweep", "--d", "-4"], "d must be a non-empty list of integers >= 1", False),
    (["sweep", "--s", "0"], "s must be a non-empty list of integers >= 1", False),
    (["sweep", "--sigma", "0.1:0.5:0"], "step must be > 0", False),
    (["sweep", "--trials", "0"], "trials must be an integer >= 2", False),
    (["sweep", "--n", ","], "--n: no values", False),
    (["sweep", "--d", "4", "--s", "8"], "s: every value", False),
    (["sweep", "--sigma", "-1"], "sigma must be", False),
    (["sweep", "--sigma", "inf"], "--sigma: cannot read 'inf'", False),
    (["sweep", "--sigma", "nan"], "--sigma: cannot read 'nan'", False),
    (["sweep", "--n", "1:10000:1", "--d", "1:100:1", "--s", "1:100:1"], "cells (about", False),
    (["sweep", "--n", "1:400:1", "--d", "1:400:1"], "above the limit of 100000", False),
    # sweep: other settings
    (["sweep", "--methods", "ridge,magic"], "--methods: unknown ['magic']", False),
    (["sweep", "--methods", ","], "--methods: unknown []", False),
    (["sweep", "--tuning", "best"], "tuning: unknown ['best']", False),
    (["sweep", "--signal", "cauchy"], "signal: unknown ['cauchy']", False),
    (["sweep", "--tuning", "validation", "--n", "1"], "validation tuning needs n >= 2", False),
    (["sweep", "--trials", "1"], "trials must be an integer >= 2", False),
    (["sweep", "--trials", "many"], "argument --trials: invalid int value", False),
    (["sweep", "--seed", "-1"], "seed must be a non-negative integer, got -1", False),
    (["sweep", "--chunk", "0"], "--chunk must be >= 1", False),
    (["sweep", "--chunk", "4,8"], "--chunk must be one integer >= 1 or 'auto', got '4,8'", False),
    (["sweep", "--chunk", "big"], "--chunk must be one integer", False),
    (["sweep", "--chunk", "8:128:x2"], "--chunk must be one integer >= 1 or 'auto', got '8:128:x2'", False),
    (["sweep", "--backend", "gpu"], "invalid choice: 'gpu'", False),
    (["sweep", "--dtype", "float16"], "invalid choice: 'float16'", False),
    (["sweep", "--rng", "cuda"], "invalid choice: 'cuda'", False),
    (["sweep", "--scheduler", "bogus"], "--scheduler must be 'local' or an address", False),
    (["sweep", "--connect-timeout", "0"], "--connect-timeout must be a finite number of seconds > 0", False),
    (["sweep", "--connect-timeout", "inf"], "--connect-timeout must be a finite number", False),
    (["sweep", "--bogus-flag"], "unrecognized arguments: --bogus-flag", False),
    (["frobnicate"], "invalid choice: 'frobnicate'", False),
    # sweep: output directory
    ([*TINY_SWEEP, "--out", ""], "argument --out: must not be empty", False),
    ([*TINY_SWEEP, "--out", " "], "argument --out: must not be empty", False),
    ([*TINY_SWEEP, "--out", "{a_file}"], "exists and is not a directory", False),
    ([*TINY_SWEEP, "--out", "{a_file}/sub"], "cannot create the directory", False),
    ([*TINY_SWEEP, "--trials", "12", "--out", "{root}/run"], "--trials 12 (stored: 10)", False),
    ([*TINY_SWEEP, "--seed", "3", "--out", "{root}/run"], "--seed 3 (stored: 0)", False),
    ([*TINY_SWEEP, "--dtype", "float32", "--out", "{root}/run"], "--dtype float32 (stored: float64)", False),
    # check
    (["check", "{root}/missing.csv"], "results: no such file", False),
    (["check", "{empty}"], "cannot read", False),
    (["check", "{binary}"], "cannot read", False),
    (["check", "{no_columns}"], "results is missing columns", False),
    (["check", "{risk_text}"], "column 'risk_mean', row 1 (line 2 of a CSV file): 'abc' is not a number", False),
    (["check", "{escape_signal}"], "signal: unknown values ['x/../../ESCAPED']", False),
    (["check", "{escape_tuning}"], "tuning: unknown values ['x/../../ESCAPED']", False),
    (["check", "{results}", "--out", "{a_file}"], "exists and is not a directory", False),
    (["check", "{results}", "--out", ""], "argument --out: must not be empty", False),
    # curves
    (["curves", "--gamma-range", "0.1,inf,10"], "needs finite 0 < LOW < HIGH", False),
    (["curves", "--gamma-range", "2,1,5"], "needs finite 0 < LOW < HIGH", False),
    (["curves", "--gamma-range", "0.1,8,1"], "2 <= POINTS", False),
    (["curves", "--gamma-range", "0.1,8,1000000000"], "POINTS <= 100000", False),
    (["curves", "--gamma-range", "a,b,c"], "expected LOW,HIGH,POINTS", False),
    (["curves", "--sigma", "-1"], "--sigma must be finite and >= 0", False),
    (["curves", "--sigma", "nan"], "--sigma must be finite and >= 0", False),
    (["curves", "--steps", "1,x"], "--steps must be comma-separated integers", False),
    (["curves", "--steps", "-1"], "--steps must be >= 0", False),
    (["curves", "--signal-norm2", "-1"], "--signal-norm2 must be finite and >= 0", False),
    (["curves", "--results", "{root}/missing.csv"], "--results: no such file", False),
    (["curves", "--out", "{a_file}"], "exists and is not a directory", False),
    # train (torch)
    (["train"], "the following arguments are required: --out", False),
    (["train", "--out", ""], "argument --out: must not be empty", False),
    (["train", "--out", "{root}/t", "--threads", "0"], "argument --threads: expected an integer >= 1", False),
    (["train", "--out", "{root}/t", "--heads", "4,x"], "argument --heads: expected comma-separated integers", False),
    (["train", "--out", "{root}/t", "--config", "{root}/missing.json"], "--config file not found", True),
    (["train", "--out", "{root}/t", "--config", "{malformed}"], "malformed.json: not valid JSON (line 1", True),
    (["train", "--out", "{root}/t", "--config", "{a_list}"], "expected a JSON object", True),
    (["train", "--out", "{root}/t", "--config", "{heads_text}"], "heads must be a non-empty list of integers", True),
    (["train", "--out", "{root}/t", "--config", "{steps_bool}"], "steps must be an integer, got True", True),
    (["train", "--out", "{root}/t", "--config", "{sigma_text}"], "sigma must be a number, got '0.1'", True),
    (["train", "--out", "{root}/t", "--config", "{lr_null}"], "lr must be a number, got None", True),
    (["train", "--out", "{root}/t", "--config", "{lr_inf}"], "lr must be finite", True),
    (["train", "--out", "{root}/t", "--config", "{unknown_key}"], "unknown config keys: ['layers']", True),
    (["train", "--out", "{root}/t", "--config", "{heads_zero}"], "heads must be a non-empty list", True),
    (["train", "--out", "{root}/t", "--resume"], "--resume: no checkpoint", True),
    (["train", "--out", "{root}/t", "--max-minutes", "0"], "--max-minutes must be > 0", True),
    (["train", "--out", "{root}/t", "--d", "2", "--s", "4"], "s must be <= d", True),
    (["train", "--out", "{a_file}", "--steps", "1"], "--out {a_file}: exists and is not a directory", True),
    (["train", "--out", "{root}/t", "--steps", "0"], "steps must be an integer >= 1", True),
    (["train", "--out", "{root}/t", "--signal", "cauchy"], "signal must be one of", True),
    (["train", "--out", "{root}/t", "--device", "tpu"], "device must be 'cpu', 'cuda' or 'auto'", True),
    (["train", "--out", "{root}/t", "--dtype", "float16"], "dtype must be one of", True),
    # analyze (torch)
    (["analyze", "{root}/missing"], "checkpoint not found", True),
    (["analyze", "{not_checkpoint}"], "is not a plain-weights checkpoint", True),
    (["analyze", "{root}/missing", "--trials", "2"], "--trials must be >= 4", True),
    (["analyze", "{root}/missing", "--threads", "0"], "argument --threads: expected an integer >= 1", False),
    (["analyze", "{root}/missing", "--ns", "4,x"], "argument --ns: expected comma-separated integers", False),
    (["analyze", "{root}/missing", "--out", ""], "argument --out: must not be empty", False),
    # budget (torch)
    (["budget", "{root}/missing"], "checkpoint not found", True),
    (["budget", "{not_checkpoint}"], "is not a plain-weights checkpoint", True),
    (["budget", "{root}/missing", "--trials", "2"], "--trials must be >= 4", True),
    (["budget", "{root}/missing", "--n", "0"], "argument --n: expected an integer >= 1", False),
    (["budget", "{root}/missing", "--out", ""], "argument --out: must not be empty", False),
]


def run_cli(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.err


@pytest.mark.parametrize("argv,fragment,needs_torch", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_exits_2_with_one_line(argv, fragment, needs_torch, files, capsys, monkeypatch, tmp_path):
    if needs_torch:
        pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)  # a default --out lands here, never in the repository
    argv = [arg.format(**files) for arg in argv]
    code, err = run_cli(argv, capsys)
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert fragment.format(**files) in err, err
    assert not (files["root"].parent / "ESCAPED").exists()


@pytest.mark.parametrize("command", [["train", "--out", "{root}/t"], ["analyze", "{root}/run"],
                                     ["budget", "{root}/run"]])
def test_torch_commands_without_torch_name_the_extra(command, files, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails as if it were not installed
    code, err = run_cli([arg.format(**files) for arg in command], capsys)
    assert code == 2
    assert err.strip().endswith("needs the [train] extra: pip install sparse-icl[train]")
    assert len(err.splitlines()) == 1


def test_the_console_entry_point_gives_the_same_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "simulations", "sweep", "--n", "8:9:0.5", "--out", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["sparse-icl sweep: error: --n: cannot read '8:9:0.5' "
                                        "(a range of integers needs an integer step)"]
