"""The full openb table from the runs `openb_heldout.py --stream` wrote (JSON lines), one row per
workload, one column per policy (mean ± sd over the seeds found, with n when fewer than ten), the
ratio default / fgd per row, and its mean over the 16 generated grid levels.

    .venv/bin/python scripts/openb_table.py out/fgd_bestfit.jsonl out/others.jsonl out/default.jsonl \\
        [--bounds out/bounds.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from neocloud.kernel.reference import OPENB_PUBLISHED

POLICIES = ("random", "dot-product", "gpu-clustering", "gpu-packing", "best-fit", "fgd", "default")
PUBLIC = ("default", "cpu050", "gpushare40", "gpuspec10", "multigpu20")
GRID = tuple(
    f"{k}{v}*"
    for k, levels in (
        ("cpu", ("050", "100", "200", "250")),
        ("gpushare", ("40", "60", "80", "100")),
        ("gpuspec", ("10", "20", "25", "33")),
        ("multigpu", ("20", "30", "40", "50")),
    )
    for v in levels
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--bounds", type=Path, default=None)
    parser.add_argument("--policies", default=",".join(POLICIES), help="columns, comma-separated")
    args = parser.parse_args()
    columns = tuple(p.strip() for p in args.policies.split(",") if p.strip())
    cells: dict[tuple[str, str], dict[int, float]] = {}
    for path in args.runs:
        for line in path.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                cells.setdefault((r["workload"], r["policy"]), {})[int(r["seed"])] = float(
                    r["unallocated_pct"]
                )
    bounds: dict[str, list[float]] = {}
    if args.bounds is not None:
        for b in json.loads(args.bounds.read_text()):
            bounds.setdefault(b["workload"], []).append(float(b["bound_pct"]))
    workloads = [w for w in (*PUBLIC, *GRID) if any((w, p) in cells for p in columns)]
    print("| workload | " + " | ".join(columns) + " | bound | default/fgd |")
    print("|---" * (len(columns) + 3) + "|")
    grid_ratios, all_ratios = [], []
    for w in workloads:
        shown = []
        for p in columns:
            got = list(cells.get((w, p), {}).values())
            if not got:
                shown.append("")
                continue
            text = f"{statistics.fmean(got):.2f}±{statistics.stdev(got) if len(got) > 1 else 0.0:.2f}"
            published = OPENB_PUBLISHED.get(w, {}).get(p)
            text += f" [{published[0]:.2f}]" if published else ""
            text += f" n{len(got)}" if len(got) < 10 else ""
            shown.append(text)
        fgd, default = cells.get((w, "fgd"), {}), cells.get((w, "default"), {})
        common = sorted(set(fgd) & set(default))
        ratio = ""
        if common:
            r = statistics.fmean(default[s] for s in common) / statistics.fmean(fgd[s] for s in common)
            ratio = f"{r:.3f}" + (f" n{len(common)}" if len(common) < 10 else "")
            all_ratios.append(r)
            if w in GRID:
                grid_ratios.append(r)
        bound = f"{statistics.fmean(bounds[w]):.2f}" if w in bounds else ""
        print(f"| {w} | " + " | ".join(shown) + f" | {bound} | {ratio} |")
    if grid_ratios:
        print(
            f"\ngrid ({len(grid_ratios)} levels): mean default/fgd {statistics.fmean(grid_ratios):.3f}, "
            f"max {max(grid_ratios):.3f}"
        )
    if all_ratios:
        print(
            f"all {len(all_ratios)} rows: mean default/fgd {statistics.fmean(all_ratios):.3f}, "
            f"max {max(all_ratios):.3f}"
        )


if __name__ == "__main__":
    main()
