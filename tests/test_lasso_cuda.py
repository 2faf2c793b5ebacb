"""The CUDA Lasso engine: its C source compiled for the host against the numba engine, and on a GPU against NumPy.

The kernel's source is plain C apart from its qualifiers, so a host build of
the same functions (one instance per call, in a loop) checks its arithmetic
on any machine with a C compiler; ``--fmad=false`` on the GPU and
``-ffp-contract=off`` here keep both builds to the numba engine's operations.
"""

import ctypes

import numpy as np
import pytest

from solvers import lasso, lasso_alpha_max
from solvers._lasso_cd import PathResult
from solvers._lasso_cuda import C_SOURCE, preamble
from solvers._lasso_kernel import cd_path_compiled

from test_lasso import problems

FRACTIONS = np.geomspace(1.0, 1e-3, 12)
CASES = [("gaussian", 40, 12), ("gaussian", 10, 25), ("ar1", 30, 16), ("ar1", 12, 20), ("duplicated", 30, 12),
         ("duplicated", 10, 16), ("gaussian", 16, 16)]

HOST_LOOP = """
void paths(long long B, int d, int K, const real *G, const real *c, const real *yy, const real *alphas,
           const real *target, int max_iter, int rank, int use_homotopy, real *coef, real *gap, long long *n_iter,
           real *w, real *w_prev, real *q, real *inv, int *act, real *L, real *x, real *w_new, real *q_new,
           real *exact, real *sign, int *active) {
    for (long long b = 0; b < B; ++b)
        lasso_path(b, B, d, K, G, c, yy, alphas, target, max_iter, rank, use_homotopy, coef, gap, n_iter, w, w_prev,
                   q, inv, act, L, x, w_new, q_new, exact, sign, active);
}
"""


@pytest.fixture(scope="module")
def host_engine(compile_c):
    """``cd_path_cuda``'s computation, run by the kernel's C source compiled for the host (float64 and float32)."""
    libraries = {}
    for real, dtype in (("double", np.float64), ("float", np.float32)):
        fn = compile_c(f"lasso_{real}", "#include <math.h>\n#define LASSO_FN static\n" + preamble(real) + C_SOURCE
                       + HOST_LOOP).paths
        vec = np.ctypeslib.ndpointer(dtype, flags="C_CONTIGUOUS")
        ints = np.ctypeslib.ndpointer(np.int32, flags="C_CONTIGUOUS")
        longs = np.ctypeslib.ndpointer(np.int64, flags="C_CONTIGUOUS")
        fn.argtypes = ([ctypes.c_longlong, ctypes.c_int, ctypes.c_int] + [vec] * 5 + [ctypes.c_int] * 3
                       + [vec, vec, longs] + [vec] * 4 + [ints] + [vec] * 6 + [ints])
        libraries[np.dtype(dtype)] = fn

    def run(G, c, yy, alphas, tol, max_iter, rank, homotopy):
        dtype = G.dtype
        B, d, _ = G.shape
        K = len(alphas)
        target = (tol * yy / 2).astype(dtype)
        coef, gap, n_iter = np.empty((K, d, B), dtype), np.empty((K, B), dtype), np.empty((K, B), np.int64)
        scratch = [np.empty((d, B), dtype) for _ in range(4)]
        act, L = np.empty((d, B), np.int32), np.empty((d, d, B), dtype)
        more = [np.empty((d, B), dtype) for _ in range(3)]
        exact, sign, active = np.empty((K, d, B), dtype), np.empty((d, B), dtype), np.empty((d, B), np.int32)
        libraries[np.dtype(dtype)](
            B, d, K, np.ascontiguousarray(np.moveaxis(G, 0, -1)), np.ascontiguousarray(c.T), yy,
            np.ascontiguousarray(alphas, dtype=dtype), target, max_iter, rank, int(homotopy), coef, gap, n_iter,
            *scratch, act, L, *more, exact, sign, active)
        return PathResult(coef=coef.transpose(0, 2, 1), gap=gap, n_iter=n_iter, converged=gap <= target[None, :])

    return run


