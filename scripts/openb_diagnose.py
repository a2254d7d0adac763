"""Why pods fail and where the free GPUs are, at 100 % arrived, for `default` (or a variant) and `fgd`.

    .venv/bin/python scripts/openb_diagnose.py --only gpushare80,gpuspec25 --seeds 42 [--variants fgd,all]

For each run: the GPU request of the pods that failed up to 100 % arrived, by kind of pod (sharing,
1-GPU, multi-GPU, model-bound or not) and by cause (no allowed node has the GPU room at all; some
has the GPU room but none of those has the CPU; or memory); and the free GPU capacity at 100 %
arrived by node state (whole free GPUs on nodes with less free CPU than the workload asks per GPU,
whole free GPUs with CPU, fractional leftovers), and by GPU model.
"""

from __future__ import annotations

import argparse
import collections
import random
import tempfile
from pathlib import Path

import numpy as np

from neocloud.bench import openb as protocol
from neocloud.bench.openb_ties import with_artifact_ties
from neocloud.bench.openb_variants import grid, write_variant
from neocloud.fleet.capacity import MILLI, Capacity
from neocloud.placement import policies
from neocloud.placement.default import neocloud_default
from neocloud.placement.engine import place
from neocloud.placement.framework import Placement
from neocloud.placement.request import Request
from neocloud.placement.workload import TYPICAL_COVERAGE, Workload
from neocloud.traces import openb

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "openb"


def _kind(r: Request) -> str:
    base = "cpu-only" if r.gpus == 0 else "sharing" if r.shares_gpu else f"{r.gpus}-gpu"
    return base + ("/model" if r.gpus and r.models is not None else "")


def _cause(r: Request, cap: Capacity) -> str:
    fleet = cap.fleet
    allowed = np.ones(len(cap.cpu_free), dtype=bool)
    if r.models is not None:
        names = np.array(fleet.models)
        allowed = np.isin(names[fleet.node_model], list(r.models))
    if r.gpus == 0:
        gpu_ok = allowed
    elif r.shares_gpu:
        gpu_ok = allowed & (cap.gpu_free.max(axis=1) >= r.gpu_milli)
    else:
        gpu_ok = allowed & (cap.whole_free >= r.gpus)
    if not gpu_ok.any():
        return "no GPU room"
    cpu_ok = gpu_ok & (cap.cpu_free >= r.cpu_milli)
    if not cpu_ok.any():
        return "GPU room, no CPU"
    if not (cpu_ok & (cap.mem_free >= r.memory_mib)).any():
        return "no memory"
    return "other"


def run(name: str, pods_path: Path, nodes_path: Path, variant: str, seed: int) -> str:
    fleet, pods = openb.read_fleet(nodes_path), openb.read_pods(pods_path)
    workload = Workload.from_requests(p.request for p in pods)
    if variant == "fgd":
        base = policies.get_policy("fgd", workload)
    else:
        from openb_ablation import _rules  # scripts/ is on the path when run

        rules = _rules(variant)
        base = neocloud_default(workload, rules)
        if base.extra["planning_coverage"] != TYPICAL_COVERAGE:
            base = neocloud_default(Workload.from_requests((p.request for p in pods), 1.0), rules)
    policy = with_artifact_ties(base, fleet, seed)
    gpu_milli = [p.gpu_milli for p in pods]
    capacity = fleet.gpu_count() * MILLI
    order = protocol.arrival_order(gpu_milli, capacity, seed)
    cap, rng = Capacity(fleet), random.Random(f"{seed}:placement")
    failed: collections.Counter[tuple[str, str]] = collections.Counter()
    failed_n: collections.Counter[tuple[str, str]] = collections.Counter()
    a = 0
    for i in order:
        if a + gpu_milli[i] > capacity:
            break
        a += gpu_milli[i]
        req = pods[i].request
        verdict = place(policy, req, cap, rng)
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)
        else:
            key = (_kind(req), _cause(req, cap))
            failed[key] += gpu_milli[i]
            failed_n[key] += 1
    cpg = workload.cpu_per_gpu_milli() * MILLI  # CPU milli per whole GPU
    free = cap.gpu_free.astype(np.int64)
    whole = (free == MILLI).sum(axis=1)
    frac = np.where(free < MILLI, free, 0).sum(axis=1)
    starved = cap.cpu_free < cpg
    lines = [
        f"### {name} {variant} seed {seed}: arrived {a * 100 / capacity:.2f} %, "
        f"unallocated {(capacity - cap.allocated_milli()) * 100 / capacity:.2f} % of GPU"
    ]
    lines.append(
        "failed GPU request (% of capacity; pods): "
        + ", ".join(
            f"{k}/{c}: {v * 100 / capacity:.2f} ({failed_n[(k, c)]})" for (k, c), v in sorted(failed.items())
        )
    )
    lines.append(
        f"free GPU: whole GPUs on CPU-starved nodes (free CPU < {cpg / 1000:.1f} per GPU) "
        f"{(whole * starved).sum() * MILLI * 100 / capacity:.2f} %, whole GPUs with CPU "
        f"{(whole * ~starved).sum() * MILLI * 100 / capacity:.2f} %, fractional leftovers "
        f"{frac.sum() * 100 / capacity:.2f} % (on {int((frac > 0).sum())} nodes)"
    )
    by_model = collections.Counter()
    for m, f in zip(fleet.node_model.tolist(), free.sum(axis=1).tolist(), strict=True):
        by_model[fleet.models[m]] += f
    lines.append(
        "free GPU by model (% of capacity): "
        + ", ".join(
            f"{m} {v * 100 / capacity:.2f} / {fleet.gpus_by_model()[m]} GPUs"
            for m, v in sorted(by_model.items())
        )
    )
    fr = np.bincount((free[free < MILLI] // 100).clip(0, 9), minlength=10)
    lines.append(
        "fractional leftovers by size (x100 milli, count of GPUs): "
        + " ".join(f"{k}:{int(v)}" for k, v in enumerate(fr) if k)
    )
    lines.append(f"free CPU {cap.cpu_free.sum() / 1000:.0f} of {fleet.node_cpu.sum() / 1000:.0f} cores")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seeds", default="42")
    parser.add_argument("--variants", default="fgd,all")
    parser.add_argument("--only", default="gpushare80,gpushare100,gpuspec20,gpuspec25")
    args = parser.parse_args()
    nodes = args.data / "openb_node_list_gpu_node.csv"
    only = {w.strip() for w in args.only.split(",") if w.strip()}
    with tempfile.TemporaryDirectory() as tmp:
        source = args.data / "openb_pod_list_default.csv"
        for v in grid():
            if v.name not in only:
                continue
            path = write_variant(source, v, 1, Path(tmp) / v.name)
            for seed in protocol.parse_seeds(args.seeds):
                for variant in args.variants.split(","):
                    print(run(f"{v.name}*", path, nodes, variant, seed), flush=True)


if __name__ == "__main__":
    main()
