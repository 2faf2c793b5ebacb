"""The transformer claims model by model: one Markdown row per analysed seed.

Reads what ``sparse-icl analyze`` wrote into each analysis directory
(``convergence.json``, ``agreement.json`` for seed 0 and in ``seed_<k>/`` for
the others, and ``verdicts.json`` for all seeds) and condenses, per model:

- the excess risk at n = d and its ratio to the Bayes floor;
- the last-20% gain (rule (b): bold when below 5%);
- C1: the top head's share of each layer's risk increase under single-head
  masking, +- its bootstrap SE where the analysis has it (bold when >= 0.5,
  "one dominant head");
- C2: the probe R^2 of ``r (.) x_i`` after layer 1;
- C6: the pruned model's risk over the full model's (every layer-1 head and
  the top head of each later layer), and in brackets the same ratio with
  one layer alone reduced to its top head, layer by layer (layer 1's is the
  converse of the claimed pruning);
- C7: the closest algorithm with its mean squared prediction difference
  (msd), and the msd to PtO.

:data:`ANALYSES` lists the committed h = 8 analyses of the CPU study in
budget order; :func:`markdown_table` renders them, and
``python -m simulations.doc_tables`` writes the table into docs/claims.md
(a test checks that the committed table is current). The same module renders
docs/transformer.md's tables of every budget (:func:`budget_table`), of the
converged models (:func:`convergence_table`), of the heads sweep
(:func:`heads_table`) and of the heads sweep over seeds, graded by
:func:`.verdicts.more_heads` (:func:`heads_seeds_table`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .verdicts import UNDECIDED, more_heads

FIGURES = Path(__file__).resolve().parents[2] / "docs" / "figures" / "transformer"

#: (budget label, analysis directory under docs/figures/transformer/), in budget order.
ANALYSES: list[tuple[str, str]] = [
    ("32k (4.1M)", "d8s1_h8"),
    ("64k (8.2M)", "d8s1_64k_h8"),
    ("128k (16.4M)", "d8s1_128k_h8"),
    ("256k (32.8M)", "d8s1_256k_h8"),
    ("320k (41M)", "d8s1_320k_h8"),
    ("400k (51M)", "d8s1_400k_h8"),
]

#: Rule (b)'s threshold on the last-20% gain and C1's threshold on the top share.
LATE_GAIN_MAX = 0.05
DOMINANT_SHARE = 0.5

ALGORITHM_NAMES = {"bayes": "Bayes", "lasso": "Lasso", "ridge": "ridge", "gd": "GD", "pto": "PtO"}


def read_json(path: Path) -> Any:
    """The JSON in ``path``; a missing file or invalid JSON is one ValueError naming the file."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file (run sparse-icl analyze first)") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err.msg}, line {err.lineno})") from None


def seed_directories(directory: Path) -> list[Path]:
    """The per-seed output directories of one analysis: the directory itself
    (its first seed), then ``seed_<k>/`` in increasing k."""
    others = sorted((p for p in directory.glob("seed_*") if p.is_dir() and p.name[5:].isdigit()),
                    key=lambda p: int(p.name[5:]))
    return [directory, *others]


def seed_results(directory: Path) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """``(seed, convergence, agreement)`` for every seed of the analysis in ``directory``; the directory
    itself holds the first checkpoint analysed, seed 0 in every analysis of this study."""
    return [(seed_dir.name[5:] if k else "0", read_json(seed_dir / "convergence.json"),
             read_json(seed_dir / "agreement.json"))
            for k, seed_dir in enumerate(seed_directories(directory))]