def gram(X, y, dtype):
    n = X.shape[1]
    G = np.swapaxes(X, 1, 2) @ X / n
    G = (G + np.swapaxes(G, 1, 2)) / 2
    return G.astype(dtype), (np.einsum("bnd,bn->bd", X, y) / n).astype(dtype), (np.sum(y * y, 1) / n).astype(dtype)


@pytest.mark.parametrize("homotopy", [False, True])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("kind,n,d", CASES)
def test_kernel_source_computes_the_numba_engine_bit_for_bit(host_engine, kind, n, d, dtype, tol, homotopy):
    """Same iterates, sweep counts and gaps as the compiled CPU engine, with and without homotopy warm starts."""
    X, y = problems(kind, 6, n, d, seed=n + d)
    G, c, yy = gram(X, y, dtype)
    alphas = (FRACTIONS * lasso_alpha_max(X, y).max()).astype(dtype)
    args = (G, c, yy, alphas, tol, 200, min(n, d))
    got, expected = host_engine(*args, homotopy), cd_path_compiled(*args, homotopy=homotopy)
    np.testing.assert_array_equal(got.n_iter, expected.n_iter)
    np.testing.assert_array_equal(got.coef, expected.coef)
    np.testing.assert_array_equal(got.gap, expected.gap)
    np.testing.assert_array_equal(got.converged, expected.converged)


def test_kernel_source_stops_at_max_iter_and_reports_it(host_engine):
    X, y = problems("ar1", 5, 12, 20, seed=2)
    G, c, yy = gram(X, y, np.float64)
    alphas = FRACTIONS * lasso_alpha_max(X, y).max()
    result = host_engine(G, c, yy, alphas, 1e-14, 1, 12, False)
    assert np.all(result.n_iter == 1)
    assert not result.converged.all()  # one sweep per alpha does not certify 1e-14 on these designs
    np.testing.assert_array_equal(result.converged, result.gap <= 1e-14 * yy[None, :] / 2)


@pytest.mark.gpu
@pytest.mark.parametrize("homotopy", [False, True])
@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
@pytest.mark.parametrize("kind,n,d", CASES)
def test_cuda_engine_computes_the_numba_engine_bit_for_bit(kind, n, d, dtype, tol, homotopy):
    import cupy

    from solvers._lasso_cuda import cd_path_cuda

    X, y = problems(kind, 300, n, d, seed=n + d)  # several blocks of threads
    G, c, yy = gram(X, y, dtype)
    alphas = (FRACTIONS * lasso_alpha_max(X, y).max()).astype(dtype)
    got = cd_path_cuda(cupy.asarray(G), cupy.asarray(c), cupy.asarray(yy), alphas, tol, 200, min(n, d),
                       homotopy=homotopy)
    expected = cd_path_compiled(G, c, yy, alphas, tol, 200, min(n, d), homotopy=homotopy)
    np.testing.assert_array_equal(got.n_iter, expected.n_iter)
    np.testing.assert_array_equal(cupy.asnumpy(got.coef), expected.coef)
    np.testing.assert_array_equal(got.gap, expected.gap)


@pytest.mark.gpu
def test_lasso_on_cupy_runs_the_cuda_engine_and_matches_numpy():
    import cupy

    X, y = problems("ar1", 50, 12, 16, seed=6)  # n < d: homotopy warm starts on both
    alphas = lasso_alpha_max(X, y).max() * np.geomspace(1, 1e-2, 8)
    W_np, info_np = lasso(X, y, alphas, tol=1e-12, return_info=True)
    for engine in ("auto", "compiled"):
        W_cp, info_cp = lasso(cupy.asarray(X), cupy.asarray(y), alphas, tol=1e-12, return_info=True, engine=engine)
        assert isinstance(W_cp, cupy.ndarray)
        assert info_cp.converged.all()
        np.testing.assert_allclose(cupy.asnumpy(W_cp), W_np, rtol=0, atol=1e-8)
