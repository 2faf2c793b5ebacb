"""Reliability (issue 14): no code run from files, nothing lost or mixed under signals and faults,
every expected failure one line with exit status 2. docs/reliability.md maps each guarantee to its test.

Most tests run the command in-process (``simulations.cli.main``); the few
that need a real process and a real signal (SIGTERM to a sweep, Ctrl-C to a
Dask sweep, a lock held by another process) start one.
"""

from __future__ import annotations

import errno
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import solvers
from simulations import sweep as sweep_module
from simulations.cli import main
from simulations.interrupts import Interrupted, critical, handled
from simulations.outputs import LOCK_NAME, atomic_write_text
from simulations.store import JournalWarning, ResultStore
from simulations.sweep import MAX_CELLS, grid_size, plan_cells, run_sweep

TINY = ["sweep", "--n", "8,12,16", "--d", "6", "--s", "2", "--trials", "20", "--methods", "ols,ridge", "--quiet"]
main_thread_only = pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                                      reason="signal handlers are installed from the main thread only")


def sweep(out, *extra):
    return main([*TINY, *extra, "--out", str(out)])


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def tmp_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.tmp"))


# ----------------------------------------------------------------------------------------------- security
def test_a_crafted_checkpoint_is_refused_and_runs_no_code(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    from simulations.transformer.train import read_checkpoint

    marker = tmp_path / "code_ran"

    class Exploit:
        def __reduce__(self):  # unpickling calls open(marker, "w"): code from the file
            return (open, (str(marker), "w"))

    path = tmp_path / "checkpoint.pt"
    torch.save({"model": Exploit(), "optimizer": {}, "step": 1, "rng": {}, "config": {}}, path)
    with pytest.raises(ValueError, match="not a plain-weights checkpoint"):
        read_checkpoint(path)
    assert main(["analyze", str(tmp_path)]) == 2
    assert "refusing to load it" in one_line(capsys)
    assert not marker.exists()
    torch.load(path, weights_only=False)["model"].close()  # the file is a real exploit: an unrestricted load runs it
    assert marker.exists()


@pytest.mark.parametrize("column", ["signal", "tuning"])
def test_values_from_results_files_never_build_paths_outside_out(tmp_path, column):
    from theory import check_results
    from theory.figures import phase_figure

    out = tmp_path / "a" / "b"
    out.mkdir(parents=True)
    c4 = pd.DataFrame({"signal": ["gaussian"], "tuning": ["oracle"], "n": [8], "d": [16], "s": [2],
                       "sigma": [0.1], "ratio": [0.5]})
    c4[column] = "x/../../ESCAPED"
    with pytest.raises(ValueError, match=f"{column}: unknown value"):
        phase_figure(c4, out)
    results = pd.DataFrame({"method": ["pto"], "n": [8], "d": [16], "s": [2], "sigma": [0.1], "signal": ["gaussian"],
                            "trials": [10], "tuning": ["oracle"], "risk_mean": [0.1], "risk_sem": [0.01]})
    results[column] = "x/../../ESCAPED"
    with pytest.raises(ValueError, match=f"{column}: unknown values"):
        check_results(results)
    assert not list(tmp_path.rglob("*ESCAPED*"))


# -------------------------------------------------------------------------------------------------- signals
@main_thread_only
def test_a_signal_inside_a_write_is_held_until_the_write_ends():
    steps = []
    with handled():
        with pytest.raises(Interrupted) as stop:
            with critical():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.01)  # the handler has run by now, and only noted the signal
                steps.append("write finished")
        steps.append("after")
    assert steps == ["write finished", "after"]
    assert stop.value.signame == "SIGTERM" and stop.value.exit_status == 143


