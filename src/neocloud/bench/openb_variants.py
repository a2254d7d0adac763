"""Held-out openb workloads: the default pod list resampled into new mixes, as the trace's authors did.

The public openb variants (gpushare40, multigpu20, gpuspec10, cpu050) were derived from the default
trace by changing one proportion: GPU-sharing pods' share of the GPU request, multi-GPU pods' share,
the share of GPU pods constrained to a GPU model, the number of CPU-only pods. `resample` does the
same for any proportions, with a seed, so that a policy can be judged on mixes it was never tuned on.

Pods are classed as cpu (no GPU), share (part of one GPU), one (one whole GPU) and multi (several
whole GPUs). The GPU request of the result equals the source's; each GPU class gets its target share
of it, filled by pods drawn with replacement from that class; CPU-only pods are drawn to `cpu_scale`
times the source's count. A `spec` share of the GPU pods is then constrained to one GPU model, drawn
in proportion to the fleet's GPUs of that model.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from neocloud.fleet.capacity import MILLI
from neocloud.kernel.errors import InvalidInput

Row = dict[str, str]
GPU_CLASSES = ("share", "one", "multi")


@dataclass(frozen=True, slots=True)
class Variant:
    """Target proportions; None keeps the source's. `share` and `multi` are shares of the GPU request,
    `spec` a share of the GPU pods, `cpu_scale` a multiplier of the CPU-only pod count."""

    name: str
    share: float | None = None
    multi: float | None = None
    spec: float = 0.0
    cpu_scale: float = 1.0


HELD_OUT: tuple[Variant, ...] = (
    Variant("share20", share=0.2),
    Variant("share60", share=0.6),
    Variant("multi10", multi=0.1),
    Variant("multi30", multi=0.3),
    Variant("multi40", multi=0.4),
    Variant("cpu200", cpu_scale=2.0),
    Variant("spec20", spec=0.2),
    Variant("share60-multi30", share=0.6, multi=0.3),
)


def pod_class(row: Mapping[str, str]) -> str:
    gpus, milli = int(row["num_gpu"]), int(row["gpu_milli"])
    if gpus == 0:
        return "cpu"
    if milli < MILLI:
        return "share"
    return "one" if gpus == 1 else "multi"


def gpu_request(row: Mapping[str, str]) -> int:
    return int(row["num_gpu"]) * int(row["gpu_milli"])


def resample(
    rows: Sequence[Row], variant: Variant, seed: int, fleet_models: Mapping[str, int] | None = None
) -> list[Row]:
    """A new pod list with `variant`'s proportions (rows renamed in order; times kept from the draw)."""
    rng = random.Random(f"{seed}:{variant.name}")
    pools: dict[str, list[Row]] = {c: [] for c in ("cpu", *GPU_CLASSES)}
    for r in rows:
        pools[pod_class(r)].append(r)
    total = sum(gpu_request(r) for r in rows)
    if total == 0:
        raise InvalidInput("the source pod list asks for no GPU")
    source = {c: sum(gpu_request(r) for r in pools[c]) / total for c in GPU_CLASSES}
    target = dict(source)
    for c, want in (("share", variant.share), ("multi", variant.multi)):
        if want is not None:
            target[c] = want
    fixed = {c for c, w in (("share", variant.share), ("multi", variant.multi)) if w is not None}
    free = [c for c in GPU_CLASSES if c not in fixed]
    rest = 1.0 - sum(target[c] for c in fixed)
    free_sum = sum(source[c] for c in free)
    if rest < 0 or not free_sum:
        raise InvalidInput(f"variant {variant.name}: shares do not fit", details={"target": target})
    for c in free:
        target[c] = rest * source[c] / free_sum
    out: list[Row] = []
    for c in GPU_CLASSES:
        budget, pool = target[c] * total, pools[c]
        if budget > 0 and not pool:
            raise InvalidInput(f"variant {variant.name}: the source has no {c} pods")
        got = 0
        while got < budget:
            r = pool[rng.randrange(len(pool))]
            out.append(dict(r))
            got += gpu_request(r)
    cpu_pool = pools["cpu"]
    out.extend(
        dict(cpu_pool[rng.randrange(len(cpu_pool))]) for _ in range(round(variant.cpu_scale * len(cpu_pool)))
    )
    if variant.spec:
        if not fleet_models:
            raise InvalidInput(f"variant {variant.name}: constraining GPU models needs the fleet's models")
        names, weights = list(fleet_models), list(fleet_models.values())
        for r in out:
            if int(r["num_gpu"]) and rng.random() < variant.spec:
                r["gpu_spec"] = rng.choices(names, weights)[0]
    rng.shuffle(out)
    for i, r in enumerate(out):
        r["name"] = f"openb-pod-{i:04d}"
        r.setdefault("gpu_spec", "")
    return out


def write_variant(pods: Path, nodes: Path, variant: Variant, seed: int, out_dir: Path) -> Path:
    """Resample `pods` into `out_dir`/openb_pod_list_<variant>-s<seed>.csv and return its path."""
    with pods.open(newline="") as f:
        rows = list(csv.DictReader(f))
    models: dict[str, int] = {}
    with nodes.open(newline="") as f:
        for n in csv.DictReader(f):
            models[n["model"]] = models.get(n["model"], 0) + int(n["gpu"])
    out = resample(rows, variant, seed, models)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"openb_pod_list_{variant.name}-s{seed}.csv"
    columns = list(rows[0]) + (["gpu_spec"] if "gpu_spec" not in rows[0] else [])
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(out)
    return path
