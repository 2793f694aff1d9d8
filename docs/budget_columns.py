"""Fill a sweep file's budget columns from a sweep of the same networks trained for half its epochs.

    python docs/budget_columns.py LONG.parquet SHORT.parquet [--out OUT.parquet]

A sweep made before wil recorded the budget columns (``train_accuracy_last10_half``, ``_quarter``,
``_eighth``: the last-10 training accuracy at a share of the run, ``wil.sweep.worker``) gets them without
training its whole length again. wil's learning rate has no schedule and each network's mini-batch order
is drawn epoch by epoch from its seed, so the first E' epochs of a run of E epochs are the run of E'
epochs, number for number (``tests/test_sweep.py::test_budget_columns_are_the_shorter_runs_criterion``).
With E' = ``budget_epoch(E, 1/2)``, the SHORT run's own last-10 accuracy is LONG's half budget, and its
half and quarter are LONG's quarter and eighth whenever the budget epochs agree, which this script checks
(273 epochs: 136, 68, 34 both ways) before it writes anything.

SHORT must hold the same grid's networks (every row of LONG by its axes and seed) with every other setting
equal but the epochs (checked against both files' stored configs). The result keeps LONG's rows, columns
and stored sweep identity; only the three budget columns are filled. Without ``--out`` LONG is rewritten.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from wil.sweep.worker import BUDGET_SHARES, budget_epoch  # noqa: E402

METADATA_KEY = b"wil_sweep"


def mapping(long_epochs: int, short_epochs: int) -> dict[str, str]:
    """LONG's budget column -> the SHORT column that holds the same epochs' accuracy; ValueError when the
    epochs do not line up."""
    if short_epochs != budget_epoch(long_epochs, BUDGET_SHARES["half"]):
        raise ValueError(f"SHORT trained {short_epochs} epochs; half of LONG's {long_epochs} is "
                         f"{budget_epoch(long_epochs, BUDGET_SHARES['half'])}")
    pairs = {"train_accuracy_last10_half": ("train_accuracy_last10", short_epochs),
             "train_accuracy_last10_quarter": ("train_accuracy_last10_half",
                                               budget_epoch(short_epochs, BUDGET_SHARES["half"])),
             "train_accuracy_last10_eighth": ("train_accuracy_last10_quarter",
                                              budget_epoch(short_epochs, BUDGET_SHARES["quarter"]))}
    for column, (_, epoch) in pairs.items():
        share = BUDGET_SHARES[column.rsplit("_", 1)[1]]
        if epoch != budget_epoch(long_epochs, share):
            raise ValueError(f"{column}: SHORT's epoch {epoch} is not LONG's {budget_epoch(long_epochs, share)}")
    return {column: source for column, (source, _) in pairs.items()}


def fill(long_path: str, short_path: str, out_path: str) -> int:
    """Write LONG with its budget columns from SHORT; the rows filled."""
    long_table, short_table = pq.read_table(long_path), pq.read_table(short_path)
    long_meta = json.loads(long_table.schema.metadata[METADATA_KEY])
    short_meta = json.loads(short_table.schema.metadata[METADATA_KEY])
    long_config, short_config = dict(long_meta["config"]), dict(short_meta["config"])
    long_epochs, short_epochs = int(long_config.pop("epochs")), int(short_config.pop("epochs"))
    for axis in set(short_meta["axes"]) - set(long_meta["axes"]):  # an axis of SHORT LONG fixed in its config
        long_config.pop(axis, None)
    if long_config != short_config or sorted(long_meta["axes"]) != sorted(short_meta["axes"]):
        raise ValueError(f"SHORT is another sweep: {short_meta} against {long_meta}")
    columns = mapping(long_epochs, short_epochs)
    long, short = long_table.to_pandas(), short_table.to_pandas()
    keys = [*long_meta["axes"], "seed"]
    merged = long.drop(columns=list(columns), errors="ignore").merge(
        short[keys + sorted(set(columns.values()))].rename(columns={v: f"short:{v}" for v in columns.values()}),
        on=keys, how="left", validate="one_to_one")
    missing = merged[[f"short:{v}" for v in columns.values()]].isna().all(axis=1) & long["train_accuracy_last10"].notna()
    if missing.any():
        raise ValueError(f"SHORT lacks {int(missing.sum())} of LONG's networks")
    for column, source in columns.items():
        merged[column] = merged.pop(f"short:{source}")
    merged = merged[list(long.columns) + [c for c in columns if c not in long.columns]]
    table = pa.Table.from_pandas(merged, preserve_index=False).replace_schema_metadata(long_table.schema.metadata)
    pq.write_table(table, out_path)
    return len(merged)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("long", help="the sweep file whose budget columns are filled")
    parser.add_argument("short", help="the same sweep trained for half the epochs")
    parser.add_argument("--out", default=None, help="where to write (default: LONG itself)")
    args = parser.parse_args(argv)
    rows = fill(args.long, args.short, args.out or args.long)
    print(f"{rows} rows of {args.long} with their budget columns from {args.short}: {args.out or args.long}")


if __name__ == "__main__":
    main()
