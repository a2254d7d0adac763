"""Server-rendered SVG charts: bars (one series or stacked), lines, and the reservations Gantt.

Each function returns markup that is safe to embed (every label is escaped) and needs no script, so a
chart is there on the first paint and in a screenshot. Values are Decimals or ints (never floats for
money); coordinates are computed here as floats, which is only geometry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from markupsafe import Markup, escape

PALETTE = ("#2563eb", "#16a34a", "#f59e0b", "#db2777", "#7c3aed", "#0891b2", "#dc2626", "#65a30d")
Number = int | Decimal


def _fmt(value: Number) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return f"{value:,}"


def bars(
    items: Sequence[tuple[str, Number]],
    *,
    title: str,
    unit: str = "",
    width: int = 640,
    bar_height: int = 22,
    chart_id: str = "",
) -> Markup:
    """Horizontal bars, one per (label, value), longest = the largest value; negative values (credits)
    are drawn from the same origin in another colour."""
    label_w, value_w = 180, 130
    span = width - label_w - value_w
    top = max((Decimal(abs(v)) for _, v in items), default=Decimal(0)) or Decimal(1)  # type: ignore[arg-type]
    height = max(1, len(items)) * (bar_height + 6) + 30
    out = [
        f'<svg class="chart" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'data-chart="{escape(chart_id)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    if not items:
        out.append('<text x="0" y="44" class="chart-empty">nothing yet</text>')
    for i, (label, value) in enumerate(items):
        y = 28 + i * (bar_height + 6)
        w = span * float(abs(value)) / float(top)  # type: ignore[arg-type]
        colour = "#dc2626" if value < 0 else PALETTE[i % len(PALETTE)]
        out.append(
            f'<g class="bar" data-label="{escape(label)}" data-value="{escape(str(value))}">'
            f'<text x="{label_w - 8}" y="{y + bar_height * 0.7:.1f}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{max(w, 1):.1f}" height="{bar_height}" fill="{colour}">'
            f"<title>{escape(label)}: {escape(_fmt(value))} {escape(unit)}</title></rect>"
            f'<text x="{label_w + max(w, 1) + 6:.1f}" y="{y + bar_height * 0.7:.1f}">'
            f"{escape(_fmt(value))} {escape(unit)}</text></g>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def columns(
    series: Mapping[str, Sequence[Number]],
    labels: Sequence[str],
    *,
    title: str,
    unit: str = "",
    width: int = 760,
    height: int = 240,
    chart_id: str = "",
    lines: bool = False,
) -> Markup:
    """Values over `labels` (days, months): stacked columns, or with `lines` one polyline per series
    (committed vs delivered vs healthy). A legend names the series."""
    left, bottom, top_pad = 56, 36, 28
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    n = max(1, len(labels))
    if lines:
        peak = max([max(v, default=0) for v in series.values()], default=0)
    else:
        peak = max([sum(vals) for vals in zip(*series.values(), strict=False)], default=0)
    peak = peak or 1
    out = [
        f'<svg class="chart" role="img" width="{width}" height="{height + 20}" '
        f'viewBox="0 0 {width} {height + 20}" data-chart="{escape(chart_id)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" class="axis"/>',
        f'<text x="{left - 6}" y="{top_pad + 8}" text-anchor="end" class="tick">{escape(_fmt(peak))}</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h}" text-anchor="end" class="tick">0</text>',
        f'<text x="{left - 6}" y="{top_pad + plot_h / 2:.0f}" text-anchor="end" class="tick">{escape(unit)}</text>',
    ]
    step = plot_w / n
    every = max(1, n // 12)
    for i, label in enumerate(labels):
        if i % every == 0:
            out.append(
                f'<text x="{left + i * step + step / 2:.1f}" y="{top_pad + plot_h + 14}" text-anchor="middle" '
                f'class="tick">{escape(label)}</text>'
            )
    for s, (name, values) in enumerate(series.items()):
        colour = PALETTE[s % len(PALETTE)]
        if lines:
            points = " ".join(
                f"{left + i * step + step / 2:.1f},{top_pad + plot_h - plot_h * float(v) / float(peak):.1f}"
                for i, v in enumerate(values)
            )
            out.append(
                f'<polyline class="series" data-series="{escape(name)}" fill="none" stroke="{colour}" '
                f'stroke-width="2" points="{points}"/>'
            )
    if not lines:
        base = [0.0] * len(labels)
        for s, (name, values) in enumerate(series.items()):
            colour = PALETTE[s % len(PALETTE)]
            for i, v in enumerate(values):
                if not v:
                    continue
                h = plot_h * float(v) / float(peak)
                base[i] += h
                out.append(
                    f'<rect class="col" data-series="{escape(name)}" x="{left + i * step + 1:.1f}" '
                    f'y="{top_pad + plot_h - base[i]:.1f}" width="{max(step - 2, 1):.1f}" height="{h:.1f}" '
                    f'fill="{colour}"><title>{escape(labels[i])} {escape(name)}: {escape(_fmt(v))} '
                    f"{escape(unit)}</title></rect>"
                )
    x = left
    for s, name in enumerate(series):
        out.append(
            f'<rect x="{x}" y="{height + 4}" width="10" height="10" fill="{PALETTE[s % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="{height + 13}" class="tick">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    out.append("</svg>")
    return Markup("".join(out))


@dataclass(frozen=True, slots=True)
class Bar:
    """One reservation on the Gantt: its row (model / project), window and link."""

    row: str
    start: datetime
    end: datetime
    label: str
    href: str
    state: str
    ident: str


def gantt(bars_: Sequence[Bar], *, start: datetime, end: datetime, now: datetime, width: int = 960) -> Markup:
    """Rows (model / project) against time from `start` to `end`; a bar per reservation, a line at `now`,
    a tick per day."""
    rows = sorted({b.row for b in bars_})
    left, row_h, top = 200, 26, 30
    plot_w = width - left - 10
    height = top + max(1, len(rows)) * row_h + 10
    span = (end - start).total_seconds() or 1.0

    def x(at: datetime) -> float:
        clamped = min(max(at, start), end)
        return left + plot_w * (clamped - start).total_seconds() / span

    out = [
        f'<svg class="chart gantt" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'data-chart="gantt" xmlns="http://www.w3.org/2000/svg"><title>Reservations by model and project</title>'
    ]
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    days = max(1, int(span // 86400))
    every = max(1, days // 14)
    i = 0
    while day <= end:
        if day >= start:
            out.append(
                f'<line x1="{x(day):.1f}" y1="{top - 4}" x2="{x(day):.1f}" y2="{height - 6}" class="grid"/>'
            )
            if i % every == 0:
                out.append(f'<text x="{x(day) + 2:.1f}" y="{top - 8}" class="tick">{day:%m-%d}</text>')
            i += 1
        day += timedelta(days=1)
    for r, row in enumerate(rows):
        y = top + r * row_h
        out.append(f'<text x="{left - 8}" y="{y + row_h * 0.65:.1f}" text-anchor="end">{escape(row)}</text>')
    if not rows:
        out.append(
            f'<text x="{left}" y="{top + 18}" class="chart-empty">no reservations in this window</text>'
        )
    for b in bars_:
        y = top + rows.index(b.row) * row_h + 3
        x0, x1 = x(b.start), x(b.end)
        out.append(
            f'<a href="{escape(b.href)}" class="gantt-bar state-{escape(b.state)}" data-reservation="{escape(b.ident)}">'
            f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 2):.1f}" height="{row_h - 6}" rx="3">'
            f"<title>{escape(b.label)}</title></rect></a>"
        )
    if start <= now <= end:
        out.append(
            f'<line x1="{x(now):.1f}" y1="{top - 4}" x2="{x(now):.1f}" y2="{height - 6}" class="now"/>'
        )
    out.append("</svg>")
    return Markup("".join(out))
