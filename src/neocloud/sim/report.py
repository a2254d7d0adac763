"""Reports of a run: PNG plots (matplotlib, headless) and one self-contained HTML page."""

from __future__ import annotations

import html
from pathlib import Path

from neocloud.sim.result import SimResult

PLOTS = {
    "gpus.png": ("GPUs", ("committed", "allocated", "delivered", "healthy")),
    "products.png": ("GPUs allocated by product", ("reserved", "on-demand", "spot")),
    "power.png": ("Facility power (MW)", ("power_mw",)),
    "queue.png": ("Requests waiting", ("queued",)),
}


def write_plots(result: SimResult, out: Path) -> list[Path]:
    """One PNG per figure of PLOTS in `out` (created); returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    t = result.series.get("t_days", [])
    written = []
    for name, (title, keys) in PLOTS.items():
        fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
        for k in keys:
            if k in result.series:
                ax.plot(t, result.series[k], label=k, linewidth=1.2)
        ax.set_title(f"{result.scenario}: {title}")
        ax.set_xlabel("day")
        ax.grid(alpha=0.3)
        if len(keys) > 1:
            ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        path = out / name
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written


def write_html(result: SimResult, out: Path, plots: list[Path]) -> Path:
    """report.html in `out`: the totals table and the plots beside it."""
    out.mkdir(parents=True, exist_ok=True)
    rows = [
        ("scenario", result.scenario),
        ("simulated days", f"{result.simulated_days:g}"),
        ("seed", result.seed),
        ("GPUs", f"{result.gpus:,}"),
        ("utilisation", f"{result.utilisation:.2%}"),
        *((f"utilisation — {k}", f"{v:.2%}") for k, v in result.utilisation_by_product.items()),
        ("healthy fraction", f"{result.healthy_fraction:.4%}"),
        *((f"revenue — {k}", f"{v:,} {result.currency}") for k, v in result.revenue_by_product.items()),
        ("revenue", f"{result.revenue:,} {result.currency}"),
        ("SLA credits", f"{result.sla_credits:,} {result.currency}"),
        ("energy", f"{result.energy_mwh:,.1f} MWh"),
        ("mean power", f"{result.mean_power_mw:,.2f} MW"),
        ("events", f"{result.events:,}"),
        ("wall seconds", f"{result.wall_seconds:.2f}"),
        *((k.replace("_", " "), f"{v:,.4g}") for k, v in result.extra.items()),
    ]
    table = "\n".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    images = "\n".join(f'<img src="{html.escape(p.name)}" alt="{html.escape(p.stem)}">' for p in plots)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>neocloud sim — {html.escape(result.scenario)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}}table{{border-collapse:collapse}}
th,td{{text-align:left;padding:.2rem .8rem;border-bottom:1px solid #ddd}}img{{display:block;margin:1rem 0;max-width:100%}}</style>
</head><body><h1>Simulation: {html.escape(result.scenario)}</h1>
<table>{table}</table>
{images}
</body></html>
"""
    path = out / "report.html"
    path.write_text(page)
    return path