def seed_rows(directory: Path) -> list[dict[str, Any]]:
    """One dict per seed of the analysis in ``directory``.

    Raises
    ------
    ValueError
        When a file is missing, is not JSON, or lacks a field the table needs
        (the message names the file).
    """
    verdicts = read_json(directory / "verdicts.json")
    rows = []
    for k, (seed, convergence, agreement) in enumerate(seed_results(directory)):
        try:
            c1, c2, c6, c7 = (verdicts[claim]["seeds"][k] for claim in ("C1", "C2", "C6", "C7"))
            rows.append({
                "seed": seed,
                "risk": float(convergence["risk"]),
                "bayes_ratio": float(convergence["bayes_ratio"]),
                "late_gain": float(convergence["late_gain"]) if "late_gain" in convergence else None,
                "top_share": [float(v) for v in c1["top_share"]],
                "top_share_sem": [float(v) for v in c1["top_share_sem"]] if "top_share_sem" in c1 else None,
                "r2_after_layer_1": float(c2["r2_rx"][1]),
                "pruned_ratio": float(c6["pruned_ratio"]),
                "reduced_ratio": [float(v) for v in c6["reduced_ratio"].values()],
                "closest": str(c7["closest"]),
                "closest_msd": float(agreement["algorithms"][c7["closest"]]["msd"]),
                "pto_msd": float(agreement["algorithms"]["pto"]["msd"]),
            })
        except (KeyError, IndexError, TypeError, ValueError) as err:
            raise ValueError(f"{directory} (seed {seed}): a field of the analysis is missing or malformed ({err}); "
                             "rerun sparse-icl analyze") from None
    return rows


def _bold_if(text: str, condition: bool) -> str:
    return f"**{text}**" if condition else text


def _ratio(value: float) -> str:
    """A risk ratio with two significant digits below 10, as a whole number above."""
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def format_row(label: str, row: dict[str, Any]) -> str:
    """One Markdown row of the model table."""
    gain = row["late_gain"]
    gain_text = "n/a" if gain is None else _bold_if(f"{gain:.1%}", gain < LATE_GAIN_MAX)
    sems = row["top_share_sem"] or [None] * len(row["top_share"])
    shares = ", ".join(_bold_if(f"{v:.2f}" + ("" if e is None else f" +- {e:.2f}"), v >= DOMINANT_SHARE)
                       for v, e in zip(row["top_share"], sems))
    reduced = ", ".join(_ratio(v) for v in row["reduced_ratio"])
    closest = ALGORITHM_NAMES.get(row["closest"], row["closest"])
    return (f"| {label} | {row['seed']} | {row['risk']:.4f} ({row['bayes_ratio']:.1f}x) | {gain_text} | {shares} | "
            f"{row['r2_after_layer_1']:.2f} | {row['pruned_ratio']:.0f} ({reduced}) | "
            f"{closest} ({row['closest_msd']:.4f}) | {row['pto_msd']:.2f} |")


