"""Ablation of `default`'s rules on openb: each rule removed (or an optional one added) in turn.

    .venv/bin/python scripts/openb_ablation.py --only default,multigpu30 --seeds 42-44 [--jobs 1]

Each variant is `neocloud_default(workload, rules)` with one rule of `RULES` left out ("-name") or
one of `OPTIONAL_RULES` added ("+name"); "all" is the shipped policy and "fgd" the baseline, run on
the same arrivals and the artifact's tie-break. Prints unallocated GPU % at 100 % arrived, mean ± sd.
Variants combine changes with "/" ("+stranded-gpus/-all-shapes"); a list that starts with "-" must be
passed as `--variants=-stranded-cpu` (argparse reads a bare leading "-" as an option).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from neocloud.bench import openb as protocol
from neocloud.bench.openb_ties import with_artifact_ties
from neocloud.bench.openb_variants import grid, write_variant
from neocloud.fleet.capacity import MILLI, Capacity
from neocloud.placement import policies
from neocloud.placement.default import OPTIONAL_RULES, RULES, neocloud_default
from neocloud.placement.engine import place
from neocloud.placement.framework import Placement
from neocloud.placement.workload import TYPICAL_COVERAGE, Workload
from neocloud.traces import openb

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "openb"
PUBLIC = ("default", "cpu050", "gpushare40", "gpuspec10", "multigpu20")


def variants() -> list[str]:
    return ["fgd", "all"] + [f"-{r}" for r in sorted(RULES)] + [f"+{r}" for r in sorted(OPTIONAL_RULES)]


def _rules(variant: str) -> frozenset[str]:
    """ "all", or changes to the shipped rules joined by "/": "-spread-order", "+demand-growth/-sharing-growth"."""
    rules = set(RULES)
    if variant == "all":
        return frozenset(rules)
    for token in variant.split("/"):
        if token[:1] == "+":
            rules.add(token[1:])
        elif token[:1] == "-":
            rules.discard(token[1:])
        else:
            raise SystemExit(f"bad variant {variant!r}: use all, fgd, or +rule/-rule joined by /")
    return frozenset(rules)


def _run(job: tuple[str, Path, Path, str, int]) -> dict[str, object]:
    name, pods_path, nodes_path, variant, seed = job
    fleet, pods = openb.read_fleet(nodes_path), openb.read_pods(pods_path)
    workload = Workload.from_requests(p.request for p in pods)
    if variant == "fgd":
        base = policies.get_policy("fgd", workload)
    else:  # as `protocol.planned_policy` builds it: for the distribution the rules plan for
        rules = _rules(variant)
        base = neocloud_default(workload, rules)
        coverage = base.extra["planning_coverage"]
        if coverage != TYPICAL_COVERAGE:
            base = neocloud_default(Workload.from_requests((p.request for p in pods), coverage), rules)
    policy = with_artifact_ties(base, fleet, seed)
    gpu_milli = [p.gpu_milli for p in pods]
    capacity = fleet.gpu_count() * MILLI
    order = protocol.arrival_order(gpu_milli, capacity, seed)
    cap, rng = Capacity(fleet), random.Random(f"{seed}:placement")
    arrived, allocated = np.empty(len(order)), np.empty(len(order))
    a = b = 0
    started = time.process_time()
    for k, i in enumerate(order):
        a += gpu_milli[i]
        verdict = place(policy, pods[i].request, cap, rng)
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)
            b += gpu_milli[i]
        arrived[k], allocated[k] = a * 100.0 / capacity, b * 100.0 / capacity
    cpu = time.process_time() - started
    u = protocol.unallocated_at(arrived, allocated)
    return {"workload": name, "variant": variant, "seed": seed, "unallocated_pct": u, "cpu_seconds": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seeds", default="42-44")
    parser.add_argument("--variant-seed", type=int, default=1)
    parser.add_argument("--variants", default="", help="comma-separated (default: fgd, all, each rule)")
    parser.add_argument("--only", default="")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    seeds = protocol.parse_seeds(args.seeds)
    chosen = [v.strip() for v in args.variants.split(",") if v.strip()] or variants()
    nodes = args.data / "openb_node_list_gpu_node.csv"
    only = {w.strip() for w in args.only.split(",") if w.strip()}
    with tempfile.TemporaryDirectory() as tmp:
        workloads = [(w, args.data / f"openb_pod_list_{w}.csv") for w in PUBLIC]
        source = args.data / "openb_pod_list_default.csv"
        for v in grid():
            workloads.append((f"{v.name}*", write_variant(source, v, args.variant_seed, Path(tmp) / v.name)))
        if only:
            workloads = [(w, p) for w, p in workloads if w.rstrip("*") in only or w in only]
        jobs = [(w, p, nodes, v, s) for s in seeds for w, p in workloads for v in chosen]
        results = []
        with Pool(args.jobs) as pool:
            for r in pool.imap_unordered(_run, jobs, chunksize=1):
                results.append(r)
                if args.json is not None:
                    with args.json.with_suffix(".jsonl").open("a") as out:
                        out.write(json.dumps(r) + "\n")
    print("| workload | " + " | ".join(chosen) + " |")
    print("|---" * (len(chosen) + 1) + "|")
    for w, _ in workloads:
        cells = []
        for v in chosen:
            us = [float(r["unallocated_pct"]) for r in results if r["workload"] == w and r["variant"] == v]
            cells.append(f"{statistics.fmean(us):.2f} ± {statistics.stdev(us) if len(us) > 1 else 0.0:.2f}")
        print(f"| {w} | " + " | ".join(cells) + " |")
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
