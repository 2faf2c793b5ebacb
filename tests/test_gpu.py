"""The CuPy path against the NumPy path (skipped without CuPy and a CUDA device).

Run on a GPU machine with ``pytest tests/test_gpu.py`` (or ``bash benchmarks/gpu_suite.sh tests``).
Equal inputs must give equal outputs to rounding: the solvers share one
array-API code path, and the counter-based generator does the same integer
arithmetic on both backends.
"""

import numpy as np
import pandas as pd
import pytest

from simulations import philox, sample_problems
from simulations.cli import main
from simulations.methods import METHODS, Setting
from simulations.sweep import Cell, auto_chunk, run_cell

pytestmark = pytest.mark.gpu
cupy = pytest.importorskip("cupy")

RISK = ["risk_mean", "risk_sem", "hyperparameter", "edge", "diverged"]


def cell(**kwargs):
    base = dict(n=24, d=16, s=2, sigma=0.2, signal="gaussian", trials=400, seed=3, tuning="oracle",
                backend="cupy", rng="host")
    return Cell(**(base | kwargs))


@pytest.mark.parametrize("name", list(METHODS))
@pytest.mark.parametrize("n,d", [(12, 24), (40, 16)])
@pytest.mark.usefixtures("lasso_reference_engine")
def test_every_method_gives_the_numpy_estimates(name, n, d):
    p = sample_problems(n, d, 3, 0.3, 64, seed=1)
    method = METHODS[name]
    setting = Setting(n, d, 3, 0.3, "gaussian")
    grid = method.grid(setting)
    W_np, _ = method.fit(p.X, p.y, grid, setting, p.support)
    W_cp, _ = method.fit(cupy.asarray(p.X), cupy.asarray(p.y), grid, setting, cupy.asarray(p.support))
    assert isinstance(W_cp, cupy.ndarray)
    scale = np.max(np.abs(W_np[np.isfinite(W_np)]))
    atol = 1e-6 if name == "lasso" else 1e-9  # the Lasso stops at a duality gap, not at a fixed point
    np.testing.assert_allclose(cupy.asnumpy(W_cp), W_np, rtol=0, atol=atol * scale)


def test_philox_words_are_bitwise_equal_on_both_backends():
    import array_api_compat.cupy as xp_cupy
    import array_api_compat.numpy as xp_numpy

    counter = tuple(np.arange(1000, dtype=np.uint64) * k for k in (1, 7, 2**20, 3))
    host = philox.philox4x32(counter, (0xA4093822, 0x299F31D0), xp_numpy)
    device = philox.philox4x32(tuple(cupy.asarray(c) for c in counter), (0xA4093822, 0x299F31D0), xp_cupy)
    for a, b in zip(host, device):
        np.testing.assert_array_equal(cupy.asnumpy(b), a)


@pytest.mark.parametrize("first", [0, 2**32 - 3])
def test_the_fused_kernel_draws_what_the_array_api_generator_draws(first):
    import array_api_compat.cupy as xp_cupy
    import array_api_compat.numpy as xp_numpy

    key = (12345, 678)
    for width in (1, 7, 2048):
        u = philox.uniforms(key, 2, first, 300, width, xp_cupy)
        np.testing.assert_array_equal(cupy.asnumpy(u), philox.uniforms(key, 2, first, 300, width, xp_numpy))
        z = philox.normals(key, 2, first, 300, width, xp_cupy)
        np.testing.assert_allclose(cupy.asnumpy(z), philox.normals(key, 2, first, 300, width, xp_numpy),
                                   rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("signal", ["gaussian", "rademacher"])
def test_device_draws_equal_the_same_draws_made_with_numpy(signal):
    host = sample_problems(20, 30, 4, 0.5, 300, seed=2, signal=signal, offset=77, rng="device")
    device = sample_problems(20, 30, 4, 0.5, 300, seed=2, signal=signal, offset=77, rng="device",
                             backend="cupy")
    assert isinstance(device.X, cupy.ndarray)
    np.testing.assert_array_equal(cupy.asnumpy(device.support), host.support)
    for a, b in ((device.X, host.X), (device.y, host.y), (device.w_star, host.w_star)):
        np.testing.assert_allclose(cupy.asnumpy(a), b, rtol=0, atol=1e-12)


@pytest.mark.usefixtures("lasso_reference_engine")
def test_a_cupy_cell_gives_the_numpy_rows():
    methods = list(METHODS)
    on_gpu = pd.DataFrame(run_cell(cell(), methods))
    on_cpu = pd.DataFrame(run_cell(cell(backend="numpy"), methods))
    pd.testing.assert_frame_equal(on_gpu[RISK], on_cpu[RISK], rtol=1e-6)


def test_device_rng_cells_do_not_depend_on_the_chunk_size():
    methods = ["ridge", "pto", "lasso"]
    whole = pd.DataFrame(run_cell(cell(rng="device"), methods, chunk=400))
    chunked = pd.DataFrame(run_cell(cell(rng="device"), methods, chunk=57))
    pd.testing.assert_frame_equal(whole[RISK], chunked[RISK], rtol=1e-9)


def test_a_real_out_of_memory_error_halves_the_chunk(monkeypatch):
    from simulations import sweep as sweep_module

    expected = pd.DataFrame(run_cell(cell(n=256, d=128, trials=64), ["ridge", "pto"], chunk=8))
    sizes = []
    real_draw = sweep_module.draw_problems
    monkeypatch.setattr(sweep_module, "draw_problems",
                        lambda *args, **kwargs: (sizes.append(args[1]), real_draw(*args, **kwargs))[1])
    pool = cupy.get_default_memory_pool()
    pool.free_all_blocks()
    limit = pool.get_limit()
    pool.set_limit(size=24 * 2**20)  # X alone of a 64-instance chunk of (256, 128) problems is 16 MB
    try:
        rows = pd.DataFrame(run_cell(cell(n=256, d=128, trials=64), ["ridge", "pto"], chunk=64))
    finally:
        pool.set_limit(size=limit)
    assert sizes[0] == 64 and min(sizes) < 64  # CuPy's OutOfMemoryError was caught and the chunk halved
    pd.testing.assert_frame_equal(rows[RISK], expected[RISK], rtol=1e-9)


def test_auto_chunk_uses_the_free_device_memory():
    free = cupy.cuda.Device().mem_info[0] + cupy.get_default_memory_pool().free_bytes()
    big = cell(n=4096, d=1024, trials=10**6)
    chunk = auto_chunk(big)
    assert 1 <= chunk < 10**6
    assert chunk * 8 * (4 * 4096 * 1024) <= free


def test_float32_on_the_gpu_agrees_with_float64():
    methods = ["ridge", "gd", "pto", "lasso"]
    rows64 = {r["method"]: r for r in run_cell(cell(rng="device"), methods)}
    rows32 = {r["method"]: r for r in run_cell(cell(rng="device", dtype="float32"), methods)}
    for m, row in rows64.items():
        assert abs(rows32[m]["risk_mean"] - row["risk_mean"]) < 0.01 * row["risk_sem"]


def test_cli_sweep_on_the_gpu_draws_on_the_device(tmp_path):
    out = tmp_path / "gpu"
    assert main(["sweep", "--backend", "cupy", "--n", "8,16", "--trials", "50", "--quiet", "--out", str(out)]) == 0
    results = pd.read_csv(out / "results.csv")
    assert set(results["backend"]) == {"cupy"} and set(results["rng"]) == {"device"}
    assert np.isfinite(results["risk_mean"]).all()
