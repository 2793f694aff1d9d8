"""Sweeps: many networks over a grid, run locally or on a cluster, stored and resumed.

``plan`` (the grid's tasks) -> ``worker`` (one task's rows) on ``backends`` (loky, Dask, Ray) -> ``store``
(parquet, resume); ``run`` holds ``sweep``, which ties them together. The package's attribute ``sweep`` is
the function: import the modules with ``importlib.import_module("wil.sweep.plan")`` and the like.
"""
from wil.sweep.run import sweep

__all__ = ["sweep"]
