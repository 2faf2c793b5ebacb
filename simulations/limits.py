"""Limits and defaults that ``sparse-icl sweep --help`` shows, in a module that imports nothing.

They live here, not beside the code that applies them (:mod:`simulations.sweep`,
:mod:`simulations.distributed`, which import pandas, SciPy and tqdm), so that
building the command line's parser stays instant.
"""

#: The most cells :func:`simulations.sweep.plan_cells` builds without ``max_cells=None`` (``sparse-icl sweep --yes``).
MAX_CELLS = 100_000
#: Seconds to wait for a scheduler address to answer (``sparse-icl sweep --connect-timeout``).
CONNECT_TIMEOUT = 5.0
