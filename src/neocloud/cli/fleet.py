"""`neocloud fleet …`: describe fleets (presets and files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from neocloud.cli.output import fail, print_json, print_table
from neocloud.fleet import presets
from neocloud.fleet.file import dump_fleet, load_fleet
from neocloud.fleet.fleet import Fleet
from neocloud.fleet.summary import fleet_summary
from neocloud.kernel.errors import InvalidInput

app = typer.Typer(help="Fleet descriptions: presets and files.", no_args_is_help=True)

PARAM_HELP = "A preset parameter as NAME=VALUE (repeatable), e.g. --param sus=2."


def _value(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_params(pairs: list[str]) -> dict[str, object]:
    """`["sus=2", "pue=1.3"]` -> {"sus": 2, "pue": 1.3}; InvalidInput for a pair without '='."""
    out: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput(f"--param {pair!r}: expected NAME=VALUE")
        out[name.strip()] = _value(value.strip())
    return out


def resolve(target: str, params: dict[str, object]) -> Fleet:
    """A fleet from a description file (if `target` is an existing path) or a preset name."""
    path = Path(target)
    if path.is_file():
        if params:
            raise InvalidInput("--param applies to presets, not to fleet files")
        return load_fleet(path)
    if path.suffix in {".yaml", ".yml"} or "/" in target:
        raise InvalidInput(f"no fleet file {target}")
    return presets.build(target, **params)


@app.command()
def show(
    target: str = typer.Argument(..., help="A preset name or a fleet description file (YAML)."),
    param: list[str] = typer.Option([], "--param", "-p", help=PARAM_HELP),
    json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """GPUs by model, nodes, racks, NVLink domains, fabrics, SUs, halls and power of a fleet."""
    try:
        summary = fleet_summary(resolve(target, parse_params(param)))
    except InvalidInput as exc:
        raise fail(exc.message, 2) from exc
    if json:
        print_json(summary.as_dict())
        return
    rows: list[tuple[str, object]] = [(f"GPUs {m}", f"{n:,}") for m, n in summary.gpus_by_model.items()]
    rows += [
        ("GPUs", f"{summary.gpus:,}"),
        ("nodes", f"{summary.nodes:,}"),
        ("NVLink domains", f"{summary.nvlink_domains:,}"),
        ("racks", f"{summary.racks:,}"),
        ("leaf groups", f"{summary.leaf_groups:,}"),
        ("scalable units", f"{summary.sus:,}"),
        ("fabrics", f"{summary.fabrics:,}"),
        ("halls", f"{summary.halls:,}"),
        ("leaf / spine switches", f"{summary.leaf_switches:,} / {summary.spine_switches:,}"),
        ("IT power (MW)", f"{summary.it_power_mw:,.2f}"),
        ("facility power (MW)", f"{summary.facility_power_mw:,.2f}"),
    ]
    print_table(f"fleet {summary.name}", ["", "count"], rows)


@app.command("presets")
def list_presets(json: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    """The fleet presets and their parameters."""
    data: list[dict[str, Any]] = [
        {
            "name": p.name,
            "description": p.description,
            "params": {
                q.name: {"default": q.default, "min": q.minimum, "max": q.maximum, "help": q.help}
                for q in p.params
            },
        }
        for p in presets.PRESETS.values()
    ]
    if json:
        print_json(data)
        return
    rows = [
        (d["name"], d["description"], ", ".join(f"{k}={v['default']}" for k, v in d["params"].items()))
        for d in data
    ]
    print_table("fleet presets", ["preset", "description", "parameters"], rows)


@app.command()
def export(
    preset: str = typer.Argument(..., help="A preset name."),
    param: list[str] = typer.Option([], "--param", "-p", help=PARAM_HELP),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write here instead of stdout."),
) -> None:
    """Write a preset as a fleet description file, to edit by hand."""
    try:
        text = dump_fleet(presets.build(preset, **parse_params(param)))
    except InvalidInput as exc:
        raise fail(exc.message, 2) from exc
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
