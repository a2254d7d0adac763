"""`neocloud plan sweep`: a grid of plans, run in parallel on a process pool or a Dask cluster.

A grid is `name=v1,v2,…` for any planner input (`--set` names, see `plan.inputs`) plus `seed` (the
simulation's seed) and `days`; its points are the cartesian product in the order given. Each point is one
`SweepTask`, a plain picklable value run by the top-level function `run_task`, which simulates the
scenario (once per (scenario, days, seed) per process) unless a saved run is given, applies the point's
overrides and projects the plan. The answer is a function of the task alone (the simulation is seeded;
the finance is exact Decimal), so every executor (`serial`, `processes`, `dask`) returns the same rows.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from neocloud.kernel.errors import InvalidInput
from neocloud.plan import simulate
from neocloud.plan.economics import Economics
from neocloud.plan.inputs import apply, check_names
from neocloud.plan.model import default_schedule, project
from neocloud.plan.operations import Operations
from neocloud.plan.present import Analysis, money, ratio
from neocloud.plan.sensitivity import breakeven_price, breakeven_utilisation

SIM_KEYS = ("seed", "days")


def parse_grid(texts: Iterable[str]) -> dict[str, list[str]]:
    """`["price=8,10,12,utilisation=0.6,0.8"]` (or one option per name) -> {"price": […], …}.

    A comma-separated item with '=' starts a new name; items without continue the previous one."""
    grid: dict[str, list[str]] = {}
    current: str | None = None
    for text in texts:
        for item in (i.strip() for i in text.split(",")):
            if not item:
                continue
            if "=" in item:
                name, _, value = item.partition("=")
                current = name.strip()
                if not current or current in grid:
                    raise InvalidInput(
                        f"--grid: {current!r} is empty or given twice", details={"field": "grid"}
                    )
                grid[current] = []
                item = value.strip()
                if not item:
                    continue
            if current is None:
                raise InvalidInput(f"--grid {text!r}: start with NAME=VALUES", details={"field": "grid"})
            grid[current].append(item)
    if not grid:
        raise InvalidInput("--grid: give at least one NAME=V1,V2,…", details={"field": "grid"})
    for name, values in grid.items():
        if not values:
            raise InvalidInput(f"--grid {name}: no values", details={"field": name})
    check_names([n for n in grid if n not in SIM_KEYS], Economics.defaults())
    return grid


@dataclass(frozen=True, slots=True)
class SweepTask:
    index: int
    target: str
    days: float | None
    seed: int
    point: tuple[tuple[str, str], ...]
    base: tuple[tuple[str, str], ...] = ()
    saved: dict[str, Any] | None = field(default=None, compare=False)


def tasks(
    target: str,
    grid: dict[str, list[str]],
    *,
    days: float | None,
    seed: int,
    base: dict[str, str] | None = None,
    saved: dict[str, Any] | None = None,
) -> list[SweepTask]:
    names = list(grid)
    out: list[SweepTask] = []
    for i, values in enumerate(itertools.product(*(grid[n] for n in names))):
        point = dict(zip(names, values, strict=True))
        t_seed = int(point.pop("seed")) if "seed" in point else seed
        t_days = float(point.pop("days")) if "days" in point else days
        if saved is not None and ("seed" in grid or "days" in grid):
            raise InvalidInput(
                "--grid seed/days need a simulation per point, not a saved run", details={"field": "grid"}
            )
        out.append(
            SweepTask(i, target, t_days, t_seed, tuple(point.items()), tuple((base or {}).items()), saved)
        )
    return out


@functools.lru_cache(maxsize=16)
def _simulated(target: str, days: float | None, seed: int) -> Operations:
    return simulate.simulate(target, days=days, seed=seed)[0]


def run_task(task: SweepTask) -> dict[str, Any]:
    """One grid point: its plan's headline figures (money as decimal strings)."""
    if task.saved is not None:
        ops = simulate.from_saved(task.saved, task.target)[0]
    else:
        ops = _simulated(task.target, task.days, task.seed)
    overrides = {**dict(task.base), **dict(task.point)}
    ops, econ = apply(ops, Economics.defaults(), overrides)
    plan = project(ops, econ, default_schedule(ops, econ))
    analysis = Analysis(plan, breakeven_price(plan), breakeven_utilisation(plan), (), overrides)
    return {
        "index": task.index,
        "seed": task.seed,
        "days": task.days,
        "point": dict(task.point),
        "npv": money(plan.npv),
        "irr": ratio(plan.irr),
        "payback_years": ratio(plan.payback_years, 3),
        "peak_funding": money(plan.peak_funding),
        "utilisation": ratio(ops.utilisation),
        "breakeven_utilisation": ratio(analysis.breakeven_utilisation),
        "currency": plan.currency,
    }


def run_serial(items: Sequence[SweepTask]) -> list[dict[str, Any]]:
    return [run_task(t) for t in items]


def run_processes(items: Sequence[SweepTask], workers: int) -> list[dict[str, Any]]:
    if workers < 1:
        raise InvalidInput("--workers: must be at least 1", details={"field": "workers"})
    if workers == 1 or len(items) <= 1:
        return run_serial(items)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run_task, items))


def run_dask(items: Sequence[SweepTask], address: str) -> list[dict[str, Any]]:
    """On an existing Dask distributed scheduler at `address` (e.g. tcp://127.0.0.1:8786)."""
    try:
        from distributed import Client
    except ImportError:
        raise InvalidInput(
            "--cluster needs Dask distributed: pip install 'neocloud[cluster]'", details={"field": "cluster"}
        ) from None
    try:
        client = Client(address, timeout=15, set_as_default=False)  # type: ignore[no-untyped-call,unused-ignore]
    except (OSError, TimeoutError, ValueError) as exc:
        raise InvalidInput(
            f"--cluster {address}: cannot reach a Dask scheduler there ({exc})", details={"field": "cluster"}
        ) from None
    try:
        futures = client.map(run_task, list(items), pure=False)
        return list(client.gather(futures))  # type: ignore[no-untyped-call,unused-ignore]
    finally:
        client.close()  # type: ignore[no-untyped-call,unused-ignore]


def run(items: Sequence[SweepTask], *, workers: int = 2, cluster: str | None = None) -> list[dict[str, Any]]:
    runner: Callable[[], list[dict[str, Any]]]
    if cluster:
        runner = functools.partial(run_dask, items, cluster)
    else:
        runner = functools.partial(run_processes, items, workers)
    return sorted(runner(), key=lambda r: int(r["index"]))