def markdown_table(analyses: list[tuple[str, str]] = ANALYSES, root: Path = FIGURES) -> str:
    """The model table of ``analyses`` (label, directory under ``root``) as Markdown."""
    lines = ["| steps (prompts) | seed | risk at n = d (x Bayes) | last-20% gain | "
             "C1: top head share (+- SE), layers 1, 2, 3 | C2: R^2 after layer 1 | "
             "C6: pruned / full (one layer reduced to its top head: 1, 2, 3) | C7: closest (msd) | msd to PtO |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, name in analyses:
        lines += [format_row(label, row) for row in seed_rows(root / name)]
    return "\n".join(lines)


#: (budget label, h = 8 analysis, h = 1 analysis) for the budget table of docs/transformer.md.
BUDGETS: list[tuple[str, str, str]] = [
    ("32k (4.1M)", "d8s1_h8", "d8s1_h1"),
    ("64k (8.2M)", "d8s1_64k_h8", "d8s1_64k_h1"),
    ("128k (16.4M)", "d8s1_128k_h8", "d8s1_128k_h1"),
    ("256k (32.8M)", "d8s1_256k_h8", "d8s1_256k_h1"),
    ("320k (41M)", "d8s1_320k_h8", "d8s1_320k_h1"),
    ("400k (51M)", "d8s1_400k_h8", "d8s1_400k_h1"),
]

#: (budget label, {heads: analysis}) for the heads-sweep table: seed 0 of every h trained on that budget.
HEADS_SWEEP: list[tuple[str, dict[int, str]]] = [
    ("32k (4.1M)", {1: "d8s1_h1", 2: "d8s1_h2", 4: "d8s1_h4", 8: "d8s1_h8"}),
    ("64k (8.2M)", {1: "d8s1_64k_h1", 2: "d8s1_64k_h2", 4: "d8s1_64k_h4", 8: "d8s1_64k_h8"}),
    ("400k (51M)", {1: "d8s1_400k_h1", 2: "d8s1_400k_h2", 4: "d8s1_400k_h4", 8: "d8s1_400k_h8"}),
]

#: (label, analysis, seed) of the models in the convergence table of the converged budget.
CONVERGED: list[tuple[str, str, str]] = [
    ("h = 8, seed 0", "d8s1_400k_h8", "0"),
    ("h = 8, seed 1", "d8s1_400k_h8", "1"),
    ("h = 8, seed 2", "d8s1_400k_h8", "2"),
    ("h = 4, seed 0", "d8s1_400k_h4", "0"),
    ("h = 2, seed 0", "d8s1_400k_h2", "0"),
    ("h = 1, seed 0", "d8s1_400k_h1", "0"),
    ("h = 1, seed 1", "d8s1_400k_h1", "1"),
    ("h = 1, seed 2", "d8s1_400k_h1", "2"),
]


def _convergences(directory: Path) -> dict[str, dict[str, Any]]:
    return {seed: convergence for seed, convergence, _ in seed_results(directory)}


def _gain(convergence: dict[str, Any], sem: bool) -> str:
    if "late_gain" not in convergence:
        return "n/a"
    gain = float(convergence["late_gain"])
    text = f"{gain:.1%}" + (f" +- {float(convergence['late_gain_sem']):.1%}" if sem else "")
    return _bold_if(text, gain < LATE_GAIN_MAX)


def _risk_cell(convergence: dict[str, Any] | None) -> str:
    if convergence is None:
        return "--"
    return f"{float(convergence['risk']):.4f} +- {float(convergence['sem']):.4f} ({_gain(convergence, sem=False)})"


def budget_table(budgets: list[tuple[str, str, str]] = BUDGETS, root: Path = FIGURES) -> str:
    """Risk at n = d (+- SE, last-20% gain) of h = 8 seeds 0-2 and h = 1 seed 0 at every budget, as Markdown.

    The ``x Bayes`` column is the range of the h = 8 seeds' ratios to the Bayes floor.
    """
    lines = ["| steps (prompts) | h = 8, seed 0 | h = 8, seed 1 | h = 8, seed 2 | h = 8: x Bayes | h = 1, seed 0 |",
             "|---|---|---|---|---|---|"]
    for label, h8, h1 in budgets:
        many, single = _convergences(root / h8), _convergences(root / h1)
        try:
            ratios = sorted(float(c["bayes_ratio"]) for c in many.values())
            cells = [_risk_cell(many.get(seed)) for seed in ("0", "1", "2")]
            bayes = "-".join(dict.fromkeys(_ratio(r) for r in (ratios[0], ratios[-1])))
            lines.append(f"| {label} | {' | '.join(cells)} | {bayes} | {_risk_cell(single.get('0'))} |")
        except (KeyError, IndexError, TypeError, ValueError) as err:
            raise ValueError(f"{root / h8} or {root / h1}: a field is missing or malformed ({err})") from None
    return "\n".join(lines)


def convergence_table(models: list[tuple[str, str, str]] = CONVERGED, root: Path = FIGURES) -> str:
    """The convergence check at n = d of ``models`` (label, analysis, seed) as Markdown: risk +- SE, its
    ratios to the oracle-tuned algorithms and the Bayes floor, the paired differences to PtO and the
    Lasso, and the last-20% gain (+- SE)."""
    lines = ["| model | risk at n = d | / ridge | / PtO | / Lasso | / Bayes | paired vs PtO | paired vs Lasso "
             "| last-20% gain |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, name, seed in models:
        convergences = _convergences(root / name)
        if seed not in convergences:
            raise ValueError(f"{root / name}: no seed {seed} in the analysis")
        c = convergences[seed]
        try:
            alg = c["algorithms"]
            lines.append(
                f"| {label} | {c['risk']:.4f} +- {c['sem']:.4f} | {alg['ridge']['ratio']:.2f} | "
                f"{alg['pto']['ratio']:.2f} | {alg['lasso']['ratio']:.2f} | {alg['bayes']['ratio']:.1f} | "
                f"{alg['pto']['diff']:+.4f} +- {alg['pto']['diff_sem']:.4f} | "
                f"{alg['lasso']['diff']:+.4f} +- {alg['lasso']['diff_sem']:.4f} | {_gain(c, sem=True)} |")
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{root / name} (seed {seed}): a field is missing or malformed ({err})") from None
    return "\n".join(lines)


def heads_table(sweep: list[tuple[str, dict[int, str]]] = HEADS_SWEEP, root: Path = FIGURES) -> str:
    """Risk at n = d (+- SE, last-20% gain) of seed 0 of h = 1, 2, 4, 8 at each budget, with the ratio
    to oracle-tuned ridge, as Markdown; ``--`` where that h was not trained on that budget."""
    heads = (1, 2, 4, 8)
    lines = ["| steps (prompts) | " + " | ".join(f"h = {h}" for h in heads) + " |", "|---" * (len(heads) + 1) + "|"]
    for label, analyses in sweep:
        cells = []
        for h in heads:
            if h not in analyses:
                cells.append("--")
                continue
            convergence = _convergences(root / analyses[h])["0"]
            try:
                ridge = float(convergence["algorithms"]["ridge"]["ratio"])
                cells.append(f"{_risk_cell(convergence)}, {ridge:.2f}x ridge")
            except (KeyError, TypeError, ValueError) as err:
                raise ValueError(f"{root / analyses[h]}: a field is missing or malformed ({err})") from None
        lines.append(f"| {label} | {' | '.join(cells)} |")
    return "\n".join(lines)


def seed_risks(directory: Path) -> list[float]:
    """Excess risk at n = d of every seed of the analysis in ``directory``, in seed-directory order."""
    try:
        return [float(convergence["risk"]) for convergence in _convergences(directory).values()]
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{directory}: a field is missing or malformed ({err})") from None


def _heads_call(verdict: str, details: dict[str, Any], fewer: int) -> str:
    sem = details["diff_sem"]
    diff = f"difference of means {details['diff']:+.4f}" + ("" if sem is None else f" +- {sem:.4f}")
    if verdict == UNDECIDED:
        seeds = details["seeds"][1]
        return f"undecided ({seeds} seed{'s' if seeds > 1 else ''} of h = {fewer}); {diff}"
    return f"**{verdict}** (p = {details['p_lower']:.3f}; reverse order p = {details['p_higher']:.3f}); {diff}"


def heads_seeds_table(analyses: dict[int, str] = HEADS_SWEEP[-1][1], root: Path = FIGURES, most: int = 8) -> str:
    """The heads sweep over seeds on one budget, as Markdown: every seed's risk at n = d, the mean +- SE over
    seeds, and the verdict on "more heads, lower risk" of h = ``most`` against each fewer-heads h
    (:func:`.verdicts.more_heads`: an exact Mann-Whitney test over seeds)."""
    risks = {h: seed_risks(root / name) for h, name in sorted(analyses.items())}
    lines = [f"| h | seeds | risk at n = d, seed by seed | mean +- SE over seeds | h = {most} against it |",
             "|---|---|---|---|---|"]
    for h, values in risks.items():
        mean = np.mean(values)
        sem = f" +- {np.std(values, ddof=1) / np.sqrt(len(values)):.4f}" if len(values) > 1 else ""
        call = "--" if h >= most else _heads_call(*more_heads(risks[most], values), fewer=h)
        lines.append(f"| {h} | {len(values)} | {', '.join(f'{v:.4f}' for v in values)} | {mean:.4f}{sem} | {call} |")
    return "\n".join(lines)
