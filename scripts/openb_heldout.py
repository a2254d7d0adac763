"""Compare placement policies on the public openb workloads and on held-out resampled mixes.

    .venv/bin/python scripts/openb_heldout.py --policies fgd,default --seeds 42-51 [--jobs 2]

Writes the variants (`neocloud.bench.openb_variants.HELD_OUT`, resampled from the default pod list
with --variant-seed) to a temporary directory, runs the openb protocol for every workload, policy and
seed in --jobs processes, and prints unallocated GPU % at 100 % arrived as mean ± sd per policy.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from multiprocessing import Pool
from pathlib import Path

from neocloud.bench import openb as protocol
from neocloud.bench.openb_variants import HELD_OUT, write_variant
from neocloud.placement.workload import Workload
from neocloud.traces import openb

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "openb"
PUBLIC = ("default", "cpu050", "gpushare40", "gpuspec10", "multigpu20")


def _run(job: tuple[str, Path, Path, str, int]) -> tuple[str, str, float]:
    name, pods_path, nodes_path, policy, seed = job
    fleet, pods = openb.read_fleet(nodes_path), openb.read_pods(pods_path)
    workload = Workload.from_requests(p.request for p in pods)
    return name, policy, protocol.run_seed(policy, fleet, pods, workload, seed).unallocated_pct


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--policies", default="fgd,default")
    parser.add_argument("--seeds", default="42-46")
    parser.add_argument("--variant-seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    policies = protocol.parse_policies(args.policies)
    seeds = protocol.parse_seeds(args.seeds)
    nodes = args.data / "openb_node_list_gpu_node.csv"
    with tempfile.TemporaryDirectory() as tmp:
        workloads = [(w, args.data / f"openb_pod_list_{w}.csv") for w in PUBLIC]
        source = args.data / "openb_pod_list_default.csv"
        for v in HELD_OUT:
            workloads.append((f"{v.name}*", write_variant(source, nodes, v, args.variant_seed, Path(tmp))))
        jobs = [(w, p, nodes, pol, s) for w, p in workloads for pol in policies for s in seeds]
        with Pool(args.jobs) as pool:
            results = pool.map(_run, jobs, chunksize=1)
    table: dict[tuple[str, str], list[float]] = {}
    for w, pol, u in results:
        table.setdefault((w, pol), []).append(u)
    print("| workload | " + " | ".join(policies) + " | " + " − ".join(reversed(policies[:2])) + " |")
    print("|---" * (len(policies) + 2) + "|")
    for w, _ in workloads:
        cells = [table[(w, p)] for p in policies]
        shown = [
            f"{statistics.fmean(c):.2f} ± {statistics.stdev(c) if len(c) > 1 else 0.0:.2f}" for c in cells
        ]
        diff = statistics.fmean(cells[1]) - statistics.fmean(cells[0]) if len(cells) > 1 else 0.0
        print(f"| {w} | " + " | ".join(shown) + f" | {diff:+.2f} |")
    print("(* held-out: resampled from the default pod list)")


if __name__ == "__main__":
    main()
