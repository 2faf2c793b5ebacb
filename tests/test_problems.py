"""The problem sampler: laws, reproducibility, chunk independence -- for both generators."""

import numpy as np
import pytest
from scipy import stats

import array_api_compat.numpy as xp_numpy
from simulations import philox, sample_problems, signal_norm2

both_rngs = pytest.mark.parametrize("rng", ["host", "device"])


@both_rngs
def test_shapes_and_sparsity(rng):
    p = sample_problems(12, 20, 3, 0.5, 300, seed=4, rng=rng)
    assert p.X.shape == (300, 12, 20) and p.y.shape == (300, 12) and p.w_star.shape == (300, 20)
    assert np.all(np.count_nonzero(p.w_star, axis=1) == 3)
    assert np.all(np.diff(p.support, axis=1) > 0)
    np.testing.assert_array_equal(np.nonzero(p.w_star)[1].reshape(300, 3), p.support)


@pytest.mark.parametrize("signal", ["gaussian", "rademacher", "unnormalized"])
@both_rngs
def test_signal_norm_has_the_documented_mean(signal, rng):
    p = sample_problems(4, 16, 4, 0.0, 4000, seed=1, signal=signal, rng=rng)
    norms = np.sum(p.w_star**2, axis=1)
    sem = norms.std(ddof=1) / np.sqrt(norms.size)
    if signal == "rademacher":
        np.testing.assert_allclose(norms, 1.0)
    else:
        assert abs(norms.mean() - signal_norm2(signal, 4)) < 5 * sem


@both_rngs
def test_noise_level(rng):
    p = sample_problems(30, 5, 2, 0.7, 2000, seed=2, rng=rng)
    noise = p.y - np.einsum("tnd,td->tn", p.X, p.w_star)
    var, sem = noise.var(), noise.var() * np.sqrt(2 / noise.size)
    assert abs(var - 0.49) < 5 * sem


@both_rngs
def test_support_is_uniform(rng):
    counts = np.bincount(sample_problems(2, 10, 1, 0.0, 5000, seed=3, rng=rng).support.ravel(), minlength=10)
    expected = 500
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))


@both_rngs
def test_instances_do_not_depend_on_chunking(rng):
    whole = sample_problems(9, 7, 2, 0.3, 700, seed=11, rng=rng)
    parts = [sample_problems(9, 7, 2, 0.3, 150, seed=11, offset=o, rng=rng) for o in range(0, 700, 150)]
    np.testing.assert_array_equal(whole.X, np.concatenate([q.X for q in parts])[:700])
    np.testing.assert_array_equal(whole.y, np.concatenate([q.y for q in parts])[:700])


@both_rngs
def test_seed_and_cell_change_the_stream_but_sigma_shares_it(rng):
    a = sample_problems(5, 5, 1, 0.1, 10, seed=0, rng=rng)
    assert not np.array_equal(a.X, sample_problems(5, 5, 1, 0.1, 10, seed=1, rng=rng).X)
    assert not np.array_equal(a.X, sample_problems(5, 5, 2, 0.1, 10, seed=0, rng=rng).X)
    b = sample_problems(5, 5, 1, 0.3, 10, seed=0, rng=rng)
    np.testing.assert_array_equal(a.X, b.X)
    noise = lambda p: p.y - np.einsum("tnd,td->tn", p.X, p.w_star)  # noqa: E731
    np.testing.assert_allclose(noise(b), 3 * noise(a))


@pytest.mark.parametrize("kwargs,message", [
    (dict(n=0), "n must be an integer >= 1"),
    (dict(s=9), "s must be <= d"),
    (dict(sigma=-1.0), "sigma must be finite and >= 0"),
    (dict(signal="laplace"), "signal must be one of"),
    (dict(trials=2.5), "trials must be an integer"),
    (dict(seed=-3), "seed must be a non-negative integer"),
    (dict(rng="gpu"), "rng must be one of"),
])
def test_bad_input(kwargs, message):
    args = dict(n=4, d=8, s=2, sigma=0.1, trials=3) | kwargs
    with pytest.raises(ValueError, match=message):
        sample_problems(**args)


# Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors):
# counter (4 words), key (2 words) -> output (4 words).
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("counter,key,expected", PHILOX_KAT)
def test_philox_matches_the_random123_known_answers(counter, key, expected):
    assert tuple(int(w) for w in philox.philox4x32(counter, key, xp_numpy)) == expected


def test_philox_is_elementwise_in_the_counter():
    counters = (np.array([0, 0xFFFFFFFF, 0x243F6A88]), np.array([0, 0xFFFFFFFF, 0x85A308D3]),
                np.array([0, 0xFFFFFFFF, 0x13198A2E]), np.array([0, 0xFFFFFFFF, 0x03707344]))
    batched = philox.philox4x32(counters, (0xA4093822, 0x299F31D0), xp_numpy)
    for i in range(3):
        one = philox.philox4x32(tuple(c[i] for c in counters), (0xA4093822, 0x299F31D0), xp_numpy)
        assert tuple(int(w[i]) for w in batched) == tuple(int(w) for w in one)


