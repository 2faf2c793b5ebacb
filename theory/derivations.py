"""Symbolic derivations (SymPy) behind the closed forms of :mod:`theory`.

Each function returns a dict of SymPy expressions that must simplify to zero
(or named results); ``tests/test_theory_derivations.py`` runs them. Run
``python -m theory.derivations`` to print them.

1. :func:`one_step_gd` - docs/math.md, section 4a, from the Wishart moments
   ``E[X^T X] = n I``, ``E[(X^T X)^2] = n (n + d + 1) I``.
2. :func:`ridge_fixed_point` - docs/math.md, section 4c: ``kappa`` solves a quadratic, the
   Marchenko-Pastur Stieltjes transform is ``m(-lam) = 1 / (1 - gamma + kappa)``
   (it satisfies the MP self-consistent equation), the bias
   ``r2 lam^2 int (l + lam)^{-2} dF = r2 lam^2 (-dm/dlam)`` and variance
   ``sigma^2 gamma int l (l + lam)^{-2} dF = sigma^2 gamma (m + lam dm/dlam)``
   add up to ``(kappa^2 r2 + sigma^2 gamma) / ((1 + kappa)^2 - gamma)``, the
   ridgeless limits on both sides of ``gamma = 1``, and the optimal ``lam``.
3. :func:`amp_normalisation` - scikit-learn's Lasso penalty ``alpha`` is the
   penalty ``lambda = alpha sqrt(n)`` of ``(1/2) ||y - A x||^2`` with
   ``A = X / sqrt(n)``, and the state evolution and calibration of Bayati and
   Montanari in the units of :mod:`theory.amp`.
4. :func:`soft_threshold_moments` - the Gaussian integrals behind
   :func:`theory.scalar_channel.soft_threshold_risk`.
5. :func:`replica_stationarity` - the stationary points of the replica
   potential are the state-evolution fixed points, and at ``eps = 1`` with a
   Gaussian prior the Bayes fixed point is the optimal ridge risk.
"""

from __future__ import annotations

import sympy as sp


def one_step_gd() -> dict[str, sp.Expr]:
    """Derive ``E||w_1 - w*||^2`` for ``w_1 = eta X^T y / n``.

    With ``S = X^T X / n`` and ``y = X w* + xi``:
    ``w_1 - w* = (eta S - I) w* + eta X^T xi / n``, the cross term has mean 0, so

    ``E||w_1 - w*||^2 = w*^T E[(eta S - I)^2] w* + eta^2 sigma^2 E tr(S) / n``

    and ``E[S] = I``, ``E[S^2] = (n + d + 1)/n I``, ``E tr S = d``.

    Returns
    -------
    dict with ``risk`` (the derived expression), ``residual`` (derived minus
    the formula of docs/math.md, section 4a: 0), ``optimal_step`` and ``stationarity`` (the
    derivative at the optimal step, 0).
    """
    n, d, r2, s2, eta = sp.symbols("n d r2 sigma2 eta", positive=True)
    E_S = 1  # E[S] = I, acting on w*: w*^T E[S] w* = r2
    E_S2 = (n + d + 1) / n  # E[S^2] = (n + d + 1)/n I
    bias = r2 * (eta**2 * E_S2 - 2 * eta * E_S + 1)
    variance = eta**2 * s2 * d / n  # eta^2 E[xi^T X X^T xi] / n^2 = eta^2 sigma^2 E tr(X^T X) / n^2
    risk = sp.expand(bias + variance)
    spec = r2 * ((1 - eta) ** 2 + eta**2 * (d + 1) / n) + eta**2 * s2 * d / n
    (optimal,) = sp.solve(sp.diff(risk, eta), eta)
    closed = n * r2 / (n * r2 + (d + 1) * r2 + d * s2)
    return {
        "risk": risk,
        "residual": sp.simplify(risk - spec),
        "optimal_step": sp.simplify(optimal),
        "optimal_step_residual": sp.simplify(optimal - closed),
        "stationarity": sp.simplify(sp.diff(risk, eta).subs(eta, closed)),
    }


