"""What the page teaches: the demo configuration (``DEMO``, the opening page's and the fallback of every
link), the prepared lessons a presenter starts from, and the Learn tab's text."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import wil

# The app's first screen: zeros stay symmetric, std 0.01 vanishes, std 1 explodes, Glorot and He learn, in
# each of seeds 0-4 (tests/test_verdicts.py; at learning rate 0.1 Glorot blew up late on seed 1). The app
# trains in float32: about 1.6x faster than float64 for the demo, with the same lessons on screen (the
# precision selector offers float64).
DEMO = wil.Config(dataset="moons", n_samples=400, noise=0.2, activation="relu", depth=8, width=32, epochs=150,
                  learning_rate=0.05, optimizer="sgd", dtype="float32",
                  compare=("zeros", "random_normal(std=0.01)", "random_normal(std=1)", "glorot_uniform",
                           "he_normal"))
# Prepared comparisons for a presenter, each a story that shows on the first screen.
LESSONS = {
    "The classic: ReLU, 8 layers (the demo)": DEMO,
    # lr 0.02 for 300 epochs: He learns in each of seeds 0-4 on every BLAS kernel tried (SkylakeX, Haswell,
    # Sandybridge); at 0.03-0.05, full-batch descent on 30 float32 layers is unstable enough that a kernel's
    # rounding decides whether a seed ends learned or stalled. Two initializers keep it inside the policy.
    "Deep ReLU, 30 layers: He keeps the signal, Glorot loses it": wil.Config(
        dataset="moons", n_samples=400, noise=0.2, activation="relu", depth=30, width=32, epochs=300,
        learning_rate=0.02, compare=("glorot_uniform", "he_normal"), dtype=DEMO.dtype),
    "Tanh: too small fades, too large saturates, Glorot learns": wil.Config(
        dataset="circles", n_samples=400, noise=0.1, activation="tanh", depth=8, width=32, epochs=150,
        learning_rate=0.1, compare=("random_normal(std=0.01)", "random_normal(std=1)", "glorot_uniform", "he_normal"),
        dtype=DEMO.dtype),
}


class CureCase(NamedTuple):
    """One network of the lesson "The other cures" (``wil_app/cures.py``): its name, its configuration, the
    verdict it gets in each of seeds 0-4 (``tests/test_cures_lesson.py``) and why, in words."""

    title: str
    config: wil.Config
    verdict: str
    why: str


# "The other cures" (issue 20): a Config has one architecture, so the lesson is one run per network, side by
# side on a page of its own. 60 ReLU layers of 32 units on moons, full-batch SGD at learning rate 0.05 for 150
# epochs, the demo's data and precision. The PyTorch figures used the same network; 0.05 is the
# demo's rate, at which each network below gets its verdict in each of seeds 0-4 (and one run of 60 layers
# fits the server's budgets). Measured in wil (float32, seeds 0-4): docs/CURES.md.
CURES_TITLE = "The other cures: skip connections, normalization and the initializations made for them"
CURES_BASE = dataclasses.replace(DEMO, depth=60, compare=())


def _cure(title: str, initializer: str, verdict: str, why: str, **architecture) -> CureCase:
    config = dataclasses.replace(CURES_BASE, initializer=initializer, compare=(initializer,), **architecture)
    return CureCase(title, config, verdict, why)


CURES = (
    _cure("Plain, std 0.01", "random_normal(std=0.01)", "dead",
          "Each layer shrinks the signal 25-fold: it reaches exactly zero long before layer 60, so the deep "
          "units never fire and the network stays at chance (50%, seeds 0-4)."),
    _cure("Plain + BatchNorm (He)", "he_normal", "exploding",
          "BatchNorm keeps every layer's forward signal at scale 1, but without skip connections the "
          "gradient explodes with depth (Yang et al. 2019): layer 1's is 9e3 to 6e4 times the output "
          "layer's at the start. It learns something, unreliably: 65-93% (seeds 0-4).",
          normalization="batch"),
    _cure("Residual, He, no normalization", "he_normal", "exploding",
          "Every block adds its branch's variance to the stream's, so the signal doubles block after block: "
          "layer 60's activations are 5e3 to 1e5 times layer 1's, and the loss is NaN after one step "
          "(seeds 0-4).", residual=True),
    _cure("Residual + BatchNorm (He)", "he_normal", "learned",
          "Skips keep a clean path for the gradient, BatchNorm keeps each branch at scale 1: 95-98% (seeds 0-4).",
          residual=True, normalization="batch"),
    _cure("Residual, Fixup", "fixup", "learned",
          "No normalization: each branch's last layer and the output start at zero (the first layers at "
          "He × L^(-1/2)), so the network starts as its projection and grows its branches: 93-95% (seeds 0-4).",
          residual=True),
    _cure("Residual, SkipInit", "skipinit", "learned",
          "A scalar at the end of each branch, initialized at 0 (and trained): every block starts as the "
          "identity: 93-94% (seeds 0-4).", residual=True),
    _cure("Residual, ReZero", "rezero", "learned",
          "x + α·F(x) with α = 0 at the start and trained: in this MLP the same network as SkipInit at 0, "
          "so the same numbers: 93-94% (seeds 0-4).", residual=True),
)

# The Learn tab's text, above the formulas of the activation and the initializers compared.
LESSON = r"""
### Why initialize at all?
Training starts somewhere and walks downhill. Each layer multiplies its input by a weight matrix, so after
$L$ layers the signal has been multiplied $L$ times, forward and again backward. A factor a bit below 1
per layer compounds to nothing ($0.5^8 \approx 0.004$), a factor a bit above 1 to a flood ($2^8 = 256$).
Initialization picks that factor before the first step.

