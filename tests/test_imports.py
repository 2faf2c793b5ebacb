"""Import cost: ``import solvers`` and the command line's help load no heavy dependency."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("sklearn", "numba", "scipy", "pandas", "matplotlib", "torch", "tqdm", "dask")


def loaded_after(code: str) -> list[str]:
    """The heavy top-level modules present in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport sys\nprint('loaded:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    line = [text for text in result.stdout.splitlines() if text.startswith("loaded:")][-1]
    return [m for m in line.removeprefix("loaded:").split(",") if m]


def test_import_solvers_loads_no_heavy_dependency():
    assert loaded_after("import solvers") == []


def test_scikit_learn_loads_only_to_finish_unconverged_lasso_pairs():
    assert "sklearn" not in loaded_after("import numpy as np, solvers\n"
                                         "X = np.random.default_rng(0).standard_normal((3, 20, 5))\n"
                                         "solvers.lasso(X, X[..., 0], [0.1])")


HELP_CALLS = [["--help"], ["sweep", "--help"], ["check", "--help"], ["curves", "--help"], ["train", "--help"],
              ["analyze", "--help"], ["sweep", "--trials", "many"]]


def test_help_and_argument_errors_load_no_heavy_dependency():
    for argv in HELP_CALLS:
        code = f"from simulations.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass"
        assert loaded_after(code) == [], argv


def test_help_costs_well_under_a_second_of_cpu():
    """CPU time, not wall time: the answer must not depend on how loaded the machine is."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run([sys.executable, "-m", "simulations", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.returncode == 0 and "sweep" in result.stdout
    assert (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) < 1.0


def imported_packages(package: str) -> dict[str, set[str]]:
    """Top-level packages of this project each module of ``package`` imports, lazy imports included (via ast)."""
    import ast
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names & {"solvers", "theory", "simulations"}
    return found


def test_layers_solvers_and_theory_import_nothing_above_them():
    """solvers/ imports no other package of the project; theory/ only solvers (docs/architecture.md)."""
    upward = {module: names for module, names in imported_packages("solvers").items() if names - {"solvers"}}
    upward |= {module: names for module, names in imported_packages("theory").items()
               if names - {"solvers", "theory"}}
    assert upward == {}