def ridge_fixed_point() -> dict[str, sp.Expr]:
    """Derive the ridge deterministic equivalent from the MP self-consistent equation.

    Parametrise by ``kappa > 0``: the quadratic
    ``kappa^2 + (1 - lam - gamma) kappa - lam = 0`` gives
    ``lam = kappa (1 + kappa - gamma) / (1 + kappa)``. The Stieltjes transform
    ``m(z) = int dF_gamma(l) / (l - z)`` of the MP law solves
    ``gamma z m^2 + (z - 1 + gamma) m + 1 = 0``; we check that
    ``m = 1 / (1 - gamma + kappa)`` solves it at ``z = -lam``, then use
    ``int (l + lam)^{-2} dF = dm/dz = -dm/dlam`` (chain rule through kappa).

    Returns
    -------
    dict of expressions that simplify to 0 (``*_residual``), plus ``risk``.
    """
    kappa, gamma, r2, s2, lam_sym = sp.symbols("kappa gamma r2 sigma2 lam", positive=True)
    quadratic = kappa**2 + (1 - lam_sym - gamma) * kappa - lam_sym
    lam = kappa * (1 + kappa - gamma) / (1 + kappa)
    root = ((lam_sym + gamma - 1) + sp.sqrt((lam_sym + gamma - 1) ** 2 + 4 * lam_sym)) / 2
    m = 1 / (1 - gamma + kappa)
    z = -lam
    dm_dlam = sp.diff(m, kappa) / sp.diff(lam, kappa)
    int_inv2 = -dm_dlam  # int dF / (l + lam)^2
    bias = r2 * lam**2 * int_inv2
    variance = s2 * gamma * (m - lam * int_inv2)  # l/(l+lam)^2 = 1/(l+lam) - lam/(l+lam)^2
    risk = sp.simplify(bias + variance)
    closed = (kappa**2 * r2 + s2 * gamma) / ((1 + kappa) ** 2 - gamma)
    d_risk_dkappa = sp.diff(closed, kappa)
    return {
        "quadratic_residual": sp.simplify(quadratic.subs(lam_sym, lam)),
        "root_residual": sp.simplify(quadratic.subs(kappa, root)),
        "stieltjes_residual": sp.simplify(gamma * z * m**2 + (z - 1 + gamma) * m + 1),
        "risk": risk,
        "risk_residual": sp.simplify(risk - closed),
        "ridgeless_below_residual": sp.simplify(
            sp.limit(closed.subs(kappa, root), lam_sym, 0, "+").subs(gamma, sp.Rational(1, 3))
            - (s2 * gamma / (1 - gamma)).subs(gamma, sp.Rational(1, 3))),
        "ridgeless_above_residual": sp.simplify(
            sp.limit(closed.subs(kappa, root), lam_sym, 0, "+").subs(gamma, 3)
            - (r2 * (1 - 1 / gamma) + s2 / (gamma - 1)).subs(gamma, 3)),
        "ridgeless_kappa_above_residual": sp.simplify(root.subs(lam_sym, 0) - (gamma - 1)).subs(gamma, 3),
        # d closed / d kappa = 2 (1 + kappa)(r2 lam(kappa) - sigma^2 gamma) / ((1+kappa)^2 - gamma)^2, and
        # lam(kappa) is increasing, so the only critical point is r2 lam = sigma^2 gamma.
        "optimal_lambda_residual": sp.simplify(
            d_risk_dkappa - 2 * (1 + kappa) * (r2 * lam - s2 * gamma) / ((1 + kappa) ** 2 - gamma) ** 2),
        # dlam/dkappa = ((1 + kappa)^2 - gamma) / (1 + kappa)^2 > 0 whenever lam > 0 (then 1 + kappa > gamma).
        "lambda_increasing_residual": sp.simplify(sp.diff(lam, kappa) - ((1 + kappa) ** 2 - gamma) / (1 + kappa) ** 2),
        "bayes_residual": sp.simplify(closed.subs(s2, r2 * lam / gamma) - r2 * lam / (1 - gamma + kappa)),
    }


