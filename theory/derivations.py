"""Symbolic derivations (SymPy) behind the closed forms of :mod:`theory`.

Each function returns a dict of SymPy expressions that must simplify to zero
(or named results); ``tests/test_theory_derivations.py`` runs them. Run
``python -m theory.derivations`` to print them.

1. :func:`one_step_gd` - SPEC 3a from the Wishart moments
   ``E[X^T X] = n I``, ``E[(X^T X)^2] = n (n + d + 1) I``.
2. :func:`ridge_fixed_point` - SPEC 3c: ``kappa`` solves a quadratic, the
   Marchenko-Pastur Stieltjes transform is ``m(-lam) = 1 / (1 - gamma + kappa)``
   (it satisfies the MP self-consistent equation), the bias
   ``r2 lam^2 int (l + lam)^{-2} dF = r2 lam^2 (-dm/dlam)`` and variance
   ``sigma^2 gamma int l (l + lam)^{-2} dF = sigma^2 gamma (m + lam dm/dlam)``
   add up to ``(kappa^2 r2 + sigma^2 gamma) / ((1 + kappa)^2 - gamma)``, the
   ridgeless limits on both sides of ``gamma = 1``, and the optimal ``lam``.
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
    the SPEC formula, 0), ``optimal_step`` and ``stationarity`` (the
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


def main() -> None:
    """Print every derived expression."""
    for name, derivation in (("one-step GD", one_step_gd), ("ridge fixed point", ridge_fixed_point)):
        print(f"== {name}")
        for key, value in derivation().items():
            print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
