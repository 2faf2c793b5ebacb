"""The tables of the docs that are generated from code and committed results.

Each table sits between ``<!-- generated: NAME -->`` and
``<!-- end generated -->`` in its document; :func:`render` fills them in:
docs/simulations.md from :data:`solvers.signals.SIGNALS`,
:data:`simulations.tuning.TUNINGS` and :data:`simulations.methods.METHODS`;
docs/claims.md's model-by-model table of the transformer claims from the
committed analyses, and docs/transformer.md's tables of every budget, of the heads sweep and of
the converged models, and the heads sweep over seeds, from the same analyses
(:mod:`simulations.transformer.model_table`).
``python -m simulations.doc_tables`` rewrites the files (a test checks that
they are current).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Callable

from solvers.signals import SIGNALS
from .methods import grid_table
from .transformer.model_table import budget_table, convergence_table, heads_seeds_table, heads_table
from .transformer.model_table import markdown_table as transformer_model_table
from .tuning import tuning_table

DOCS = Path(__file__).resolve().parents[1] / "docs"
#: The documents that hold generated tables.
DOCUMENTS = (DOCS / "simulations.md", DOCS / "claims.md", DOCS / "transformer.md")
END = "<!-- end generated -->"


def signal_table() -> str:
    """The signal laws as a Markdown table."""
    lines = ["| signal | nonzeros of w* | `E||w*||^2` at s = 4 |", "|---|---|---|"]
    lines += [f"| `{law.name}` | {law.description} | {law.norm2(4):g} |" for law in SIGNALS.values()]
    return "\n".join(lines)


#: The generated tables by name.
TABLES: dict[str, Callable[[], str]] = {"signals": signal_table, "tunings": tuning_table, "methods": grid_table,
                                        "transformer_models": transformer_model_table,
                                        "transformer_budgets": budget_table, "transformer_converged": convergence_table,
                                        "transformer_heads": heads_table, "transformer_heads_seeds": heads_seeds_table}


def render(text: str) -> str:
    """``text`` with every generated table replaced by its current version."""
    def fill(match: re.Match) -> str:
        return f"{match.group(1)}\n{TABLES[match.group(2)]()}\n{END}"

    return re.sub(r"(<!-- generated: (\w+) -->)\n(?:.*?\n)??" + re.escape(END), fill, text, flags=re.DOTALL)


def main() -> int:
    for document in DOCUMENTS:
        document.write_text(render(document.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
