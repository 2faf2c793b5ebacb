"""Monte Carlo experiments: problem sampling, excess risk, sweeps and the CLI."""

from .problems import Problems, sample_problems, signal_norm2

__all__ = ["Problems", "sample_problems", "signal_norm2"]
