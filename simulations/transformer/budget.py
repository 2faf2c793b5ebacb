"""Excess risk at one context length against the training budget: is more training still paying?

For finished runs of one task (any heads, seeds and budgets), :func:`budget_curve`
evaluates every model on one fixed set of prompts, so that every number is
paired with every other:

* the model's excess risk :math:`\\mathcal E = E[(\\hat y_q - \\langle w^*, x_q\\rangle)^2]`
  at context length n, with its standard error over prompts;
* its distance to the floor, :math:`\\mathcal E / \\mathcal E_{\\rm Bayes}`;
* the late gain of rule (b), :math:`(\\mathcal E_{80\\%} - \\mathcal E) / \\mathcal E_{80\\%}`,
  where :math:`\\mathcal E_{80\\%}` is the same run at 80% of its steps; the run
  is *converged* by rule (b) when the gain is below :data:`LATE_GAIN_LIMIT`;
* the oracle-tuned algorithms and the Bayes posterior mean on the same prompts
  (:func:`.analysis.reference_risks`).

A budget is the number of prompts a run was trained on, ``steps x batch``;
runs with different budgets are separate runs, each with its own full
learning-rate schedule, not checkpoints of one run.
"""

from __future__ import annotations

from typing import Any, Sequence

from .analysis import EvalSet, late_gain, model_risk, reference_risks, risk_summary
from .model import ICLTransformer
from .train import TrainConfig

#: Rule (b) of the convergence check: a run is converged when the last 20% of its schedule improved its
#: risk at n = d by less than this fraction. Fixed before any long run was analysed.
LATE_GAIN_LIMIT = 0.05


def budget_curve(runs: Sequence[tuple[ICLTransformer, TrainConfig, ICLTransformer | None]], n: int,
                 trials: int = 2000, queries: int = 16, seed: int = 5) -> dict[str, Any]:
    """Each run's risk at context length ``n`` and late gain, beside the algorithms, on one set of prompts.

    Parameters
    ----------
    runs : sequence of (model, config, earlier)
        Finished runs of one task (``config.problem`` equal); ``earlier`` is the
        same run at 80% of its steps, or None (then no late gain is reported).
    n : int
        Context length of the prompts (the convergence check uses ``n = d``).
    trials, queries, seed : int
        Prompts, query points per prompt and the seed of :meth:`.analysis.EvalSet.draw`; the defaults are
        those of :func:`.analysis.convergence`, so the numbers equal its ``risk`` and ``late_gain``.

    Returns
    -------
    dict
        ``n``, ``trials``, ``late_gain_limit``; ``algorithms``: name -> {risk, sem}; ``runs``: one row per
        run in the given order with ``heads``, ``seed``, ``steps``, ``batch``, ``prompts``, ``risk``, ``sem``,
        ``bayes_ratio`` and, with ``earlier``, ``late_gain``, ``late_gain_sem`` and ``converged``.

    Examples
    --------
    >>> from simulations.transformer import load_model                      # doctest: +SKIP
    >>> model, config, _ = load_model("docs/data/models/d8s1_128k_h8_seed0")  # doctest: +SKIP
    >>> budget_curve([(model, config, None)], n=8)["runs"][0]["risk"]         # doctest: +SKIP
    0.01203...
    """
    if not runs:
        raise ValueError("budget_curve needs at least one run")
    task = runs[0][1].problem
    for _, config, _ in runs:
        if config.problem != task:
            raise ValueError(f"runs on different tasks: {config.problem} and {task}")
    data = EvalSet.draw(task, n, trials, queries, seed)
    references = reference_risks(data, task)
    floor = references["bayes"].mean()
    rows = []
    for model, config, earlier in runs:
        mine = model_risk(model, data)
        row = {"heads": list(config.heads), "seed": config.seed, "steps": config.steps, "batch": config.batch,
               "prompts": config.steps * config.batch, **risk_summary(mine),
               "bayes_ratio": float(mine.mean() / floor)}
        if earlier is not None:
            row.update(late_gain(model_risk(earlier, data), mine))
            row["converged"] = row["late_gain"] < LATE_GAIN_LIMIT
        rows.append(row)
    return {"n": n, "trials": trials, "late_gain_limit": LATE_GAIN_LIMIT,
            "algorithms": {name: risk_summary(risks) for name, risks in references.items()}, "runs": rows}
