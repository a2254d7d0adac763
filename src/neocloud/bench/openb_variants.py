"""openb workload variants, generated from the default pod list as the trace's authors generated theirs.

The FGD artifact evaluates policies on variants of `openb_pod_list_default.csv` that stress one kind of
request (alibaba/clusterdata cluster-trace-gpu-v2023 README: "sampled from the default one,
emphasizing certain types of workloads (e.g., CPU-only tasks, GPU-sharing tasks, multi-GPU tasks)";
"trace files with gpuspec augment tasks with GPU type requirements"). Reading the four shipped
variants against the default list shows how each is made; `generate` does the same, seeded, at any
level:

- `cpu:L` (cpu050, cpu100, cpu200, cpu250): the GPU pods are kept as they are; the CPU-only pods are
  resampled so that they make up L/10 % of all pods (cpu050: 375 of 7,439 pods = 5.0 %; the default
  list has 13.3 %). Fewer than the source's are a sample without replacement; more are all of them
  plus draws with replacement.
- `gpushare:L` (gpushare40 … gpushare100): CPU-only pods are kept and the number of GPU pods is kept
  (7,064); the sharing pods are drawn with replacement from the source's sharing pods and the
  non-sharing GPU pods are a random subset of the source's, with as many sharing pods as it takes for
  them to ask for L % of the GPU request (gpushare40: 4,001 sharing pods, 40.1 %).
- `gpuspec:L` (gpuspec10 … gpuspec33): the pods are kept; a random L % of the GPU pods get a GPU-model
  constraint, drawn from the constraints production pods of the same kind carry. The default list
  has none, so the constraints come from a reference list that does (the shipped
  `openb_pod_list_gpuspec10.csv`, one of the shared files): for each kind of pod (sharing, or the
  number of whole GPUs) the constraint is drawn uniformly from that kind's constrained pods.
- `multigpu:L` (multigpu20 … multigpu50): every pod is kept and multi-GPU pods drawn with
  replacement are added until multi-GPU pods ask for L % of the GPU request (multigpu20: +172).

Rows keep every column of the row they were drawn from (times included); names are renumbered.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neocloud.fleet.capacity import MILLI
from neocloud.kernel.errors import InvalidInput

Row = dict[str, str]
KINDS = ("cpu", "gpushare", "gpuspec", "multigpu")
# The published grid (the artifact's experiments/run_scripts/generate_run_scripts.py file list).
GRID: dict[str, tuple[int, ...]] = {
    "cpu": (50, 100, 200, 250),
    "gpushare": (40, 60, 80, 100),
    "gpuspec": (10, 20, 25, 33),
    "multigpu": (20, 30, 40, 50),
}
SPEC_REFERENCE = "openb_pod_list_gpuspec10.csv"


@dataclass(frozen=True, slots=True)
class Variant:
    """One kind of stress at one level (see the module docstring for what the level means)."""

    kind: str
    level: int

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInput(f"unknown variant kind {self.kind!r}", details={"known": list(KINDS)})
        top = 999 if self.kind == "cpu" else 100
        if not 0 <= self.level <= top:
            raise InvalidInput(f"variant level must be in 0..{top}", details={"level": self.level})
        if self.kind == "cpu" and self.level >= 1000:
            raise InvalidInput("CPU-only pods cannot be all the pods")

    @property
    def name(self) -> str:
        """The artifact's file name for this variant: cpu050, gpushare40, gpuspec10, multigpu20."""
        return f"cpu{self.level:03d}" if self.kind == "cpu" else f"{self.kind}{self.level}"

    @staticmethod
    def parse(text: str) -> Variant:
        """ "gpushare:80", "cpu:050" or the file name "gpushare80" -> Variant."""
        t = text.strip().lower()
        if ":" in t:
            kind, _, level = t.partition(":")
        else:
            kind = next((k for k in sorted(KINDS, key=len, reverse=True) if t.startswith(k)), "")
            level = t[len(kind) :]
        try:
            return Variant(kind.strip(), int(level))
        except ValueError:
            raise InvalidInput(
                f"bad variant {text!r}: use kind:level, e.g. gpushare:80 (kinds: {', '.join(KINDS)})",
                details={"variant": text},
            ) from None


