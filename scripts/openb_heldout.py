"""Compare placement policies on the shared openb workloads and on the published grid of variants.

    .venv/bin/python scripts/openb_heldout.py --policies fgd,default --seeds 42-51 [--jobs 2] [--json out.json]

Generates the grid's variants (`neocloud.bench.openb_variants.grid()`: CPU-only 50/100/200/250,
sharing 40/60/80/100, model constraints 10/20/25/33, multi-GPU 20/30/40/50) from the default pod list
with --variant-seed, runs the openb protocol for every workload, policy and seed in --jobs processes,
and prints unallocated GPU % at 100 % arrived as mean ± sd, the ratio of the first two policies
(second / first), and the seconds per seed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from multiprocessing import Pool
from pathlib import Path

from neocloud.bench import openb as protocol
from neocloud.bench.openb_variants import grid, write_variant
from neocloud.placement.workload import Workload
from neocloud.traces import openb

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "openb"
PUBLIC = ("default", "cpu050", "gpushare40", "gpuspec10", "multigpu20")


def _run(job: tuple[str, Path, Path, str, int]) -> tuple[str, str, int, float, float]:
    name, pods_path, nodes_path, policy, seed = job
    fleet, pods = openb.read_fleet(nodes_path), openb.read_pods(pods_path)
    workload = Workload.from_requests(p.request for p in pods)
    run = protocol.run_seed(policy, fleet, pods, workload, seed)
    return name, policy, seed, run.unallocated_pct, run.seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--policies", default="fgd,default")
    parser.add_argument("--seeds", default="42-44")
    parser.add_argument("--variant-seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated workload names to run (default: all)")
    parser.add_argument("--json", type=Path, default=None, help="also write every run to this file")
    parser.add_argument(
        "--stream", type=Path, default=None, help="append each run to this file (JSON lines) as it finishes"
    )
    args = parser.parse_args()
    policies = protocol.parse_policies(args.policies)
    seeds = protocol.parse_seeds(args.seeds)
    nodes = args.data / "openb_node_list_gpu_node.csv"
    only = {w.strip() for w in args.only.split(",") if w.strip()}
    with tempfile.TemporaryDirectory() as tmp:
        workloads = [(w, args.data / f"openb_pod_list_{w}.csv") for w in PUBLIC]
        source = args.data / "openb_pod_list_default.csv"
        for v in grid():
            workloads.append((f"{v.name}*", write_variant(source, v, args.variant_seed, Path(tmp) / v.name)))
        if only:
            workloads = [(w, p) for w, p in workloads if w.rstrip("*") in only or w in only]
        # Seed-major order: an interrupted run still has every workload and policy for the first seeds.
        jobs = [(w, p, nodes, pol, s) for s in seeds for w, p in workloads for pol in policies]
        results = []
        with Pool(args.jobs) as pool:
            for r in pool.imap_unordered(_run, jobs, chunksize=1):
                results.append(r)
                if args.stream is not None:
                    with args.stream.open("a") as out:
                        w, pol, s, u, t = r
                        out.write(
                            json.dumps(
                                {"workload": w, "policy": pol, "seed": s, "unallocated_pct": u, "seconds": t}
                            )
                            + "\n"
                        )
    table: dict[tuple[str, str], list[float]] = {}
    secs: dict[str, list[float]] = {}
    for w, pol, _, u, t in results:
        table.setdefault((w, pol), []).append(u)
        secs.setdefault(pol, []).append(t)
    head = "| workload | " + " | ".join(policies)
    ratio = len(policies) > 1
    print(head + (f" | {policies[1]} / {policies[0]} |" if ratio else " |"))
    print("|---" * (len(policies) + 1 + ratio) + "|")
    ratios = []
    for w, _ in workloads:
        cells = [table[(w, p)] for p in policies]
        shown = [
            f"{statistics.fmean(c):.2f} ± {statistics.stdev(c) if len(c) > 1 else 0.0:.2f}" for c in cells
        ]
        line = f"| {w} | " + " | ".join(shown)
        if ratio:
            r = statistics.fmean(cells[1]) / statistics.fmean(cells[0])
            ratios.append(r)
            line += f" | {r:.3f}"
        print(line + " |")
    if ratios:
        print(f"mean ratio {statistics.fmean(ratios):.3f}, max {max(ratios):.3f}")
    print("s / seed: " + ", ".join(f"{p} {statistics.fmean(secs[p]):.2f}" for p in policies))
    print(f"(* generated from the default pod list, variant seed {args.variant_seed})")
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                [
                    {"workload": w, "policy": p, "seed": s, "unallocated_pct": u, "seconds": t}
                    for w, p, s, u, t in results
                ],
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
