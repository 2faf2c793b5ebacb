"""Transformers trained (and constructed) for in-context sparse linear regression.

This package needs torch (the ``[train]`` extra). Nothing outside it, except
the ``train`` and ``analyze`` commands, imports torch at module import time.

Modules: :mod:`.model` (the architecture), :mod:`.construction` (exact PtO
weights), :mod:`.train` (training loop with checkpoints), :mod:`.analysis`
(risk vs n, head importance, pruning, probing, agreement with algorithms).

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
