"""The openb benchmark: our policies against the published FGD artifact results.

Protocol (data/openb/README.md and the artifact's analysis scripts): GPU nodes only; the pod list is
shuffled with the seed, then pods drawn at random with the seed are appended until the total GPU
request would pass 1.3 x the fleet's GPU capacity; ties between equally scored nodes go to the first
node of one seeded random order (`artifact_node_order`: the artifact's scheduler picks the smallest
node name, and its node names carry a seeded random prefix); pods are placed one by one and never leave, a pod
that fits nowhere is skipped. After each pod we record arrived (GPU request so far, failed pods
included) and allocated GPU, as % of capacity. The score is 100 - allocated % at arrived = 100 %,
read as the artifact does: the mean allocated % over the pods whose arrived % rounds to 100.

Options: a generated variant instead of a shipped list (`openb_variants`), the limit any placement
could reach at the same checkpoint (`openb_bound`, HiGHS), and a replay with departures
(`openb_departures`).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from neocloud.bench.openb_ties import planned_policy, with_artifact_ties
from neocloud.fleet.capacity import MILLI, Capacity
from neocloud.fleet.fleet import Fleet
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.reference import OPENB_ARRIVAL_INFLATION, OPENB_PUBLISHED, OPENB_SEEDS
from neocloud.placement import policies
from neocloud.placement.engine import place
from neocloud.placement.framework import Placement
from neocloud.placement.workload import Workload
from neocloud.traces import openb

if TYPE_CHECKING:
    from neocloud.bench.openb_departures import DepartureRun

INFLATION = OPENB_ARRIVAL_INFLATION
SEEDS = OPENB_SEEDS
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_PODS = REPO_ROOT / ".." / "shared" / "data" / "openb" / "openb_pod_list_default.csv"

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SeedRun:
    seed: int
    unallocated_pct: float
    seconds: float
    arrived_pct: FloatArray = field(repr=False)
    allocated_pct: FloatArray = field(repr=False)
    placed: int = 0
    skipped: int = 0
    cpu_seconds: float = 0.0


@dataclass(frozen=True)
class PolicyResult:
    policy: str
    runs: tuple[SeedRun, ...]
    published: tuple[float, float] | None = None
    bounds: tuple[float, ...] = ()
    departures: tuple[DepartureRun, ...] = ()

    @property
    def mean(self) -> float:
        return statistics.fmean(r.unallocated_pct for r in self.runs)

    @property
    def sd(self) -> float:
        return statistics.stdev(r.unallocated_pct for r in self.runs) if len(self.runs) > 1 else 0.0

    @property
    def seconds_per_seed(self) -> float:
        return statistics.fmean(r.seconds for r in self.runs)

    @property
    def cpu_seconds_per_seed(self) -> float:
        """CPU time of this process per seed: steadier than wall time on a shared machine."""
        return statistics.fmean(r.cpu_seconds for r in self.runs)

    def curve(self) -> tuple[FloatArray, FloatArray]:
        """Mean unallocated % against arrived % (whole percents), averaged over seeds."""
        grid = np.arange(0, int(INFLATION * 100) + 1, dtype=np.float64)
        curves = [unallocated_curve(r.arrived_pct, r.allocated_pct, grid) for r in self.runs]
        stack = np.vstack(curves)
        seen = (~np.isnan(stack)).sum(axis=0)
        total = np.nansum(stack, axis=0)
        return grid, np.where(seen > 0, total / np.maximum(seen, 1), np.nan)

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "policy": self.policy,
            "unallocated_pct_at_100": {"mean": round(self.mean, 4), "sd": round(self.sd, 4)},
            "seconds_per_seed": round(self.seconds_per_seed, 4),
            "cpu_seconds_per_seed": round(self.cpu_seconds_per_seed, 4),
        }
        if self.bounds:
            doc["bound_unallocated_pct_at_100"] = _mean_sd(self.bounds)
            doc["gap_to_bound"] = round(self.mean - statistics.fmean(self.bounds), 4)
        if self.departures:
            keys = (
                "time_avg_allocated_pct",
                "unallocated_pct_when_over_capacity",
                "over_capacity_pct_of_time",
                "rejected_pct_of_request",
            )
            runs = [d.to_json() for d in self.departures]
            doc["departures"] = {
                k: _mean_sd([float(v) for r in runs if isinstance(v := r[k], (int, float))]) for k in keys
            }
        return doc


def _mean_sd(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return {"mean": round(statistics.fmean(values), 4), "sd": round(sd, 4)}


@dataclass(frozen=True)
class OpenbResult:
    workload: str
    nodes: int
    gpus: int
    results: tuple[PolicyResult, ...]

    def to_json(self) -> dict[str, object]:
        return {"workload": self.workload, "results": [r.to_json() for r in self.results]}


def arrival_order(gpu_milli: Sequence[int], capacity_milli: int, seed: int) -> list[int]:
    """Pod indices in arrival order: a seeded shuffle, then seeded random draws appended until the
    total GPU request would pass INFLATION x capacity."""
    if not any(gpu_milli):
        raise InvalidInput("the pod list asks for no GPU, so arrivals can never reach the GPU capacity")
    rng = random.Random(seed)
    order = list(range(len(gpu_milli)))
    rng.shuffle(order)
    total = sum(gpu_milli)
    limit = INFLATION * capacity_milli
    while True:
        j = rng.randrange(len(gpu_milli))
        if total + gpu_milli[j] > limit:
            return order
        order.append(j)
        total += gpu_milli[j]


def unallocated_at(arrived_pct: FloatArray, allocated_pct: FloatArray, at: float = 100.0) -> float:
    """100 - mean allocated % over the pods whose arrived % rounds to `at` (the artifact's reading; it
    widens to +/-1 when no pod rounds exactly there). Small traces can jump over that window: then the
    allocated % is interpolated linearly at `at`."""
    rounded = np.round(arrived_pct)
    sel = rounded == at
    if not sel.any():
        sel = (rounded >= at - 1) & (rounded <= at + 1)
    if sel.any():
        return float(100.0 - allocated_pct[sel].mean())
    if arrived_pct.size == 0 or arrived_pct.max() < at:
        raise InvalidInput(
            f"the run never reached {at:.0f} % arrived",
            details={"max_arrived": float(arrived_pct.max(initial=0))},
        )
    return float(100.0 - np.interp(at, arrived_pct, allocated_pct))


def unallocated_curve(arrived_pct: FloatArray, allocated_pct: FloatArray, grid: FloatArray) -> FloatArray:
    rounded = np.round(arrived_pct)
    out = np.full(len(grid), np.nan)
    for i, g in enumerate(grid):
        sel = rounded == g
        if sel.any():
            out[i] = 100.0 - allocated_pct[sel].mean()
    return out


def run_seed(
    policy_name: str, fleet: Fleet, pods: Sequence[openb.OpenbPod], workload: Workload, seed: int
) -> SeedRun:
    """One seed of the protocol for one policy."""
    gpu_milli = [p.gpu_milli for p in pods]
    capacity_milli = fleet.gpu_count() * MILLI
    order = arrival_order(gpu_milli, capacity_milli, seed)
    policy = with_artifact_ties(planned_policy(policy_name, pods, workload), fleet, seed)
    cap = Capacity(fleet)
    rng = random.Random(f"{seed}:placement")
    arrived = np.empty(len(order), dtype=np.int64)
    allocated = np.empty(len(order), dtype=np.int64)
    total_arrived = total_allocated = placed = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for k, i in enumerate(order):
        pod = pods[i]
        total_arrived += gpu_milli[i]
        verdict = place(policy, pod.request, cap, rng)
        if isinstance(verdict, Placement):
            cap.take(verdict.shares)
            total_allocated += gpu_milli[i]
            placed += 1
        arrived[k] = total_arrived
        allocated[k] = total_allocated
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    arrived_pct = np.asarray(arrived * (100.0 / capacity_milli), dtype=np.float64)
    allocated_pct = np.asarray(allocated * (100.0 / capacity_milli), dtype=np.float64)
    return SeedRun(
        seed,
        unallocated_at(arrived_pct, allocated_pct),
        seconds,
        arrived_pct,
        allocated_pct,
        placed,
        len(order) - placed,
        cpu_seconds,
    )


def parse_seeds(text: str) -> tuple[int, ...]:
    """ "42-51", "42,43,50" or "42" -> seeds."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part[1:]:
                lo, hi = (
                    part.split("-", 1)
                    if not part.startswith("-")
                    else ("-" + part[1:].split("-", 1)[0], part[1:].split("-", 1)[1])
                )
                a, b = int(lo), int(hi)
                if b < a:
                    raise ValueError
                seeds.extend(range(a, b + 1))
            elif part:
                seeds.append(int(part))
    except ValueError:
        raise InvalidInput(
            f"bad seeds {text!r}: use a range like 42-51 or a list like 42,43", details={"seeds": text}
        ) from None
    if not seeds:
        raise InvalidInput("no seeds given", details={"seeds": text})
    return tuple(seeds)


