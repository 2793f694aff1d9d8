"""wil, the weight-initialization lab: why initialization decides whether a neural network learns.

Trains small multilayer perceptrons in pure NumPy, many at once, and records what each layer does::

    import wil
    cfg = wil.Config(dataset="moons", activation="relu", depth=5, width=32, epochs=200)
    res = wil.compare(cfg, initializers=["zeros", ("random_normal", {"std": 0.01}), "he_normal"], seeds=[0, 1])
    res.history, res.layers, res.histograms, res.status, res.grid

No Streamlit here; the app (``streamlit run app.py``) draws these frames with ``wil.charts``.
"""

from .activations import ACTIVATIONS, Activation
from .config import LIMITS, MAX_ACTIVATIONS, MAX_WORK, Config
from .datasets import DATASETS, Dataset, load_dataset
from .initializers import INITIALIZERS, Initializer, initialize, make_label, parse_entry
from .results import Result
from .sweep import sweep
from . import theory
from .theory import theory_frame
from .training import LOSS_BOUND, compare, train

__all__ = [
    "ACTIVATIONS", "Activation", "Config", "DATASETS", "Dataset", "INITIALIZERS", "Initializer", "LIMITS",
    "LOSS_BOUND", "MAX_ACTIVATIONS", "MAX_WORK", "Result", "compare", "initialize", "load_dataset",
    "make_label", "parse_entry", "sweep", "theory", "theory_frame", "train",
]
__version__ = "0.1.0"
