"""Run metadata: what produced a results directory."""

from __future__ import annotations

import json
import os
import platform
import sys
import warnings
from importlib import metadata
from pathlib import Path
from typing import Any

from .outputs import atomic_write_text

PACKAGES = ("sparse-icl", "numpy", "scipy", "scikit-learn", "pandas", "cupy-cuda12x", "torch", "dask")


def versions() -> dict[str, str]:
    """Installed versions of the packages that can change a result."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def record_run(directory: str | os.PathLike, **fields: Any) -> None:
    """Append one run (command, versions, platform and ``fields``) to ``DIR/meta.json``, atomically.

    A ``meta.json`` that is not a run record (unreadable, edited by hand) is
    kept as ``meta.json.unreadable`` and a new record is started, with a warning.
    """
    path = Path(directory) / "meta.json"
    meta = {"runs": []}
    if path.exists():
        try:
            meta = json.loads(path.read_text())
            if not isinstance(meta, dict) or not isinstance(meta.get("runs"), list):
                raise ValueError("no list of runs")
        except (ValueError, UnicodeDecodeError) as err:
            os.replace(path, path.with_name(path.name + ".unreadable"))
            warnings.warn(f"{path}: not a run record ({type(err).__name__}); kept as {path.name}.unreadable, "
                          "starting a new one")
            meta = {"runs": []}
    meta["runs"].append({
        "command": sys.argv,
        "versions": versions(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        **fields,
    })
    atomic_write_text(path, json.dumps(meta, indent=2, default=str))