def grid() -> tuple[Variant, ...]:
    return tuple(Variant(k, level) for k, levels in GRID.items() for level in levels)


def pod_class(row: Mapping[str, str]) -> str:
    gpus, milli = int(row["num_gpu"]), int(row["gpu_milli"])
    if gpus == 0:
        return "cpu"
    if milli < MILLI:
        return "share"
    return "one" if gpus == 1 else "multi"


def gpu_request(row: Mapping[str, str]) -> int:
    return int(row["num_gpu"]) * int(row["gpu_milli"])


def _spec_key(row: Mapping[str, str]) -> str:
    return "share" if pod_class(row) == "share" else row["num_gpu"]


def spec_table(reference: Sequence[Mapping[str, str]]) -> dict[str, list[str]]:
    """GPU-model constraints of a reference pod list, by kind of pod ("share" or the GPU count)."""
    table: dict[str, list[str]] = {}
    for r in reference:
        spec = (r.get("gpu_spec") or "").strip()
        if spec and int(r["num_gpu"]):
            table.setdefault(_spec_key(r), []).append(spec)
    return table


def generate(
    rows: Sequence[Row], variant: Variant, seed: int, specs: Mapping[str, Sequence[str]] | None = None
) -> list[Row]:
    """A new pod list: `rows` (the default list) changed as `variant` says, seeded by `seed`."""
    rng = random.Random(f"{seed}:{variant.name}")
    pools: dict[str, list[Row]] = {c: [] for c in ("cpu", "share", "one", "multi")}
    for r in rows:
        pools[pod_class(r)].append(r)
    gpu_rows = pools["share"] + pools["one"] + pools["multi"]
    if not gpu_rows:
        raise InvalidInput("the source pod list asks for no GPU")
    f = variant.level / 100
    out: list[Row]
    if variant.kind == "cpu":
        want = round(variant.level / 1000 * len(gpu_rows) / (1 - variant.level / 1000))
        out = [dict(r) for r in gpu_rows] + [dict(r) for r in _resample(pools["cpu"], want, rng, "CPU-only")]
    elif variant.kind == "gpushare":
        out = [dict(r) for r in pools["cpu"]] + _mix_sharing(pools, len(gpu_rows), f, rng)
    elif variant.kind == "multigpu":
        out = [dict(r) for r in rows] + _more_multi(pools, gpu_rows, f, rng)
    else:
        out = [dict(r) for r in rows]
        _constrain(out, f, specs, rng)
    rng.shuffle(out)
    for i, r in enumerate(out):
        r["name"] = f"openb-pod-{i:04d}"
        r.setdefault("gpu_spec", "")
    return out


def _resample(pool: Sequence[Row], n: int, rng: random.Random, what: str) -> list[Row]:
    if n and not pool:
        raise InvalidInput(f"the source pod list has no {what} pods to draw from")
    if n <= len(pool):
        return rng.sample(list(pool), n)
    return list(pool) + [pool[rng.randrange(len(pool))] for _ in range(n - len(pool))]


def _mix_sharing(pools: Mapping[str, list[Row]], n_gpu: int, f: float, rng: random.Random) -> list[Row]:
    share, rest = pools["share"], pools["one"] + pools["multi"]
    if f > 0 and not share:
        raise InvalidInput("the source pod list has no GPU-sharing pods to draw from")
    drawn = [share[rng.randrange(len(share))] for _ in range(n_gpu)] if share else []
    kept = rng.sample(rest, len(rest))
    s_cum = np.concatenate([[0], np.cumsum([gpu_request(r) for r in drawn])])
    r_cum = np.concatenate([[0], np.cumsum([gpu_request(r) for r in kept])])
    for n in range(n_gpu + 1):
        k = n_gpu - n
        if k > len(kept):
            continue
        total = s_cum[n] + r_cum[k]
        if total and s_cum[n] >= f * total:
            return [dict(r) for r in drawn[:n]] + [dict(r) for r in kept[:k]]
    raise InvalidInput("cannot reach the sharing pods' share with this source", details={"share": f})


