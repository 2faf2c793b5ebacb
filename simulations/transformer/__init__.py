"""Transformers trained (and constructed) for in-context sparse linear regression.

Modules: :mod:`.model` (the architecture), :mod:`.construction` (exact PtO
weights), :mod:`.train` (training loop with checkpoints), :mod:`.together` (several
runs in one process, one CUDA stream each), :mod:`.analysis`
(risk vs n, head importance, pruning, probing, agreement with algorithms),
:mod:`.budget` (risk at n = d of many runs against their training budget).

This package needs torch (the ``[train]`` extra). Nothing outside it, except
the ``train``, ``analyze`` and ``budget`` commands, imports torch at module import time.

Examples
--------
>>> from simulations.transformer import load_model                    # doctest: +SKIP
>>> model, config, step = load_model("docs/data/models/d8s1_h8_seed0")  # doctest: +SKIP
>>> y_hat = model(X, y, x_query)    # (B, n, d), (B, n), (B, d) -> (B,)  # doctest: +SKIP
"""

from .construction import construct_pto
from .model import ICLTransformer, ModelConfig
from .train import TrainConfig, load_model, train

__all__ = ["ICLTransformer", "ModelConfig", "TrainConfig", "construct_pto", "load_model", "train"]
