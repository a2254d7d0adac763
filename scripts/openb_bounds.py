"""The limit on every workload of the table: pooled and configuration bounds, and a real placement.

    .venv/bin/python scripts/openb_bounds.py --seeds 42 [--only default,multigpu50] [--json out/bounds.json]

For each workload (the five shared lists and the generated grid, as in `openb_heldout.py`) and seed,
prints the pooled integer programme's bound (`openb_bound`), the configuration LP's bound
(`openb_configurations`), and the unallocated GPU % of a real placement built from the configuration
master's solution: the best any placement can do lies between the tighter bound and that placement.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from neocloud.bench import openb as protocol
from neocloud.bench.openb_bound import placement_bound
from neocloud.bench.openb_configurations import configuration_bound
from neocloud.bench.openb_variants import grid, write_variant
from neocloud.fleet.capacity import MILLI
from neocloud.traces import openb

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "openb"
PUBLIC = ("default", "cpu050", "gpushare40", "gpuspec10", "multigpu20")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seeds", default="42")
    parser.add_argument("--variant-seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per configuration LP")
    parser.add_argument("--only", default="")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    seeds = protocol.parse_seeds(args.seeds)
    fleet = openb.read_fleet(args.data / "openb_node_list_gpu_node.csv")
    capacity = fleet.gpu_count() * MILLI
    only = {w.strip() for w in args.only.split(",") if w.strip()}
    rows = []
    print("| workload | seed | pooled bound | configuration bound | built placement | converged | s |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        workloads = [(w, args.data / f"openb_pod_list_{w}.csv") for w in PUBLIC]
        source = args.data / "openb_pod_list_default.csv"
        for v in grid():
            workloads.append((f"{v.name}*", write_variant(source, v, args.variant_seed, Path(tmp) / v.name)))
        if only:
            workloads = [(w, p) for w, p in workloads if w.rstrip("*") in only or w in only]
        for name, path in workloads:
            pods = openb.read_pods(path)
            gpu_milli = [p.gpu_milli for p in pods]
            for seed in seeds:
                order = protocol.arrival_order(gpu_milli, capacity, seed)
                end = protocol.checkpoint_prefix(gpu_milli, order, capacity)
                arrived = [pods[i].request for i in order[:end]]
                started = time.perf_counter()
                pooled = placement_bound(fleet, arrived, integral=True).unallocated_pct
                conf = configuration_bound(fleet, arrived, time_limit=args.time_limit)
                seconds = time.perf_counter() - started
                row = {
                    "workload": name,
                    "seed": seed,
                    "pooled_bound_pct": round(pooled, 4),
                    "configuration_bound_pct": round(conf.unallocated_pct, 4),
                    "bound_pct": round(max(pooled, conf.unallocated_pct), 4),
                    "built_placement_pct": round(conf.achieved_unallocated_pct, 4),
                    "master_pct": round(100.0 - 100.0 * conf.master_milli / capacity, 4),
                    "converged": conf.optimal,
                    "iterations": conf.iterations,
                    "seconds": round(seconds, 1),
                }
                rows.append(row)
                print(
                    f"| {name} | {seed} | {pooled:.2f} | {conf.unallocated_pct:.2f} | "
                    f"{conf.achieved_unallocated_pct:.2f} | {conf.optimal} | {seconds:.0f} |",
                    flush=True,
                )
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
