"""wil, the weight-initialization lab: why initialization decides whether a neural network learns.

Trains small multilayer perceptrons in pure NumPy, many at once, and records what each layer does::

    import wil
    cfg = wil.Config(dataset="moons", activation="relu", depth=5, width=32, epochs=200)
    res = wil.compare(cfg, initializers=["zeros", ("random_normal", {"std": 0.01}), "he_normal"], seeds=[0, 1])
    res.history, res.layers, res.histograms, res.status, res.grid

Any valid run trains if it fits the machine's memory (checked before allocating). No Streamlit and no
server policy here; the app (``streamlit run app.py``) applies its own and draws these frames with
``wil.charts``.
"""

from wil.spec.activations import ACTIVATIONS, Activation
from wil.spec.checks import ArgumentTypeError
from wil.export.codegen import to_keras, to_pytorch, to_wil
from wil.spec.config import RANGES, Config
from wil.spec.datasets import DATASETS, TASKS, USER_PREFIX, Dataset, load_dataset
from wil.spec.user_data import detect_task, from_frame
from wil.engine.divergence import LOSS_BOUND
from wil.spec.initializers import INITIALIZERS, Initializer
from wil.spec.initialize import initialize
from wil.spec.labels import make_label, parse_entry
from wil.export.io import load
from wil.engine.train import StopTraining
from wil.engine.threads import cores_plan
from wil.spec.optimizers import OPTIMIZERS, Optimizer
from wil.spec.residual import NORMALIZATION_LABELS, NORMALIZATIONS  # the other cures: Config(normalization=...)
from wil.analysis.result import Result
from wil.analysis.names import short_name
from wil.sweep import sweep
from wil.sweep import trainability  # the measured boundary of a sweep, its fits and budget curve
from wil.analysis import criteria, isometry, theory
from wil.analysis.spectrum import jacobian_spectrum
from wil.analysis.theory import theory_frame
from wil.analysis.compare import compare, resume, train
from wil.spec.version import __version__
from wil.spec import layout  # every recorded shape of a run, and its byte estimate
from wil import charts  # registers Result.plot; its builders load on first use

__all__ = [
    "ACTIVATIONS", "Activation", "ArgumentTypeError", "Config", "DATASETS", "Dataset", "INITIALIZERS",
    "Initializer", "LOSS_BOUND", "NORMALIZATIONS", "NORMALIZATION_LABELS", "OPTIMIZERS", "Optimizer", "RANGES", "Result", "StopTraining", "TASKS",
    "USER_PREFIX", "compare", "cores_plan", "criteria", "detect_task", "from_frame", "initialize", "isometry",
    "jacobian_spectrum", "load", "load_dataset", "make_label", "parse_entry", "resume", "short_name", "sweep",
    "theory", "theory_frame", "to_keras", "to_pytorch", "to_wil", "train", "trainability",
]

