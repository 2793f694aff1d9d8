"""Fit the trainable depth of a phase-diagram sweep against c x xi_c (Schoenholz et al., 2017, Fig. 5-6).

    python docs/phase_fit.py SWEEP.parquet --activation tanh --sigma-b2 0.05 [--png FIGURE.png]

For each sigma_w2 of the sweep, the boundary is the deepest depth at which at least half of the seeds
trained (``trainable``), provided every shallower depth tried also did; a column where even the
shallowest depth failed, or where the deepest depth tried still trained, has no boundary inside the grid
(censored) and is left out of the fit, and so is a column whose xi_c exceeds half the deepest depth
tried (``near_critical``): there c x xi_c lies beyond the grid for any c >= 2, and what limits training
is the number of steps, not the correlation depth -- the fit breaks there. The fit is one number, c, in ``boundary = c * xi_c(sigma_w2)``,
by least squares on the logarithms (the ratio boundary / xi_c is what the paper's constant describes):
log c = mean(log(boundary / xi_c)). Prints a table per sigma_w2 and the fitted c; with ``--png`` saves
the phase diagram with the fitted curve and the paper's 6 xi_c.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import wil  # noqa: E402
from wil import charts  # noqa: E402
from wil.analysis.theory import critical_sigma_w2, mean_field  # noqa: E402


def boundaries(frame: pd.DataFrame, share: float = 0.5) -> pd.DataFrame:
    """Per sigma_w2: the deepest trainable depth (see the module's note), and whether it is censored."""
    cells = frame.groupby(["sigma_w2", "depth"], as_index=False)["trainable"].mean()
    rows = []
    for sigma_w2, column in cells.groupby("sigma_w2"):
        column = column.sort_values("depth")
        ok = column["trainable"].to_numpy() >= share
        depths = column["depth"].to_numpy()
        first_failure = int(np.argmin(ok)) if not ok.all() else len(ok)
        if first_failure == 0:
            rows.append((sigma_w2, math.nan, "none trainable"))
        elif first_failure == len(ok):
            rows.append((sigma_w2, float(depths[-1]), "all trainable (boundary deeper)"))
        else:
            rows.append((sigma_w2, float(depths[first_failure - 1]), ""))
    return pd.DataFrame(rows, columns=["sigma_w2", "boundary", "censored"])


def fit(frame: pd.DataFrame, activation: str, sigma_b2: float) -> tuple[float, pd.DataFrame]:
    """The fitted c and the table: sigma_w2, boundary, censored, xi_c, ratio = boundary / xi_c,
    near_critical, used."""
    table = boundaries(frame)
    table["xi_c"] = [mean_field(activation, s, sigma_b2).xi_c for s in table["sigma_w2"]]
    table["ratio"] = table["boundary"] / table["xi_c"]
    deepest = float(frame["depth"].max())
    table["near_critical"] = table["xi_c"] > deepest / 2
    used = table[(table["censored"] == "") & ~table["near_critical"] & np.isfinite(table["ratio"])
                 & (table["ratio"] > 0)]
    c = float(np.exp(np.mean(np.log(used["ratio"])))) if len(used) else math.nan
    table["used"] = table.index.isin(used.index)
    return c, table


def free_fit(table: pd.DataFrame) -> tuple[float, float]:
    """(a, beta) of log(boundary) = a + beta log(xi_c) by least squares over the columns ``used``
    (beta = 1 is the paper's boundary = c xi_c, with c = exp(a)); NaN with fewer than 2 distinct xi_c."""
    used = table[table["used"]]
    x, y = np.log(used["xi_c"].to_numpy(float)), np.log(used["boundary"].to_numpy(float))
    if len(used) < 2 or np.ptp(x) == 0:
        return math.nan, math.nan
    beta, a = np.polyfit(x, y, 1)
    return float(a), float(beta)


def bootstrap(frame: pd.DataFrame, activation: str, sigma_b2: float, n: int = 2000, seed: int = 0) -> dict:
    """95% percentile intervals of c (the fit at beta = 1) and of (a, beta) (the free fit). With several seeds
    the seeds are resampled (each column's boundary recomputed from the resampled seeds' majority); with
    one seed the columns used are resampled. Returns the point estimates, the intervals and the mode."""
    rng = np.random.default_rng(seed)
    c, table = fit(frame, activation, sigma_b2)
    a, beta = free_fit(table)
    seeds = np.sort(frame["seed"].unique())
    draws = []
    for _ in range(n):
        if len(seeds) > 1:
            picked = rng.choice(seeds, len(seeds))
            resampled = pd.concat([frame[frame["seed"] == s] for s in picked], ignore_index=True)
            c_b, table_b = fit(resampled, activation, sigma_b2)
        else:
            used = table[table["used"]]
            table_b = used.iloc[rng.integers(0, len(used), len(used))] if len(used) else used
            c_b = float(np.exp(np.mean(np.log(table_b["ratio"])))) if len(table_b) else math.nan
        draws.append((c_b, *free_fit(table_b)))
    draws = np.array(draws, dtype=float)
    low, high = np.nanpercentile(draws, [2.5, 97.5], axis=0)
    return {"c": c, "a": a, "beta": beta, "c_ci": (low[0], high[0]), "a_ci": (low[1], high[1]),
            "beta_ci": (low[2], high[2]), "beta_se": float(np.nanstd(draws[:, 2], ddof=1)),
            "mode": "seeds" if len(seeds) > 1 else "columns", "n": n}


def protocol_rows(frame: pd.DataFrame, path: str) -> pd.DataFrame:
    """A protocol sweep's file (a ``learning_rate`` axis, every rate's rows) reduced to the best rate per
    depth, as ``wil.sweep(..., protocol=...)`` returns it (the classes from the file's stored config);
    any other frame unchanged."""
    if "learning_rate" not in frame or "train_accuracy_last10" not in frame:
        return frame
    import json

    import pyarrow.parquet as pq

    from wil.analysis.criteria import dataset_classes
    from wil.sweep import protocols

    stored = json.loads(pq.read_metadata(path).metadata[b"wil_sweep"])
    return protocols.select(frame, dataset_classes(stored["config"]["dataset"]))


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
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    if args.png:
        import altair as alt

        sigma = np.linspace(frame["sigma_w2"].min(), frame["sigma_w2"].max(), 121)
        theory = wil.analysis.theory.phase_frame(args.activation, args.sigma_b2, sigma)
        chart = charts.phase_diagram(frame, theory=theory, critical=critical, c=6.0,
                                         title=f"Trainability of {args.activation} networks on digits "
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
        title = alt.Title(f"Trainability of {args.activation} networks on digits (σ_b² = {args.sigma_b2:g}); "
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
