"""The problem sampler: laws, reproducibility, chunk independence."""

import numpy as np
import pytest

from simulations import sample_problems, signal_norm2


def test_shapes_and_sparsity():
    p = sample_problems(12, 20, 3, 0.5, 300, seed=4)
    assert p.X.shape == (300, 12, 20) and p.y.shape == (300, 12) and p.w_star.shape == (300, 20)
    assert np.all(np.count_nonzero(p.w_star, axis=1) == 3)
    assert np.all(np.diff(p.support, axis=1) > 0)
    np.testing.assert_array_equal(np.nonzero(p.w_star)[1].reshape(300, 3), p.support)


@pytest.mark.parametrize("signal", ["gaussian", "rademacher", "unnormalized"])
def test_signal_norm_has_the_documented_mean(signal):
    p = sample_problems(4, 16, 4, 0.0, 4000, seed=1, signal=signal)
    norms = np.sum(p.w_star**2, axis=1)
    sem = norms.std(ddof=1) / np.sqrt(norms.size)
    if signal == "rademacher":
        np.testing.assert_allclose(norms, 1.0)
    else:
        assert abs(norms.mean() - signal_norm2(signal, 4)) < 5 * sem


def test_noise_level():
    p = sample_problems(30, 5, 2, 0.7, 2000, seed=2)
    noise = p.y - np.einsum("tnd,td->tn", p.X, p.w_star)
    var, sem = noise.var(), noise.var() * np.sqrt(2 / noise.size)
    assert abs(var - 0.49) < 5 * sem


def test_support_is_uniform():
    counts = np.bincount(sample_problems(2, 10, 1, 0.0, 5000, seed=3).support.ravel(), minlength=10)
    expected = 500
    assert np.all(np.abs(counts - expected) < 5 * np.sqrt(expected))


def test_instances_do_not_depend_on_chunking():
    whole = sample_problems(9, 7, 2, 0.3, 700, seed=11)
    parts = [sample_problems(9, 7, 2, 0.3, 150, seed=11, offset=o) for o in range(0, 700, 150)]
    np.testing.assert_array_equal(whole.X, np.concatenate([q.X for q in parts])[:700])
    np.testing.assert_array_equal(whole.y, np.concatenate([q.y for q in parts])[:700])


def test_seed_and_cell_change_the_stream_but_sigma_shares_it():
    a = sample_problems(5, 5, 1, 0.1, 10, seed=0)
    assert not np.array_equal(a.X, sample_problems(5, 5, 1, 0.1, 10, seed=1).X)
    assert not np.array_equal(a.X, sample_problems(5, 5, 2, 0.1, 10, seed=0).X)
    b = sample_problems(5, 5, 1, 0.3, 10, seed=0)
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
])
def test_bad_input(kwargs, message):
    args = dict(n=4, d=8, s=2, sigma=0.1, trials=3) | kwargs
    with pytest.raises(ValueError, match=message):
        sample_problems(**args)