def amp_normalisation() -> dict[str, sp.Expr]:
    """scikit-learn's Lasso in the normalisation of AMP, and the state evolution in the units of :mod:`theory.amp`.

    With ``A = X / sqrt(n)`` (entries ``N(0, 1/n)``) and ``x = sqrt(n) w``,
    ``X w = A x``, so ``n [(1/(2n)) ||y - X w||^2 + alpha ||w||_1]
    = (1/2) ||y - A x||^2 + alpha sqrt(n) ||x||_1``: the same minimiser, with
    ``lambda = alpha sqrt(n)`` (checked on an explicit 2 x 3 design).

    Bayati and Montanari's state evolution is
    ``tau_BM^2 = sigma^2 + E_BM / delta`` for ``x_0 = sqrt(n) w* = sqrt(delta) W``
    (``W = sqrt(d) w*_j``, ``delta = n/d``), and soft thresholding is
    homogeneous, ``eta(c y; c theta) = c eta(y; theta)`` for ``c > 0``; so
    with ``tau = tau_BM / sqrt(delta)``, ``theta = theta_BM / sqrt(delta)``,
    ``E_BM = delta R`` where ``R = E (eta(W + tau Z; theta) - W)^2``. Then
    ``tau^2 = (sigma^2 + R) / delta``, the risk
    ``||w_hat - w*||^2 = ||x_hat - x_0||^2 / n = d E_BM / n = R``, and their
    calibration ``lambda = theta_BM (1 - P / delta)`` reads
    ``alpha sqrt(d) = theta (1 - P / delta)``.
    """
    n, alpha, d, delta, R, sigma2, theta, P = sp.symbols("n alpha d delta R sigma2 theta P", positive=True)
    A = sp.Matrix(2, 3, sp.symbols("a0:6", real=True))
    x = sp.Matrix(sp.symbols("x0:3", real=True))
    y = sp.Matrix(sp.symbols("y0:2", real=True))
    X, w = sp.sqrt(n) * A, x / sp.sqrt(n)
    sklearn = (y - X * w).dot(y - X * w) / (2 * n) + alpha * sum(sp.Abs(v) for v in w)
    amp = (y - A * x).dot(y - A * x) / 2 + alpha * sp.sqrt(n) * sum(sp.Abs(v) for v in x)
    c, u = sp.symbols("c u", positive=True)  # eta is odd; on y >= 0 it is Max(y - theta, 0), y = theta +- u
    tau_bm2 = sigma2 + delta * R / delta
    E_bm = delta * R
    lam = theta * sp.sqrt(delta) * (1 - P / delta)
    return {
        "objective_residual": sp.simplify(sp.expand(n * sklearn - amp)),
        "homogeneity_above_residual": sp.simplify(sp.Max(c * (theta + u) - c * theta, 0) - c * sp.Max(u, 0)),
        "homogeneity_below_residual": sp.simplify(sp.Max(c * (theta - u) - c * theta, 0) - c * sp.Max(-u, 0)),
        "state_evolution_residual": sp.simplify(tau_bm2 / delta - (sigma2 + R) / delta),
        "risk_residual": sp.simplify((d * E_bm / n).subs(n, delta * d) - R),
        "calibration_residual": sp.simplify(sp.solve(sp.Eq(alpha * sp.sqrt(n), lam), alpha)[0].subs(n, delta * d)
                                            - theta * (1 - P / delta) / sp.sqrt(d)),
    }


