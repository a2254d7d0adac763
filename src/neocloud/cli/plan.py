"""`neocloud plan …`: does a GPU campus pay back? Finance over a simulation of its fleet.

`neocloud plan SCENARIO` (a scenario file) or `neocloud plan --preset campus-1gw` simulates the scenario,
takes its utilisation, product mix and prices, and projects revenue, costs, NPV, IRR, payback and the
funding it needs, with every assumption and its source. `neocloud plan sweep SCENARIO --grid …` runs a
grid of such plans on a process pool or a Dask cluster.
"""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from neocloud.cli.output import console, err_console, fail, print_json, print_table, progress
from neocloud.kernel.errors import InvalidInput


class _RunByDefault(TyperGroup):
    """`neocloud plan ARGS` means `neocloud plan run ARGS` unless ARGS start with a sub-command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_RunByDefault,
    help=(
        "Plan a campus: NPV, IRR, payback and funding from a simulation of its fleet. "
        "`neocloud plan --preset campus-1gw` or `neocloud plan SCENARIO` is `neocloud plan run …`."
    ),
    no_args_is_help=False,
)

SET_HELP = (
    "Override an input as NAME=VALUE (repeatable): any economics name (see the assumptions list, e.g. "
    "electricity_price=90, gpu_capex_GB200=50000, fx_usd_per_eur=1.1) or utilisation=0.8, price=6.5, "
    "reserved_share=0.6."
)


def _target(scenario: str | None, preset: str | None) -> str:
    if bool(scenario) == bool(preset):
        raise InvalidInput(
            "give a scenario file or --preset NAME (one of them)", details={"field": "scenario"}
        )
    return str(scenario or preset)


def _operations(
    target: str, days: float | None, seed: int, from_sim: Path | None, show_progress: bool
) -> Any:
    from neocloud.plan import simulate

    if from_sim is not None:
        try:
            data = jsonlib.loads(from_sim.read_text())
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"--from-sim {from_sim}: {exc}", details={"field": "from_sim"}) from None
        return simulate.from_saved(data, target)
    with progress(enabled=show_progress) as bar:
        task = bar.add_task(f"simulating {target}", total=1000)
        return simulate.simulate(
            target, days=days, seed=seed, progress=lambda done: bar.update(task, completed=int(done * 1000))
        )


def _short_number(text: str) -> str:
    """A long decimal shortened for the table (the JSON keeps every digit)."""
    if "," in text or len(text) <= 12:
        return text
    head, _, tail = text.partition(".")
    return f"{head}.{tail[: max(2, 8 - len(head))]}…"


@app.command("run")
def run(
    scenario: str | None = typer.Argument(None, help="A scenario file (YAML/JSON)."),
    preset: str | None = typer.Option(
        None, "--preset", help="A built-in scenario: tiny, gb200-superpod, campus-1gw."
    ),
    days: float | None = typer.Option(None, "--days", help="Simulated days (default: the scenario's)."),
    seed: int = typer.Option(0, "--seed", help="The simulation's seed."),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
    schedule: str | None = typer.Option(
        None, "--schedule", help="MW built per quarter, e.g. 250,250,250,250."
    ),
    currency: str = typer.Option("USD", "--currency", help="Currency of the plan: USD or EUR."),
    from_sim: Path | None = typer.Option(
        None, "--from-sim", help="Reuse a saved simulation (--save-sim JSON)."
    ),
    save_sim: Path | None = typer.Option(None, "--save-sim", help="Write the simulation's result as JSON."),
    out: Path | None = typer.Option(
        None, "--out", help="Write PNG charts and report.html into this directory."
    ),
    json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """The plan of one scenario: headline table, years, sensitivities and the assumptions with sources."""
    from neocloud.plan.economics import Economics
    from neocloud.plan.inputs import apply, parse_pairs
    from neocloud.plan.model import default_schedule, project
    from neocloud.plan.present import Analysis, assumptions, headline_rows, plan_json
    from neocloud.plan.report import write_report
    from neocloud.plan.schedule import BuildSchedule

    try:
        target = _target(scenario, preset)
        overrides = parse_pairs(set_)
        Economics.defaults().override(
            {k: v for k, v in overrides.items() if k not in ("utilisation", "price", "reserved_share")}
        )
        ops, result = _operations(target, days, seed, from_sim, not json)
        if save_sim is not None:
            save_sim.write_text(jsonlib.dumps(result.to_json(), indent=2) + "\n")
        ops, econ = apply(ops, Economics.defaults(), overrides)
        build = (
            BuildSchedule.parse(schedule, econ.whole("start_year"), ops.site.facility_mw)
            if schedule
            else default_schedule(ops, econ)
        )
        if schedule:
            overrides["schedule"] = schedule
        plan = project(ops, econ, build, currency.upper())
        analysis = Analysis.of(plan, overrides)
        files = write_report(analysis, out) if out is not None else []
    except InvalidInput as exc:
        raise fail(exc.message, 2) from exc
    except OSError as exc:
        raise fail(f"{exc.filename or ''}: {exc.strerror or exc}", 2) from exc
    if json:
        data = plan_json(analysis)
        if files:
            data["files"] = [str(f) for f in files]
        print_json(data)
        return
    data = plan_json(analysis)
    print_table(
        f"Plan: {ops.site.name} ({plan.currency})",
        ["", ""],
        headline_rows(analysis),
        caption=data["simulation"],
    )
    keys = [
        "revenue",
        "energy_cost",
        "ebitda",
        "depreciation",
        "interest",
        "tax",
        "net_income",
        "capex",
        "cash_flow",
    ]
    print_table(
        "Years (millions)",
        ["year", "MW", *keys, "margin"],
        [
            [
                y["year"],
                f"{y['mw_online']:,.0f}",
                *(f"{float(y[k]) / 1e6:,.0f}" for k in keys),
                "-" if y["ebitda_margin"] is None else f"{y['ebitda_margin']:.0%}",
            ]
            for y in data["years"]
        ],
    )
    print_table(
        "Sensitivity of NPV (millions)",
        ["lever", "low", "high", "NPV low", "NPV high"],
        [
            [
                s["lever"],
                s["low"],
                s["high"],
                "-" if s["npv_low"] is None else f"{float(s['npv_low']) / 1e6:,.0f}",
                "-" if s["npv_high"] is None else f"{float(s['npv_high']) / 1e6:,.0f}",
            ]
            for s in data["sensitivity"]
        ],
    )
    table = Table(
        title="Assumptions (kind: reference | derived | assumption | simulation | override)",
        header_style="bold cyan",
    )
    for col in ("input", "value", "kind", "source"):
        table.add_column(col, justify="right" if col == "value" else "left", no_wrap=col == "input")
    for name, item in assumptions(analysis).items():
        table.add_row(name, f"{_short_number(item['value'])} {item['unit']}", item["kind"], item["source"])
    console.print(table)
    for f in files:
        err_console.print(f"wrote {f}")


@app.command("sweep")
def sweep(
    scenario: str = typer.Argument(..., help="A scenario preset name or file."),
    grid: list[str] = typer.Option(..., "--grid", help="NAME=V1,V2,… (e.g. price=6,8,utilisation=0.6,0.8)."),
    workers: int = typer.Option(2, "--workers", help="Local worker processes."),
    cluster: str | None = typer.Option(None, "--cluster", help="A Dask scheduler address (tcp://HOST:PORT)."),
    days: float | None = typer.Option(None, "--days", help="Simulated days (default: the scenario's)."),
    seed: int = typer.Option(0, "--seed", help="The simulation's seed (unless the grid has seed=…)."),
    set_: list[str] = typer.Option([], "--set", help=SET_HELP),
    from_sim: Path | None = typer.Option(
        None, "--from-sim", help="Reuse a saved simulation (--save-sim JSON)."
    ),
    json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """A grid of plans, in parallel: a local process pool, or a Dask cluster with --cluster."""
    from neocloud.plan import sweep as sweeping
    from neocloud.plan.economics import Economics
    from neocloud.plan.inputs import check_names, parse_pairs

    try:
        points = sweeping.parse_grid(grid)
        base = parse_pairs(set_)
        check_names(base, Economics.defaults())
        saved = None
        if from_sim is not None:
            try:
                saved = jsonlib.loads(from_sim.read_text())
            except (OSError, ValueError) as exc:
                raise InvalidInput(f"--from-sim {from_sim}: {exc}", details={"field": "from_sim"}) from None
        items = sweeping.tasks(scenario, points, days=days, seed=seed, base=base, saved=saved)
        rows = sweeping.run(items, workers=workers, cluster=cluster)
    except InvalidInput as exc:
        raise fail(exc.message, 2) from exc
    if json:
        print_json({"scenario": scenario, "executor": "dask" if cluster else "processes", "points": rows})
        return
    names = list(points)
    print_table(
        f"Sweep: {scenario}",
        [*names, "NPV (M)", "IRR", "payback (y)", "peak funding (M)", "utilisation"],
        [
            [
                *(r["point"].get(n, r.get(n)) for n in names),
                f"{float(r['npv']) / 1e6:,.0f}",
                "-" if r["irr"] is None else f"{r['irr']:.1%}",
                "-" if r["payback_years"] is None else f"{r['payback_years']:.1f}",
                f"{float(r['peak_funding']) / 1e6:,.0f}",
                f"{r['utilisation']:.1%}",
            ]
            for r in rows
        ],
    )