@pytest.fixture
def interactive_sigint():
    """SIGINT handled as in a terminal, for this process and the processes it starts.

    A job started in the background by a non-interactive shell (``cmd &``, as
    batch systems and CI runners may do) starts with SIGINT ignored, and the
    command then rightly leaves it ignored (:mod:`simulations.interrupts`), so
    a test of Ctrl-C sets the terminal's disposition first.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@main_thread_only
@pytest.mark.parametrize("signum,status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_and_sigterm_keep_finished_cells_results_and_meta(tmp_path, monkeypatch, capsys, signum, status,
                                                                 interactive_sigint):
    real, calls = sweep_module.run_cell, []

    def signalled(cell, methods, chunk):
        if len(calls) == 2:
            signal.raise_signal(signum)  # arrives while the third cell runs
        calls.append(cell)
        return real(cell, methods, chunk)

    monkeypatch.setattr(sweep_module, "run_cell", signalled)
    assert sweep(tmp_path) == status
    assert f"stopped by {signal.Signals(signum).name}" in one_line(capsys)
    assert len(pd.read_csv(tmp_path / "results.csv")) == 2 * 2  # the two cells finished before the signal
    assert json.loads((tmp_path / "meta.json").read_text())["runs"][-1]["interrupted"] is True
    assert not tmp_files(tmp_path)


def test_sigterm_to_a_sweep_process_writes_results_and_meta_and_exits_143(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "simulations", "sweep", "--n", "4:40:1", "--d", "4,6", "--s", "1,2",
               "--sigma", "0.1,0.2", "--trials", "2000", "--methods", "ridge,ols", "--quiet", "--out", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    journal, deadline = out / "cells.jsonl", time.time() + 60
    while time.time() < deadline and not (journal.exists() and len(journal.read_text().splitlines()) >= 10):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 143
    assert err.splitlines() == [f"sparse-icl sweep: stopped by SIGTERM; finished cells are kept in "
                                f"{out}/results.csv; rerun the same command to resume"]
    assert len(pd.read_csv(out / "results.csv")) == len(ResultStore(out).rows()) >= 10
    assert json.loads((out / "meta.json").read_text())["runs"][-1]["interrupted"] is True
    assert not tmp_files(out)


@pytest.mark.slow  # starts a process and a local cluster: 10-40 s
@main_thread_only
def test_ctrl_c_on_a_dask_sweep_keeps_finished_cells_and_prints_one_line(tmp_path, interactive_sigint):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "run"
    command = [sys.executable, "-m", "simulations", "sweep", "--n", "8:64:4", "--d", "8,16", "--s", "2",
               "--trials", "3000", "--methods", "ridge,gd,pto", "--quiet", "--scheduler", "local", "--out", str(out)]
    # a session of its own: Ctrl-C in a terminal signals the whole foreground process group, workers included
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    journal, deadline = out / "cells.jsonl", time.time() + 90
    while time.time() < deadline and not (journal.exists() and len(journal.read_text().splitlines()) >= 6):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, err
    assert err.splitlines() == [f"sparse-icl sweep: stopped by SIGINT; finished cells are kept in "
                                f"{out}/results.csv; rerun the same command to resume"]
    assert len(pd.read_csv(out / "results.csv")) == len(ResultStore(out).rows()) >= 6


def test_an_interrupted_dask_sweep_keeps_every_finished_cell(tmp_path, monkeypatch):
    """Ctrl-C while waiting: the cells that finished meanwhile are appended before the client closes."""
    distributed = pytest.importorskip("dask.distributed")
    cells = plan_cells([8, 12, 16, 24], [8], [2], [0.1, 0.3], trials=30)

    def interrupted_wait(futures):
        yield futures[0]
        distributed.wait(futures)  # everything finishes while the user presses Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(distributed, "as_completed", interrupted_wait)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        with pytest.raises(KeyboardInterrupt):
            run_sweep(cells, ["ols", "ridge"], tmp_path, progress=False, scheduler=cluster)
    assert len(pd.read_csv(tmp_path / "results.csv")) == len(cells) * 2


def test_every_finished_dask_cell_reaches_the_journal_on_its_own(tmp_path, monkeypatch):
    distributed = pytest.importorskip("dask.distributed")
    cells = plan_cells([8, 12, 16, 24], [8], [2], [0.1, 0.3], trials=30)
    appended = []
    real = ResultStore.append
    monkeypatch.setattr(ResultStore, "append",
                        lambda self, rows: (appended.append({(r["n"], r["sigma"]) for r in rows}), real(self, rows)))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        run_sweep(cells, ["ols", "ridge"], tmp_path, progress=False, scheduler=cluster)
    assert len(appended) == len(cells) and all(len(cell) == 1 for cell in appended)


def test_an_unreachable_scheduler_fails_fast_with_one_line(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    start = time.perf_counter()
    assert sweep(tmp_path, "--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", "0.5") == 2
    assert time.perf_counter() - start < 15
    assert "--scheduler tcp://127.0.0.1:1: no scheduler answered within 0.5 s" in one_line(capsys)


# ------------------------------------------------------------------------------------------- file system
def test_out_that_is_a_file_or_not_writable_is_one_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "file").write_text("x")
    assert sweep(tmp_path / "file") == 2
    assert f"--out {tmp_path / 'file'}: exists and is not a directory" in one_line(capsys)
    monkeypatch.setattr(os, "access", lambda *a, **k: False)  # as an unwritable or read-only directory answers
    assert sweep(tmp_path / "dir") == 2
    assert "not writable (no permission, or a read-only file system)" in one_line(capsys)


def test_a_disk_turning_read_only_reports_the_real_error_and_keeps_what_was_written(tmp_path, monkeypatch, capsys):
    assert sweep(tmp_path) == 0
    before = (tmp_path / "results.csv").read_text()

    def read_only(src, dst):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "replace", read_only)
    assert sweep(tmp_path, "--n", "8,12,16,24") == 2
    err = one_line(capsys)
    assert f"{tmp_path / 'results.csv'}: Read-only file system" in err and "meta.json" not in err
    assert (tmp_path / "results.csv").read_text() == before  # the previous view is intact
    assert len(ResultStore(tmp_path).rows()) == 4 * 2  # the new cell is in the journal: a rerun resumes
    assert not tmp_files(tmp_path)


def test_a_full_disk_names_the_journal_and_leaves_no_temporary_file(tmp_path, monkeypatch, capsys):
    assert sweep(tmp_path) == 0

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    assert sweep(tmp_path, "--n", "8,12,16,24") == 2
    assert f"{tmp_path / 'cells.jsonl'}: No space left on device" in one_line(capsys)
    assert not tmp_files(tmp_path)


def test_an_atomic_write_that_fails_keeps_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("old\n")

    def fill_the_disk(tmp):
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left") as err:
        from simulations.outputs import atomic_write

        atomic_write(path, fill_the_disk)
    assert err.value.filename == str(path)
    assert path.read_text() == "old\n" and not tmp_files(tmp_path)
    atomic_write_text(path, "new\n")
    assert path.read_text() == "new\n" and not tmp_files(tmp_path)


def test_a_second_sweep_into_a_locked_directory_stops_at_once(tmp_path, capsys):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\n"
                               "from simulations.outputs import DirectoryLock\n"
                               "DirectoryLock(sys.argv[1]).__enter__(); print('locked', flush=True); time.sleep(60)",
                               str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert sweep(tmp_path) == 2
        assert f"in use by another sparse-icl run (pid {holder.pid})" in one_line(capsys)
        assert not (tmp_path / "cells.jsonl").exists() and not (tmp_path / "meta.json").exists()
    finally:
        holder.kill()
        holder.wait()
    assert sweep(tmp_path) == 0  # the lock went with its holder (kill -9 included)
    assert (tmp_path / LOCK_NAME).exists()


# ---------------------------------------------------------------------------------------- mixed settings
def test_rerunning_with_other_settings_is_refused_and_nothing_is_mixed(tmp_path, capsys):
    assert sweep(tmp_path) == 0
    before = (tmp_path / "results.csv").read_text()
    for flag, value, stored in (("--trials", "30", "20"), ("--seed", "4", "0")):
        assert sweep(tmp_path, flag, value) == 2
        err = one_line(capsys)
        assert f"{flag} {value} (stored: {stored})" in err and f"rerun with {flag} {stored}" in err
    assert (tmp_path / "results.csv").read_text() == before
    assert sweep(tmp_path, "--n", "8,12,16,24") == 0  # the same settings on a larger grid: resumed
    assert len(pd.read_csv(tmp_path / "results.csv")) == 4 * 2


def test_the_summary_shows_every_tuning_apart(tmp_path, capsys):
    argv = [a for a in TINY if a != "--quiet"]
    assert main([*argv, "--tuning", "oracle,theory", "--out", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert "tuning" in table
    assert sum(line.split()[:1] in (["oracle"], ["theory"]) for line in table.splitlines()) == 2


# ----------------------------------------------------------------------------------------------- journal
def test_journal_lines_missing_keys_are_skipped_with_a_warning(tmp_path, capsys):
    assert sweep(tmp_path) == 0
    with (tmp_path / "cells.jsonl").open("a") as handle:
        handle.write('{"method": "ols", "n": 8}\n[1, 2]\n{"foo": 1}\n')
    with pytest.warns(JournalWarning, match="skipped 3 line"):
        assert len(ResultStore(tmp_path).rows()) == 3 * 2
    capsys.readouterr()
    assert sweep(tmp_path) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "skipped 3 line(s) that are not result rows" in err and "Traceback" not in err
    assert len(pd.read_csv(tmp_path / "results.csv")) == 3 * 2


def test_a_nan_risk_in_the_journal_is_recomputed(tmp_path, capsys):
    assert sweep(tmp_path) == 0
    clean = pd.read_csv(tmp_path / "results.csv")
    lines = (tmp_path / "cells.jsonl").read_text().splitlines()
    row = json.loads(lines[0])
    row["risk_mean"] = math.nan
    (tmp_path / "cells.jsonl").write_text("\n".join([json.dumps(row), *lines[1:]]) + "\n")
    capsys.readouterr()
    assert sweep(tmp_path) == 0
    assert "1 row(s) with a NaN risk are not reused; their cells are computed again" in capsys.readouterr().err
    again = pd.read_csv(tmp_path / "results.csv")
    pd.testing.assert_frame_equal(again.drop(columns="seconds"), clean.drop(columns="seconds"))


# ----------------------------------------------------------------------------- inputs accepted but wrong
@pytest.mark.parametrize("argv,fragment", [
    ([*TINY, "--n", "8:9:0.5"], "a range of integers needs an integer step"),
    ([*TINY, "--chunk", "4,8"], "--chunk must be one integer >= 1 or 'auto', got '4,8'"),
    ([*TINY, "--out", ""], "argument --out: must not be empty"),
    (["curves", "--gamma-range", "0.1,inf,10"], "needs finite 0 < LOW < HIGH"),
    (["analyze", "missing", "--threads", "0"], "argument --threads: expected an integer >= 1"),
    (["sweep", "--n", "1:10000:1", "--d", "1:100:1", "--s", "1:100:1"], "the grid has 50500000 cells (about"),
])
def test_inputs_once_accepted_are_refused(argv, fragment, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert fragment in one_line(capsys)
    assert not list(tmp_path.iterdir())  # nothing written, not even into the current directory


def test_train_config_is_type_checked():
    pytest.importorskip("torch")
    from simulations.transformer.train import TrainConfig

    for values, message in (({"heads": "44"}, "heads must be a non-empty list of integers"),
                            ({"steps": True}, "steps must be an integer, got True"),
                            ({"sigma": "0.1"}, "sigma must be a number, got '0.1'"),
                            ({"lr": None}, "lr must be a number, got None"),
                            ({"mlp": "yes"}, "mlp must be true or false"),
                            ([1, 2], "a config is a JSON object")):
        with pytest.raises(TypeError, match=message):
            TrainConfig.from_dict(values)
    assert TrainConfig.from_dict({"heads": [4, 4], "steps": 10, "sigma": 0, "lr": 1}).heads == [4, 4]


def test_malformed_train_config_names_the_file(tmp_path, capsys):
    pytest.importorskip("torch")
    config = tmp_path / "config.json"
    config.write_text('{"d": 8,}')
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "run")]) == 2
    assert f"--config {config}: not valid JSON (line 1, column 9" in one_line(capsys)


def test_gd_refuses_step_counts_that_overflow_and_warns_beyond_the_stable_range():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((4, 20, 5)), rng.standard_normal((4, 20))
    with pytest.raises(ValueError, match="steps must be at most 2\\*\\*53"):
        solvers.gd(X, y, "auto", 1e30)
    top = np.linalg.eigvalsh(np.swapaxes(X, 1, 2) @ X / 20)[:, -1]
    with pytest.warns(solvers.gradient_descent.StepSizeWarning, match="stable range is 0 < step_size < 2 / l_max"):
        w = solvers.gd(X, y, 3.0 / top.min(), 1000)
    assert not np.all(np.isfinite(w)) or np.max(np.abs(w)) > 1e6
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        solvers.gd(X, y, 1.9 / top.max(), 1000)  # inside the range: no warning
        solvers.gd(X, y, 2.5 / top.max(), 3)  # past it, but three steps do not diverge


def test_plan_cells_refuses_infinite_sigma_and_counts_large_grids_first():
    with pytest.raises(ValueError, match="sigma must be"):
        plan_cells([8], [8], [2], [math.inf])
    start = time.perf_counter()
    assert grid_size(range(1, 10_001), range(1, 101), range(1, 101), [0.1]) == 50_500_000
    with pytest.raises(ValueError, match=f"the grid has 50500000 cells .* above the limit of {MAX_CELLS}"):
        plan_cells(range(1, 10_001), range(1, 101), range(1, 101), [0.1])
    assert time.perf_counter() - start < 5
    assert len(plan_cells(range(1, MAX_CELLS + 2), [4], [1], [0.1], max_cells=None)) == MAX_CELLS + 1


def test_yes_lifts_the_cell_limit(tmp_path, monkeypatch):
    seen = {}

    def planned(*args, **kwargs):
        seen.update(kwargs)
        raise ValueError("planned")

    monkeypatch.setattr(sweep_module, "plan_cells", planned)
    assert main([*TINY, "--out", str(tmp_path)]) == 2 and seen["max_cells"] == MAX_CELLS
    assert main([*TINY, "--yes", "--out", str(tmp_path)]) == 2 and seen["max_cells"] is None


def test_check_names_the_column_and_row_of_a_non_number(tmp_path, capsys):
    assert sweep(tmp_path) == 0
    frame = pd.read_csv(tmp_path / "results.csv").astype({"risk_mean": object})
    frame.loc[2, "risk_mean"] = "high"
    frame.to_csv(tmp_path / "bad.csv", index=False)
    assert main(["check", str(tmp_path / "bad.csv")]) == 2
    assert "column 'risk_mean', row 3 (line 4 of a CSV file): 'high' is not a number" in one_line(capsys)
