"""Exact linear-attention weights for preprocess-then-optimize (docs/math.md section 5, claim C3).

Embedding ``z = [x (d); x~ (d); y (1)]`` with ``x~ = 0`` at the input
(``width = 2 d + 1``, slots ``x = 0..d-1``, ``x~ = d..2d-1``, ``y = 2d``).
Every head has width ``d``; unused head coordinates are zero.

* Layer 1, d heads. Head k: query ``x_k``, key ``y``, value ``x_k``, output
  into ``x~_k``. For every token j,
  ``x~_{j,k} += (1/n) sum_i x_{i,k} y_i x_{j,k} = r_k x_{j,k}``
  with ``r = X^T y / n``.
* Layers 2..T+1, one head. Query ``x~``, key ``x~``, value ``y``, output
  ``-eta`` onto ``y``: ``y_j -= eta (1/n) sum_i y_i <x~_i, x~_j>``. By
  induction the context y-slots hold the residuals ``y_i - <w~_t, x~_i>`` and
  the query's y-slot holds ``-<w~_t, x~_q>``, where ``w~_t`` are the GD
  iterates on ``(x~_i, y_i)``; the readout ``-e_y`` returns ``<w~_T, x~_q>``.
"""

from __future__ import annotations

import torch

from .model import ICLTransformer, ModelConfig


def construct_pto(d: int, steps: int, step_size: float, dtype: torch.dtype = torch.float64) -> ICLTransformer:
    """A linear-attention transformer whose predictions equal PtO with ``steps`` GD steps.

    Parameters
    ----------
    d : int
        Dimension.
    steps : int >= 0
        GD steps ``T`` (the model has ``T + 1`` layers, heads ``[d, 1, ..., 1]``).
    step_size : float > 0
        ``eta`` of the GD steps on the preprocessed data.
    dtype : torch dtype
        Use float64 to check exactness.

    Returns
    -------
    ICLTransformer with ``model(X, y, x_q) = <w~_T, r (.) x_q>`` = the PtO prediction.
    """
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    if not step_size > 0:
        raise ValueError(f"step_size must be > 0, got {step_size!r}")
    config = ModelConfig(d=d, heads=[d] + [1] * steps, width=2 * d + 1, head_dim=d, attention="linear")
    model = ICLTransformer(config).to(dtype)
    xt, y = slice(d, 2 * d), 2 * d  # embedding [x (0..d-1); x~ (d..2d-1); y (2d)]
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        pre = model.blocks[0].attn
        for k in range(d):
            row = k * d  # first coordinate of head k
            pre.q.weight[row, k] = 1.0
            pre.k.weight[row, y] = 1.0
            pre.v.weight[row, k] = 1.0
            pre.o.weight[d + k, row] = 1.0
        for block in model.blocks[1:]:
            attn = block.attn
            attn.q.weight[:, xt] = torch.eye(d, dtype=dtype)
            attn.k.weight[:, xt] = torch.eye(d, dtype=dtype)
            attn.v.weight[0, y] = 1.0
            attn.o.weight[y, 0] = -float(step_size)
        model.readout.weight[0, y] = -1.0
    return model
