"""Merge dynamics tables written by run_table.py: rows of later tables replace the rows of earlier
ones with the same (system, model, train, predict); the rows are listed per system (in order of
first appearance) in the published table's row order, variants such as "dgnet (published slope)"
after the system's standard rows; the result records every source table's provenance.

Use it when part of a table is re-run from scratch while the rest's cached cells are no longer
on this machine (e.g. the two-body rows after a data-protocol fix).

Run: python experiments/dynamics/merge_tables.py figures/dynamics_ode_table_full.json /tmp/two_body.json \
         --out figures/dynamics_ode_table_full
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from randfield._io import atomic_write_bytes, atomic_write_json, provenance
from randfield.dynamics.experiment import TABLE_ROWS, row_base, table_markdown
from randfield.figures import dynamics_table_figure
from randfield.plotting import save_figure


def _key(row: dict) -> tuple:
    return row["system"], row["model"], row["train"], row["predict"]


def _runs(table: dict) -> list[dict]:
    """The run_table provenance records behind a table (a merged table lists its sources')."""
    if "sources" in table:
        return [run for source in table["sources"] for run in _runs(source)]
    return [{k: v for k, v in table.items() if k != "rows"}]


def _describe(run: dict) -> str:
    c = run["config"]
    rows = f" --rows {' '.join(c['rows'])}" if c.get("rows") else ""
    systems = " ".join(c.get("systems", []))
    return f"run_table.py --config {c.get('config')} --systems {systems}{rows} --seeds {c.get('seeds')}"


def merge_rows(tables: list[list[dict]]) -> list[dict]:
    """Rows of all tables, a later row replacing an earlier one with the same key, in table order."""
    merged: dict[tuple, dict] = {}
    for rows in tables:
        for row in rows:
            merged[_key(row)] = row
    systems = list(dict.fromkeys(row["system"] for row in merged.values()))
    order = [(model, train, predict) for model, train, predicts in TABLE_ROWS for predict in predicts]

    def rank(row):  # rows outside the published table keep their merge order, after the known ones
        known = row_base(row)
        variant = known[0] != row["model"]
        return systems.index(row["system"]), variant, order.index(known) if known in order else len(order)

    return sorted(merged.values(), key=rank)  # stable: ties keep the merge order


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tables", nargs="+", type=Path, help="run_table.py JSON outputs, earliest first")
    ap.add_argument("--out", required=True, help="output path without suffix (.md, .json, .png and .pdf are written)")
    args = ap.parse_args(argv)
    sources = [json.loads(path.read_text()) for path in args.tables]
    rows = merge_rows([source["rows"] for source in sources])
    out = Path(args.out)
    runs = []  # each run once, also when a merged table is merged again with one of its sources
    for run in (run for source in sources for run in _runs(source)):
        if run not in runs:
            runs.append(run)
    header = "<!-- merged by experiments/dynamics/merge_tables.py from " + " + ".join(map(str, args.tables)) + "; "
    header += "made by: " + " + ".join(_describe(run) for run in runs) + " -->\n"
    atomic_write_bytes(out.with_suffix(".md"), (header + table_markdown(rows)).encode())
    atomic_write_json(
        out.with_suffix(".json"),
        {**provenance({"merged": [str(p) for p in args.tables]}), "sources": runs, "rows": rows},
    )
    save_figure(dynamics_table_figure(rows), out)  # .png and .pdf
    print(table_markdown(rows))


if __name__ == "__main__":
    main()
