"""Run metadata: what produced a results directory."""

from __future__ import annotations

import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

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
    """Append one run (command, versions, platform and ``fields``) to ``DIR/meta.json``, atomically."""
    path = Path(directory) / "meta.json"
    meta = json.loads(path.read_text()) if path.exists() else {"runs": []}
    meta["runs"].append({
        "command": sys.argv,
        "versions": versions(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        **fields,
    })
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=2, default=str))
    os.replace(tmp, path)
