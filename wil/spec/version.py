"""wil's version: one source, read by the package metadata (pyproject.toml), ``wil.__version__`` and saved runs."""

__version__ = "0.3.0"
