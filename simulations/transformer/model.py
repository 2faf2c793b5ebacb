"""An in-context regression transformer (nanoGPT-style, one file).

Tokens. A prompt with context ``(x_i, y_i)``, i = 1..n, and queries ``x_q`` is
the sequence ``z_i = [x_i; y_i]`` followed by ``z_q = [x_q; 0]``. Every token
attends to the n *context* tokens only (keys and values come from the context),
so queries never see each other: several queries per prompt cost one pass and
give the same predictions as one query at a time. The prediction is a linear
readout of the query token's final state.

Two attention kinds (``ModelConfig.attention``):

``"linear"`` -- the theory model of docs/math.md section 5. The embedding is fixed:
    ``z = [x (d); 0 (width - d - 1); y (1)]``, no normalisation, no softmax,
    and every token j (context and query) is updated by

    .. math:: z_j \\leftarrow z_j + \\sum_h m_h W_O^h \\frac1n \\sum_{i \\le n}
              (W_V^h z_i) (W_K^h z_i)^T (W_Q^h z_j)

    where ``m_h`` is the head mask (1 = on, 0 = ablated).

``"softmax"`` -- GPT-2 style: a learned embedding of ``[x; y]``, pre-LayerNorm
    blocks ``z <- z + Attn(LN(z))``, ``z <- z + MLP(LN(z))`` (MLP optional),
    attention weights ``softmax(q_j . k_i / sqrt(head_dim))`` over the context
    tokens, and a final LayerNorm before the readout.

``heads`` is a list with one entry per layer, so layer 1 may have more heads
than later ones. ``head_dim`` is the width of each head's query/key/value
(``None``: ``width // heads[l]``, nanoGPT's split of the embedding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

ATTENTION_KINDS = ("linear", "softmax")


@dataclass
class ModelConfig:
    """Architecture of an :class:`ICLTransformer`.

    Attributes
    ----------
    d : int
        Input dimension.
    heads : list of int
        Heads per layer; ``len(heads)`` is the number of layers.
    width : int or None
        Embedding width; None gives ``2 d + 1`` for linear attention (room for
        ``[x; x~; y]``) and 64 for softmax attention.
    head_dim : int or None
        Query/key/value width of every head; None is ``max(1, width // heads[l])``.
    attention : {"linear", "softmax"}
    mlp : bool
        Add a GELU MLP (4x width) after each attention sub-layer.
    init_std : float or None
        Std of the normal weight init; None is ``1 / sqrt(width)``.
    """

    d: int
    heads: list[int] = field(default_factory=lambda: [1])
    width: int | None = None
    head_dim: int | None = None
    attention: str = "linear"
    mlp: bool = False
    init_std: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.d, int) or self.d < 1:
            raise ValueError(f"d must be an integer >= 1, got {self.d!r}")
        self.heads = [int(h) for h in self.heads]
        if not self.heads or any(h < 1 for h in self.heads):
            raise ValueError(f"heads must be a non-empty list of integers >= 1, got {self.heads!r}")
        if self.attention not in ATTENTION_KINDS:
            raise ValueError(f"attention must be one of {ATTENTION_KINDS}, got {self.attention!r}")
        if self.width is None:
            self.width = 2 * self.d + 1 if self.attention == "linear" else 64
        if self.attention == "linear" and self.width < self.d + 1:
            raise ValueError(f"width must be >= d + 1 = {self.d + 1} for linear attention, got {self.width}")
        if self.head_dim is not None and self.head_dim < 1:
            raise ValueError(f"head_dim must be >= 1 or None, got {self.head_dim!r}")

    @property
    def layers(self) -> int:
        return len(self.heads)

    def dim_of_head(self, layer: int) -> int:
        return self.head_dim or max(1, self.width // self.heads[layer])


class Attention(nn.Module):
    """Multi-head attention of queries from all tokens over keys/values of the context."""

    def __init__(self, width: int, heads: int, head_dim: int, kind: str) -> None:
        super().__init__()
        self.heads, self.head_dim, self.kind = heads, head_dim, kind
        self.q = nn.Linear(width, heads * head_dim, bias=False)
        self.k = nn.Linear(width, heads * head_dim, bias=False)
        self.v = nn.Linear(width, heads * head_dim, bias=False)
        self.o = nn.Linear(heads * head_dim, width, bias=False)
        self.register_buffer("head_mask", torch.ones(heads))

    def forward(self, z: torch.Tensor, n: int) -> torch.Tensor:
        B, N, _ = z.shape
        split = lambda t: t.view(B, -1, self.heads, self.head_dim).transpose(1, 2)  # noqa: E731
        q = split(self.q(z))                       # (B, h, N, k)
        k, v = split(self.k(z[:, :n])), split(self.v(z[:, :n]))  # (B, h, n, k)
        scores = q @ k.transpose(-2, -1)           # (B, h, N, n)
        if self.kind == "linear":
            weights = scores / n
        else:
            weights = F.softmax(scores / math.sqrt(self.head_dim), dim=-1)
        out = (weights @ v) * self.head_mask.view(1, -1, 1, 1)
        return self.o(out.transpose(1, 2).reshape(B, N, self.heads * self.head_dim))


class Block(nn.Module):
    def __init__(self, config: ModelConfig, layer: int) -> None:
        super().__init__()
        w, softmax = config.width, config.attention == "softmax"
        self.ln_attn = nn.LayerNorm(w) if softmax else nn.Identity()
        self.attn = Attention(w, config.heads[layer], config.dim_of_head(layer), config.attention)
        self.mlp = None
        if config.mlp:
            self.ln_mlp = nn.LayerNorm(w) if softmax else nn.Identity()
            self.mlp = nn.Sequential(nn.Linear(w, 4 * w), nn.GELU(), nn.Linear(4 * w, w))

    def forward(self, z: torch.Tensor, n: int) -> torch.Tensor:
        z = z + self.attn(self.ln_attn(z), n)
        if self.mlp is not None:
            z = z + self.mlp(self.ln_mlp(z))
        return z


class ICLTransformer(nn.Module):
    """``model(X, y, x_query) -> predictions``; see the module docstring."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.embed = nn.Linear(config.d + 1, w) if config.attention == "softmax" else None
        self.blocks = nn.ModuleList(Block(config, layer) for layer in range(config.layers))
        self.ln_f = nn.LayerNorm(w) if config.attention == "softmax" else nn.Identity()
        self.readout = nn.Linear(w, 1, bias=False)
        std = config.init_std or 1.0 / math.sqrt(w)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    @property
    def head_masks(self) -> list[torch.Tensor]:
        """Per-layer float masks, shape (heads[l],); set entries to 0 to ablate heads (in place)."""
        return [block.attn.head_mask for block in self.blocks]

    def tokens(self, X: torch.Tensor, y: torch.Tensor, x_query: torch.Tensor) -> torch.Tensor:
        """Embedded sequence (B, n + m, width): context tokens then the m query tokens."""
        d, w = self.config.d, self.config.width
        queries = torch.cat([x_query, torch.zeros_like(x_query[..., :1])], dim=-1)
        raw = torch.cat([torch.cat([X, y[..., None]], dim=-1), queries], dim=1)  # (B, n + m, d + 1)
        if self.embed is not None:
            return self.embed(raw)
        pad = raw.new_zeros(*raw.shape[:2], w - d - 1)
        return torch.cat([raw[..., :d], pad, raw[..., d:]], dim=-1)

    def forward(self, X: torch.Tensor, y: torch.Tensor, x_query: torch.Tensor,
                return_hidden: bool = False):
        """Predict ``y`` at the queries.

        Parameters
        ----------
        X : (B, n, d), y : (B, n)
            Context.
        x_query : (B, d) or (B, m, d)
            One query, or m independent queries per prompt.
        return_hidden : bool
            Also return the hidden states: a list of ``layers + 1`` tensors
            (B, n + m, width), the embedding first and then each layer's output.

        Returns
        -------
        predictions : (B,) or (B, m); with ``return_hidden``, ``(predictions, hidden)``.
        """
        single = x_query.dim() == 2
        queries = x_query[:, None] if single else x_query
        n = X.shape[1]
        z = self.tokens(X, y, queries)
        hidden = [z]
        for block in self.blocks:
            z = block(z, n)
            hidden.append(z)
        pred = self.readout(self.ln_f(z[:, n:]))[..., 0]
        pred = pred[:, 0] if single else pred
        return (pred, hidden) if return_hidden else pred