def soft_threshold_moments() -> dict[str, sp.Expr]:
    """The Gaussian integrals of soft thresholding (``Phi``, ``phi`` the standard normal cdf and density).

    * ``int_c^inf (t z - theta)^2 phi(z) dz = (t^2 + theta^2) Phi(-c) + t (t c - 2 theta) phi(c)``
      (a tail of ``W = w`` fixed, ``c = (theta - w)/t``);
    * for ``Y = S Z``: ``E eta(Y; a S)^2 = 2 S^2 ((1 + a^2) Phi(-a) - a phi(a))`` and
      ``E eta(Y; a S) Y = 2 S^2 Phi(-a)``.
    """
    z = sp.symbols("z", real=True)
    c = sp.symbols("c", real=True)
    t, theta, S, a = sp.symbols("t theta S a", positive=True)

    def phi(v):
        return sp.exp(-v**2 / 2) / sp.sqrt(2 * sp.pi)

    def Phi(v):
        return (1 + sp.erf(v / sp.sqrt(2))) / 2

    def close(expr):
        return sp.simplify(sp.expand(expr.rewrite(sp.erf)))

    tail = sp.integrate((t * z - theta) ** 2 * phi(z), (z, c, sp.oo))
    second = 2 * sp.integrate(S**2 * (z - a) ** 2 * phi(z), (z, a, sp.oo))
    cross = 2 * sp.integrate(S * (z - a) * S * z * phi(z), (z, a, sp.oo))
    return {
        "tail_residual": close(tail - ((t**2 + theta**2) * Phi(-c) + t * (t * c - 2 * theta) * phi(c))),
        "second_moment_residual": close(second - 2 * S**2 * ((1 + a**2) * Phi(-a) - a * phi(a))),
        "cross_moment_residual": close(cross - 2 * S**2 * Phi(-a)),
    }


def replica_stationarity() -> dict[str, sp.Expr]:
    """The replica potential's derivative, and the Gaussian prior at ``eps = 1`` against optimal ridge.

    ``phi(R) = I(gamma(R)) + (delta/2) (log(1 + R/sigma^2) - R/(sigma^2 + R))``
    with ``gamma(R) = delta / (sigma^2 + R)`` the channel's SNR and the I-MMSE
    relation ``I'(gamma) = mmse / 2`` gives
    ``phi'(R) = delta (R - mmse) / (2 (sigma^2 + R)^2)``.

    At ``eps = 1`` with ``W ~ N(0, 1)`` (``E||w*||^2 = 1``),
    ``mmse(tau) = tau^2 / (1 + tau^2)``, and the Bayes fixed point
    ``R = mmse(tau)``, ``tau^2 = gamma (sigma^2 + R)`` (``gamma = d/n``) is
    the optimal ridge limit ``R* = sigma^2 gamma / (1 - gamma + kappa)`` of
    :func:`ridge_fixed_point`, ``kappa`` the root for
    ``lam* = sigma^2 gamma`` (parametrised by ``kappa`` as there).
    """
    R, sigma2, delta, m, kappa, gamma = sp.symbols("R sigma2 delta m kappa gamma", positive=True)
    info = sp.Function("I")
    snr = delta / (sigma2 + R)
    potential = info(snr) + delta / 2 * (sp.log(1 + R / sigma2) - R / (sigma2 + R))
    # d/dR I(gamma(R)) = gamma'(R) Subs(I'(xi), xi, gamma(R)); the I-MMSE relation replaces I' by mmse / 2
    derivative = sp.diff(potential, R).replace(lambda e: isinstance(e, sp.Subs), lambda e: m / 2)
    lam = kappa * (1 + kappa - gamma) / (1 + kappa)
    s2 = lam / gamma                       # lam* = sigma^2 gamma / r2 with r2 = 1
    ridge = s2 * gamma / (1 - gamma + kappa)
    tau2 = gamma * (s2 + ridge)
    return {
        "stationarity_residual": sp.simplify(derivative - delta * (R - m) / (2 * (sigma2 + R) ** 2)),
        "gaussian_bayes_is_ridge_residual": sp.simplify(ridge - tau2 / (1 + tau2)),
    }


def main() -> None:
    """Print every derived expression."""
    for name, derivation in (("one-step GD", one_step_gd), ("ridge fixed point", ridge_fixed_point),
                             ("AMP normalisation", amp_normalisation),
                             ("soft-threshold moments", soft_threshold_moments),
                             ("replica stationarity", replica_stationarity)):
        print(f"== {name}")
        for key, value in derivation().items():
            print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