def parse_policies(text: str) -> tuple[str, ...]:
    """ "best-fit,fgd" -> names, checked against the registry; "all" -> every policy."""
    if text.strip().lower() == "all":
        return policies.POLICY_NAMES
    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    if not names:
        raise InvalidInput("no policy given", details={"known": list(policies.POLICY_NAMES)})
    for n in names:
        policies.get_policy(n)
    return names


def checkpoint_prefix(
    gpu_milli: Sequence[int], order: Sequence[int], capacity_milli: int, at: float = 100.0
) -> int:
    """How many arrivals the bound at `at` % covers: through the last pod whose arrived % rounds to at
    most `at` (the end of the window the score averages over, so the bound holds for all of it)."""
    arrived = np.cumsum([gpu_milli[i] for i in order]) * (100.0 / capacity_milli)
    within = np.flatnonzero(np.round(arrived) <= at)
    return int(within.max()) + 1 if within.size else 0


def seed_bound(fleet: Fleet, pods: Sequence[openb.OpenbPod], seed: int) -> float:
    """The least unallocated GPU % at 100 % arrived that any placement could reach, for one seed: the
    tighter of the pooled integer programme and the configuration LP (both are valid bounds)."""
    from neocloud.bench.openb_bound import placement_bound
    from neocloud.bench.openb_configurations import configuration_bound

    gpu_milli = [p.gpu_milli for p in pods]
    capacity = fleet.gpu_count() * MILLI
    order = arrival_order(gpu_milli, capacity, seed)
    end = checkpoint_prefix(gpu_milli, order, capacity)
    arrived = [pods[i].request for i in order[:end]]
    pooled = placement_bound(fleet, arrived, integral=True).unallocated_pct
    return max(pooled, configuration_bound(fleet, arrived).unallocated_pct)


