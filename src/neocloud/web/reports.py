"""The operator's reports: revenue (by month, product, model, tenant, and per MW of IT power) and
utilisation over time (committed vs delivered vs healthy GPU-hours per day)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse

from neocloud.kernel.products import Product
from neocloud.web import charts
from neocloud.web.context import SignedIn
from neocloud.web.fleetmap import require_fleet_view, topology
from neocloud.web.operator import PREFIX, ops
from neocloud.web.render import ConsoleRoute, page

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


def _amounts(rows: list[dict[str, str]], key: str, label: Any = None) -> list[tuple[str, Decimal]]:
    return [
        (
            (label(r) if label else r[key]) + (f" ({r['currency']})" if r["currency"] != "USD" else ""),
            Decimal(r["amount"]),
        )
        for r in rows
    ]


@router.get("/revenue", response_class=HTMLResponse)
def revenue(who: SignedIn) -> Response:
    require_fleet_view(who.principal)
    svc = who.billing
    months = svc.revenue("month")
    by_product = svc.revenue("product")
    by_model = svc.revenue("model")
    by_tenant = svc.revenue("tenant")
    mw = float(topology(who.control, who.cache).document["it_kw"]) / 1000
    per_mw = [
        (r["month"], (Decimal(r["amount"]) / Decimal(str(mw))).quantize(Decimal("0.01")))
        for r in months
        if mw > 0
    ]
    return page(
        "console/revenue.html",
        ops(
            who,
            "revenue",
            it_mw=mw,
            rows={"month": months, "product": by_product, "model": by_model, "tenant": by_tenant},
            month_chart=charts.bars(
                _amounts(months, "month"), title="Revenue by month", unit="USD", chart_id="revenue-month"
            ),
            product_chart=charts.bars(
                _amounts(by_product, "product"),
                title="Revenue by product",
                unit="USD",
                chart_id="revenue-product",
            ),
            model_chart=charts.bars(
                _amounts(by_model, "model"), title="Revenue by model", unit="USD", chart_id="revenue-model"
            ),
            tenant_chart=charts.bars(
                _amounts(by_tenant, "tenant", lambda r: r.get("tenant_name") or r["tenant"]),
                title="Revenue by tenant",
                unit="USD",
                chart_id="revenue-tenant",
            ),
            mw_chart=charts.bars(
                per_mw,
                title=f"Revenue per MW of IT power ({mw:,.2f} MW)",
                unit="USD/MW",
                chart_id="revenue-mw",
            ),
        ),
    )


@router.get("/utilisation", response_class=HTMLResponse)
def utilisation(who: SignedIn, days: Annotated[int, Query(ge=1, le=92)] = 35) -> Response:
    """GPU-hours per day: committed (booked by any product), delivered (metered into the ledger), healthy
    (GPUs on nodes that take work, at today's node states: the health context adds their history)."""
    require_fleet_view(who.principal)
    now = who.control.deps.clock.now()
    end = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    start = end - timedelta(days=days)
    labels = [(start + timedelta(days=d)).strftime("%m-%d") for d in range(days)]
    committed = [Decimal(0)] * days
    all_nodes = topology(who.control, who.cache).nodes
    with who.control.deps.uow(read_only=True) as uow:
        node_states = uow.node_states()
        allocs = uow.list_allocations(None, list(Product), None, None, 10**9)[0]
    for a in allocs:
        if a.start >= end or a.state.value in ("cancelled", "requested"):
            continue
        a_end = a.ended_at or a.end or now
        a_end = min(a_end, now) if a.state.value not in ("scheduled",) else a_end
        if a.state.value == "scheduled":
            continue
        lo, hi = max(a.start, start), min(a_end, end)
        while lo < hi:
            d = int((lo - start) // timedelta(days=1))
            nxt = min(hi, start + timedelta(days=d + 1))
            committed[d] += Decimal(a.gpus) * Decimal(int((nxt - lo).total_seconds())) / 3600
            lo = nxt
    delivered = [Decimal(0)] * days
    from neocloud.kernel.periods import Period

    span = Period(start, min(end, max(now, start + timedelta(seconds=1))).replace(microsecond=0))
    for day, milli in who.billing.usage(period=span, by="day").items():  # the ledger, every tenant
        d = (datetime.fromisoformat(day).replace(tzinfo=UTC) - start).days
        if 0 <= d < days:
            delivered[d] += Decimal(milli) / 3_600_000
    healthy_gpus = sum(n.gpus for n in all_nodes if node_states.get(n.id, "ready") in ("ready", "spare"))
    healthy = [Decimal(healthy_gpus * 24)] * days
    series = {
        "committed": [c.quantize(Decimal("0.1")) for c in committed],
        "delivered": [d.quantize(Decimal("0.1")) for d in delivered],
        "healthy": healthy,
    }
    return page(
        "console/utilisation.html",
        ops(
            who,
            "utilisation",
            chart=charts.columns(
                series, labels, title="GPU-hours per day", unit="GPU-h", lines=True, chart_id="utilisation"
            ),
            total_gpus=sum(n.gpus for n in all_nodes),
            healthy_gpus=healthy_gpus,
            days=days,
            series=series,
            labels=labels,
        ),
    )
