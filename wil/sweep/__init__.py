"""Sweeps: many networks over a grid, run locally or on a cluster, stored and resumed."""
from wil.sweep.core import sweep

__all__ = ["sweep"]
