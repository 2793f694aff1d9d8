"""Fit the trainable depth of a phase-diagram sweep against c x xi_c (Schoenholz et al., 2017, Fig. 5-6).

    python docs/phase_fit.py SWEEP.parquet --activation tanh --sigma-b2 0.05 [--png FIGURE.png]

The boundary, the fits and the budget curve are ``wil.trainability`` (``wil/sweep/trainability.py``, where
the rules are stated); this script prints them for a sweep file: a table per sigma_w2, c with the slope
fixed at 1 and the free slope, both with bootstrap intervals, and for a protocol sweep the boundary
against the step budget; with ``--png`` it saves the phase diagram with the fitted curve and the paper's
6 xi_c.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import wil  # noqa: E402
from wil import charts  # noqa: E402
from wil.analysis.theory import critical_sigma_w2  # noqa: E402
from wil.sweep import trainability  # noqa: E402
from wil.sweep.trainability import bootstrap, boundaries, fit, free_fit  # noqa: E402,F401  (the script's API)


def stored_config(path: str) -> wil.Config:
    """The base config stored in a sweep file's metadata."""
    return trainability.read(path)[1]


def protocol_rows(frame: pd.DataFrame, path: str, criterion: str | None = None) -> pd.DataFrame:
    """``wil.sweep.trainability.protocol_rows`` for the sweep file at ``path``."""
    if "learning_rate" not in frame or "train_accuracy_last10" not in frame:
        return frame
    return trainability.protocol_rows(frame, stored_config(path), criterion)


def budget_curve(frame: pd.DataFrame, path: str, activation: str, sigma_b2: float, n: int = 2000) -> pd.DataFrame:
    """``wil.sweep.trainability.budget_curve`` for the sweep file at ``path``."""
    return trainability.budget_curve(frame, stored_config(path), activation, sigma_b2, n)




def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep", help="a parquet file written by python -m wil sweep")
    parser.add_argument("--activation", default="tanh")
    parser.add_argument("--sigma-b2", type=float, default=0.05)
    parser.add_argument("--bootstrap", type=int, default=2000, help="bootstrap draws for the intervals")
    parser.add_argument("--png", default=None, help="save the phase diagram with the fitted c x xi_c here")
    args = parser.parse_args(argv)
    frame = protocol_rows(pd.read_parquet(args.sweep), args.sweep)
    c, table = fit(frame, args.activation, args.sigma_b2)
    critical = critical_sigma_w2(args.activation, args.sigma_b2)
    print(f"critical sigma_w2 = {critical:.4f}; fitted c = {c:.2f} over {int(table['used'].sum())} columns "
          f"(paper: ~6)")
    boot = bootstrap(frame, args.activation, args.sigma_b2, args.bootstrap)
    print(f"c (beta = 1): {boot['c']:.2f}, 95% CI {boot['c_ci'][0]:.2f}-{boot['c_ci'][1]:.2f}; free fit "
          f"log boundary = a + beta log xi_c: a = {boot['a']:.2f} ({boot['a_ci'][0]:.2f} to {boot['a_ci'][1]:.2f}), "
          f"beta = {boot['beta']:.2f} ({boot['beta_ci'][0]:.2f} to {boot['beta_ci'][1]:.2f}, se "
          f"{boot['beta_se']:.2f}); bootstrap over {boot['mode']}, {boot['n']} draws")
    chi1 = frame.groupby("sigma_w2")["chi1_measured"].median()
    above = chi1[chi1 >= 1.0]
    if len(above) and (chi1 < 1.0).any():
        lo_s, hi_s = chi1[chi1 < 1.0].index.max(), above.index.min()
        lo, hi = chi1[lo_s], chi1[hi_s]
        print(f"measured chi1 crosses 1 at sigma_w2 ~ {lo_s + (1 - lo) * (hi_s - lo_s) / (hi - lo):.2f} "
              f"(linear between {lo_s:g} and {hi_s:g}; theory {critical:.3f})")
    # where each boundary lies: between it and the first depth that failed (wil.trainability.brackets), in
    # units of xi_c against the protocol's 0.5
    placed = wil.trainability.brackets(frame)
    table = table.assign(failed=placed["failed"].to_numpy(),
                         step_xi=((placed["failed"] - placed["boundary"]) / table["xi_c"]).to_numpy())
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    curve = budget_curve(pd.read_parquet(args.sweep), args.sweep, args.activation, args.sigma_b2, args.bootstrap)
    if len(curve):
        print("\nthe boundary against the step budget (the learning rate chosen again per depth at each budget; "
              "95% bootstrap intervals over seeds):")
        fits = curve.groupby("steps")[["epochs", "share_trainable", "c", "c_low", "c_high", "beta", "beta_low",
                                        "beta_high"]].first()
        fits["columns_fitted"] = curve.groupby("steps")["used"].sum()
        shown = curve.assign(boundary=[("none" if not np.isfinite(b) else f">={b:g}" if c else f"{b:g}")
                                       for b, c in zip(curve["boundary"], curve["censored"])])
        fits = fits.join(shown.pivot(index="steps", columns="sigma_w2", values="boundary").add_prefix("sigma_w2="))
        print(fits.reset_index().to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    if args.png:
        import altair as alt

        dataset = stored_config(args.sweep).dataset

        sigma = np.linspace(frame["sigma_w2"].min(), frame["sigma_w2"].max(), 121)
        theory = wil.analysis.theory.phase_frame(args.activation, args.sigma_b2, sigma)
        chart = charts.phase_diagram(frame, theory=theory, critical=critical, c=6.0,
                                         title=f"Trainability of {args.activation} networks on {dataset} "
                                               f"(σ_b² = {args.sigma_b2:g}); fitted c = {c:.2f}")
        fitted = theory[np.isfinite(theory["xi_c"])].assign(depth_scale=lambda t: c * t["xi_c"])
        fitted["side"] = np.where(fitted["sigma_w2"] < critical, "ordered", "chaotic")
        top = float(frame["depth"].max())
        fitted = fitted[fitted["depth_scale"] <= 2 * top]
        boundary = table[table["used"]]
        # the fitted curve (dashed white) and the measured boundary (white points) over the heatmap
        extra = [alt.Chart(fitted).mark_line(color="white", strokeDash=[4, 3], strokeWidth=2, clip=True).encode(
                     x="sigma_w2:Q", y="depth_scale:Q", detail="side:N"),
                 alt.Chart(boundary).mark_point(color="white", filled=True, size=90, shape="diamond").encode(
                     x="sigma_w2:Q", y="boundary:Q")]
        title = alt.Title(f"Trainability of {args.activation} networks on {dataset} (σ_b² = {args.sigma_b2:g}); "
                          f"fitted c = {c:.2f}",
                          subtitle=[f"{len(frame)} networks; colour: share of seeds trainable; black dashed: the "
                                    f"edge of chaos (σ_w² = {critical:.3f})",
                                    f"red: the paper's 6 ξ_c; white dashed: the fitted {c:.2f} ξ_c; "
                                    f"diamonds: the measured boundary of each column used in the fit"])
        layered = alt.layer(*chart.layer, *extra, title=title, width=chart.width, height=chart.height)
        layered = layered.configure(**charts.CONFIG)
        layered.save(args.png, scale_factor=1.5)
        print(f"figure in {args.png}")


if __name__ == "__main__":
    main()
