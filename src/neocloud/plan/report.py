"""PNG charts (matplotlib, Agg) and one self-contained HTML report of a plan."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from neocloud.plan import model
from neocloud.plan.present import Analysis, headline_rows, plan_json

CHARTS = ("cash.png", "pnl.png", "tornado.png", "schedule.png")


def write_report(analysis: Analysis, out: Path) -> list[Path]:
    """Write the charts and `report.html` into `out` (created); returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    data = plan_json(analysis)
    ccy = data["currency"]
    years = [y["year"] for y in data["years"]]
    bn = 1e9

    def series(key: str) -> list[float]:
        return [float(y[key]) / bn for y in data["years"]]  # plotting only: money stays Decimal elsewhere

    files: list[Path] = []

    fig, ax = plt.subplots(figsize=(8, 4))
    cash = series("cash_flow")
    running, cumulative = 0.0, []
    for c in cash:
        running += c
        cumulative.append(running)
    ax.bar(years, cash, color=["#c0392b" if c < 0 else "#27ae60" for c in cash], label="cash flow")
    ax.plot(years, cumulative, color="#2c3e50", marker="o", label="cumulative")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylabel(f"bn {ccy}")
    ax.set_title("Project cash flow (EBITDA − capex − tax)")
    ax.legend()
    files.append(_save(fig, out / "cash.png"))

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(years, series("revenue"), marker="o", label="revenue")
    ax.plot(years, series("ebitda"), marker="o", label="EBITDA")
    ax.plot(years, series("net_income"), marker="o", label="net income")
    ax.plot(years, series("energy_cost"), marker=".", label="energy cost")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylabel(f"bn {ccy}")
    ax.set_title("Profit and loss per year")
    ax.legend()
    files.append(_save(fig, out / "pnl.png"))

    fig, ax = plt.subplots(figsize=(8, 4))
    rows = [s for s in data["sensitivity"] if s["npv_low"] is not None][::-1]
    base = float(data["npv"]) / bn
    for i, s in enumerate(rows):
        low, high = float(s["npv_low"]) / bn, float(s["npv_high"]) / bn
        ax.barh(i, low - base, left=base, color="#c0392b")
        ax.barh(i, high - base, left=base, color="#27ae60")
    ax.set_yticks(range(len(rows)), [f"{s['lever']} ({s['low']} / {s['high']})" for s in rows])
    ax.axvline(base, color="black", linewidth=0.8)
    ax.set_xlabel(f"NPV, bn {ccy} (red: low setting, green: high)")
    ax.set_title("Sensitivity of NPV")
    files.append(_save(fig, out / "tornado.png"))

    fig, ax = plt.subplots(figsize=(8, 3))
    quarters = [q["quarter"] for q in data["schedule"]]
    ax.bar(quarters, [q["mw_built"] for q in data["schedule"]], label="MW built")
    ax.plot(
        quarters, [q["mw_total"] for q in data["schedule"]], color="#2c3e50", marker="o", label="MW total"
    )
    ax.set_ylabel("MW")
    ax.set_title("Build schedule")
    ax.legend()
    files.append(_save(fig, out / "schedule.png"))

    page = out / "report.html"
    page.write_text(_html(analysis, data))
    files.append(page)
    return files


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _table(head: list[str], rows: list[list[Any]]) -> str:
    th = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _html(analysis: Analysis, data: dict[str, Any]) -> str:
    headline = _table(["", ""], [list(r) for r in headline_rows(analysis)])
    keys = [
        "year",
        "mw_online",
        "revenue",
        "energy_cost",
        "ebitda",
        "ebitda_margin",
        "depreciation",
        "interest",
        "tax",
        "net_income",
        "capex",
        "cash_flow",
        "debt",
    ]
    years = _table(keys, [[y[k] for k in keys] for y in data["years"]])
    sens = _table(
        ["lever", "low", "high", "NPV low", "NPV high", "swing", "note"],
        [
            [s["lever"], s["low"], s["high"], s["npv_low"], s["npv_high"], s["swing"], s["note"]]
            for s in data["sensitivity"]
        ],
    )
    assumptions = _table(
        ["input", "value", "unit", "kind", "source"],
        [[k, v["value"], v["unit"], v["kind"], v["source"]] for k, v in data["assumptions"].items()],
    )
    charts = "".join(f'<img src="{name}" alt="{name}">' for name in CHARTS)
    title = f"neocloud plan: {html.escape(data['scenario'])}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
td:first-child,th:first-child{{text-align:left}}img{{max-width:48%;margin:4px}}</style></head>
<body><h1>{title}</h1>
<p>All money in {html.escape(data["currency"])}; {html.escape(data["simulation"])}.</p>
<h2>Headline</h2>{headline}<h2>Charts</h2>{charts}
<h2>Rules of the projection</h2><p>{html.escape(" ".join((model.__doc__ or "").split()))}</p>
<h2>Years</h2>{years}<h2>Sensitivity (NPV)</h2>{sens}<h2>Assumptions and their sources</h2>{assumptions}
</body></html>
"""