def _more_multi(
    pools: Mapping[str, list[Row]], gpu_rows: Sequence[Row], f: float, rng: random.Random
) -> list[Row]:
    multi = pools["multi"]
    if not multi:
        raise InvalidInput("the source pod list has no multi-GPU pods to draw from")
    m = sum(gpu_request(r) for r in multi)
    total = sum(gpu_request(r) for r in gpu_rows)
    if f >= 1:
        raise InvalidInput("multi-GPU pods cannot ask for all of the GPU request")
    added: list[Row] = []
    while m < f * total:
        r = multi[rng.randrange(len(multi))]
        added.append(dict(r))
        m += gpu_request(r)
        total += gpu_request(r)
    return added


def _constrain(
    out: list[Row], f: float, specs: Mapping[str, Sequence[str]] | None, rng: random.Random
) -> None:
    if f and not specs:
        raise InvalidInput(
            f"GPU-model constraints need a reference list of constrained pods ({SPEC_REFERENCE})"
        )
    gpu_idx = [i for i, r in enumerate(out) if int(r["num_gpu"])]
    for i in rng.sample(gpu_idx, round(f * len(gpu_idx))):
        assert specs is not None
        choices = specs.get(_spec_key(out[i])) or specs.get("1") or next(iter(specs.values()))
        out[i]["gpu_spec"] = choices[rng.randrange(len(choices))]


def read_rows(path: Path) -> list[Row]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def write_variant(pods: Path, variant: Variant, seed: int, out_dir: Path) -> Path:
    """Generate `variant` from the pod list `pods` into `out_dir`/openb_pod_list_<name>.csv."""
    rows = read_rows(pods)
    specs = None
    if variant.kind == "gpuspec" and variant.level:
        ref = pods.parent / SPEC_REFERENCE
        if not ref.exists():
            raise InvalidInput(f"{ref} not found: gpuspec variants draw their constraints from it")
        specs = spec_table(read_rows(ref))
    out = generate(rows, variant, seed, specs)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"openb_pod_list_{variant.name}.csv"
    columns = list(rows[0]) + (["gpu_spec"] if "gpu_spec" not in rows[0] else [])
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(out)
    return path


def describe(rows: Sequence[Mapping[str, str]]) -> dict[str, object]:
    """Pod counts by kind, CPU and GPU totals, and the shares that define the variants."""
    counts = {c: 0 for c in ("cpu", "share", "one", "multi")}
    gpu = dict.fromkeys(counts, 0)
    cpu = 0
    spec = 0
    for r in rows:
        c = pod_class(r)
        counts[c] += 1
        gpu[c] += gpu_request(r)
        cpu += int(r["cpu_milli"])
        spec += bool((r.get("gpu_spec") or "").strip()) and c != "cpu"
    total = sum(gpu.values()) or 1
    n_gpu = sum(counts.values()) - counts["cpu"]
    return {
        "pods": sum(counts.values()),
        **{f"{c}_pods": n for c, n in counts.items()},
        "cpu_milli": cpu,
        "gpu_milli": total,
        "cpu_only_pct_of_pods": round(100 * counts["cpu"] / max(sum(counts.values()), 1), 2),
        "share_pct_of_gpu": round(100 * gpu["share"] / total, 2),
        "multi_pct_of_gpu": round(100 * gpu["multi"] / total, 2),
        "spec_pct_of_gpu_pods": round(100 * spec / max(n_gpu, 1), 2),
    }
