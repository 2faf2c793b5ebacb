"""Transformers trained (and constructed) for in-context sparse linear regression.

This package needs torch (the ``[train]`` extra). Nothing outside it, except
the ``train`` and ``analyze`` commands, imports torch at module import time.

Modules: :mod:`.model` (the architecture), :mod:`.construction` (exact PtO
weights), :mod:`.train` (training loop with checkpoints), :mod:`.analysis`
(risk vs n, head importance, pruning, probing, agreement with algorithms).
"""