### All zeros: nothing to break the symmetry
If every weight starts equal, every unit of a layer computes the same thing and receives the same
gradient, so the units stay identical forever: 32 units act like one (see *Distinct units*). With zeros and
ReLU the gradient is exactly zero and nothing moves at all. Random weights break the symmetry.

### Too small: the signal vanishes
With variance $\sigma^2$ and $n$ inputs, a ReLU layer scales the signal's std by about
$\sqrt{n\sigma^2/2}$. For $\sigma = 0.01$ and $n = 32$ that is $0.04$ per layer, so eight layers leave
$10^{-11}$ of it. The output is a constant, the loss sits at chance ($\ln 2 \approx 0.69$) and the
gradients reaching the first layers vanish the same way.

### Too large: the signal explodes
For $\sigma = 1$ the factor is $4$ per layer: $4^8 \approx 65\,000$. Outputs and gradients are huge, and one
step throws the weights so far that the loss overflows: the network **diverges**. With tanh or sigmoid,
large weights instead push units into their flat tails, where the slope, and so the gradient, is zero.

### Xavier / Glorot (2010)
Make the factor 1: forward this needs $n_{in}\,\mathrm{Var}(w) = 1$, backward $n_{out}\,\mathrm{Var}(w) = 1$;
Glorot and Bengio take the compromise $\mathrm{Var}(w) = 2/(n_{in} + n_{out})$. It assumes an activation
that is linear around zero: **tanh, softsign, sigmoid, linear**.

### He / Kaiming (2015)
ReLU zeroes half of its inputs, which halves the signal's second moment, so He et al. double the
variance: $\mathrm{Var}(w) = 2/n_{in}$. Use it for the **ReLU family** (and GELU, Swish). Glorot with ReLU
shrinks the signal by about $\sqrt 2$ per layer, which only shows in deep networks.

### And the others
**LeCun** ($1/n_{in}$) is the partner of SELU. **Orthogonal** matrices preserve norms exactly in linear
networks, and keep tanh networks near the edge of chaos isometric however deep (the Isometry page). With
ReLU they need gain $\sqrt 2$, as He: at gain 1 each layer halves the signal's variance. **LSUV** measures each layer on a batch of data and rescales it until
its output variance is 1, whatever the activation.
"""