def run_openb(
    pods_path: Path | str | None = None,
    nodes_path: Path | str | None = None,
    policy_names: Sequence[str] = policies.POLICY_NAMES,
    seeds: Sequence[int] = SEEDS,
    on_seed: Callable[[str, int], None] | None = None,
    variant: str | None = None,
    variant_seed: int = 1,
    bound: bool = False,
    departures: bool = False,
) -> OpenbResult:
    """Run the protocol for each policy and seed; `on_seed(policy, seed)` is called after each run.

    With `variant` ("gpushare:80"), the pod list is generated from `pods_path` (the default list) with
    `variant_seed`; with `bound`, each seed's limit is computed; with `departures`, each policy and
    seed is also replayed with departures."""
    import tempfile

    pods_file = Path(pods_path) if pods_path is not None else DEFAULT_PODS
    if not pods_file.exists():
        raise InvalidInput(f"pod list {pods_file} not found", details={"file": str(pods_file)})
    nodes_file = Path(nodes_path) if nodes_path is not None else openb.nodes_beside(pods_file)
    fleet = openb.read_fleet(nodes_file)
    if variant is not None:
        from neocloud.bench.openb_variants import Variant, write_variant

        v = Variant.parse(variant)
        with tempfile.TemporaryDirectory() as tmp:
            pods = openb.read_pods(write_variant(pods_file, v, variant_seed, Path(tmp)))
        name, label = v.name, f"{v.name} (generated, seed {variant_seed})"
    else:
        pods = openb.read_pods(pods_file)
        name = label = openb.workload_name(pods_file)
    workload = Workload.from_requests(p.request for p in pods)
    bounds = tuple(seed_bound(fleet, pods, s) for s in seeds) if bound else ()
    results = []
    for policy_name in policy_names:
        runs = []
        replays = []
        for seed in seeds:
            runs.append(run_seed(policy_name, fleet, pods, workload, seed))
            if departures:
                from neocloud.bench.openb_departures import replay

                replays.append(replay(policy_name, fleet, pods, workload, seed))
            if on_seed is not None:
                on_seed(policy_name, seed)
        published = OPENB_PUBLISHED.get(name, {}).get(policy_name)
        results.append(PolicyResult(policy_name, tuple(runs), published, bounds, tuple(replays)))
    return OpenbResult(label, len(fleet.nodes), fleet.gpu_count(), tuple(results))