def test_device_normals_pass_kolmogorov_smirnov_and_moment_checks():
    z = philox.normals((12345, 678), 0, 0, 400, 1001, xp_numpy).ravel()  # odd width: the last pair is cut
    assert z.size == 400 * 1001
    assert stats.kstest(z, "norm").pvalue > 1e-3
    se = np.array([1, np.sqrt(2), np.sqrt(15), np.sqrt(96)]) / np.sqrt(z.size)  # sd of z, z^2, z^3, z^4
    moments = np.array([z.mean(), (z**2).mean() - 1, (z**3).mean(), (z**4).mean() - 3])
    assert np.all(np.abs(moments) < 5 * se)


def test_device_uniforms_are_uniform_and_pairs_uncorrelated():
    u = philox.uniforms((1, 2), 5, 10**9, 200, 2000, xp_numpy)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u.ravel(), "uniform").pvalue > 1e-3
    lag = np.corrcoef(u[:, :-1].ravel(), u[:, 1:].ravel())[0, 1]
    assert abs(lag) < 5 / np.sqrt(u.size)


def test_device_streams_are_independent_of_each_other():
    p = sample_problems(8, 8, 8, 1.0, 20000, seed=6, rng="device")
    noise = p.y - np.einsum("tnd,td->tn", p.X, p.w_star)
    for a, b in ((p.X[:, 0, :], p.w_star), (p.X[:, :, 0], noise)):
        assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 5 / np.sqrt(a.size)


def test_device_draws_do_not_depend_on_the_slab_size(monkeypatch):
    whole = sample_problems(6, 10, 3, 0.2, 50, seed=9, offset=7, rng="device")
    monkeypatch.setattr(philox, "MAX_COUNTERS", 40)  # many small slabs
    sliced = sample_problems(6, 10, 3, 0.2, 50, seed=9, offset=7, rng="device")
    for a, b in ((whole.X, sliced.X), (whole.y, sliced.y), (whole.support, sliced.support)):
        np.testing.assert_array_equal(a, b)


def test_the_two_generators_draw_different_instances():
    host, device = (sample_problems(4, 4, 2, 0.1, 5, seed=0, rng=r) for r in ("host", "device"))
    assert not np.allclose(host.X, device.X)


@pytest.mark.parametrize("signal", ["gaussian", "rademacher", "unnormalized"])
def test_device_draws_use_only_the_array_api_standard(signal):
    """The counter-based path runs unchanged on array_api_strict, as it must on CuPy."""
    xs = pytest.importorskip("array_api_strict")
    from simulations.problems import _draw_counter_based, cell_key
    from simulations.spec import Setting

    args = (Setting(6, 10, 3, 0.2, signal), 9, cell_key(6, 10, 3, signal), 7, 50)
    strict, reference = _draw_counter_based(*args, xs), _draw_counter_based(*args, xp_numpy)
    for a, b in zip(strict, reference):
        assert type(a).__module__.startswith("array_api_strict")
        np.testing.assert_array_equal(np.asarray(a), b)


@both_rngs
def test_float32_problems_are_the_float64_problems_rounded(rng):
    p64 = sample_problems(7, 5, 2, 0.3, 20, seed=1, rng=rng)
    p32 = sample_problems(7, 5, 2, 0.3, 20, seed=1, rng=rng, dtype="float32")
    assert p32.X.dtype == p32.y.dtype == p32.w_star.dtype == np.float32
    for a, b in ((p32.X, p64.X), (p32.y, p64.y), (p32.w_star, p64.w_star)):
        np.testing.assert_array_equal(a, b.astype(np.float32))


@pytest.fixture(scope="module")
def philox_in_c(compile_c):
    """The CUDA kernel's C source compiled for the host, filling ``count x width`` entries like the kernel."""
    import ctypes

    library = compile_c("philox", "#include <math.h>\n#define PHILOX_FN static\n" + philox.C_SOURCE + """
void fill(double *out, unsigned long long first, unsigned long long count, unsigned long long width,
          unsigned int stream, unsigned int k0, unsigned int k1, int normal) {
    for (unsigned long long i = 0; i < count * width; ++i)
        out[i] = philox_value(first + i / width, i % width, stream, k0, k1, normal);
}
""")
    fill = library.fill
    fill.argtypes = [np.ctypeslib.ndpointer(np.float64, flags="C_CONTIGUOUS"), ctypes.c_ulonglong,
                     ctypes.c_ulonglong, ctypes.c_ulonglong, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint,
                     ctypes.c_int]

    def draw(key, stream, first, count, width, normal):
        out = np.empty((count, width))
        fill(out, first, count, width, stream, key[0], key[1], int(normal))
        return out

    return draw


@pytest.mark.parametrize("first", [0, 2**32 - 3])  # the second crosses into the counter's high word
@pytest.mark.parametrize("width", [1, 7, 64])
def test_the_cuda_kernel_source_computes_the_array_api_generator(philox_in_c, first, width):
    key = (0xA4093822, 0x299F31D0)
    u = philox_in_c(key, 3, first, 6, width, normal=False)
    np.testing.assert_array_equal(u, philox.uniforms(key, 3, first, 6, width, xp_numpy))
    z = philox_in_c(key, 3, first, 6, width, normal=True)
    np.testing.assert_allclose(z, philox.normals(key, 3, first, 6, width, xp_numpy), rtol=1e-14, atol=1e-14)