SUMMARY_COLUMNS = ("policy", "unallocated % (ours)", "published", "s / seed")
BOUND_COLUMNS = ("bound (limit)", "gap to bound")
DEPARTURE_COLUMNS = ("alloc % (time-avg, departures)", "unalloc % when over capacity")


def summary_columns(result: OpenbResult) -> tuple[str, ...]:
    first = result.results[0] if result.results else None
    extra: tuple[str, ...] = ()
    if first is not None and first.bounds:
        extra += BOUND_COLUMNS
    if first is not None and first.departures:
        extra += DEPARTURE_COLUMNS
    return SUMMARY_COLUMNS + extra


def summary_rows(result: OpenbResult) -> list[tuple[str, ...]]:
    """One row per policy: name, our mean +/- sd, the published figure (or a dash), seconds per seed,
    then the bound and the gap to it, and the departures replay's figures, when they were run."""
    rows: list[tuple[str, ...]] = []
    for r in result.results:
        published = f"{r.published[0]:.2f} ± {r.published[1]:.2f}" if r.published else "—"
        row: tuple[str, ...] = (
            r.policy,
            f"{r.mean:.2f} ± {r.sd:.2f}",
            published,
            f"{r.seconds_per_seed:.2f}",
        )
        if r.bounds:
            row += (f"{statistics.fmean(r.bounds):.2f}", f"{r.mean - statistics.fmean(r.bounds):+.2f}")
        if r.departures:
            alloc = [d.time_avg_allocated_pct for d in r.departures]
            over = [
                d.unallocated_pct_when_over for d in r.departures if d.unallocated_pct_when_over is not None
            ]
            row += (f"{statistics.fmean(alloc):.2f}", f"{statistics.fmean(over):.2f}" if over else "—")
        rows.append(row)
    return rows


def plot(result: OpenbResult, path: Path | str) -> None:
    """Allocation curves of every policy: unallocated GPU % against arrived %."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for r in result.results:
        grid, curve = r.curve()
        ax.plot(grid, curve, label=f"{r.policy} ({r.mean:.2f} %)")
    ax.axvline(100, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xlabel("arrived GPU request (% of capacity)")
    ax.set_ylabel("unallocated GPU (% of capacity)")
    ax.set_title(f"openb {result.workload}: {result.nodes} nodes, {result.gpus} GPUs")
    ax.set_xlim(0, INFLATION * 100)
    ax.set_ylim(0, 100)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
