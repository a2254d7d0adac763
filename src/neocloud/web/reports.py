"""The operator's reports: revenue (by month, product, model, tenant, and per MW of IT power) and
utilisation over time (committed vs delivered vs healthy GPU-hours per day)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse

from neocloud.control.app.utilisation import Transition
from neocloud.health.app.service import HealthService
from neocloud.health.domain.lifecycle import NodeEvent, NodeState
from neocloud.kernel.periods import Period
from neocloud.web import charts
from neocloud.web.context import SignedIn
from neocloud.web.fleetmap import require_fleet_view
from neocloud.web.operator import PREFIX, ops
from neocloud.web.render import ConsoleRoute, page

router = APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)
MAX_EVENTS = 100_000  # at most this many lifecycle events of the chart's window are read


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
    rows = svc.revenue_by(("month", "product", "model", "tenant"))
    months, by_product, by_model, by_tenant = rows["month"], rows["product"], rows["model"], rows["tenant"]
    mw = who.control.fleetmap.topology(who.principal).it_kw / 1000
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


def transitions(who: SignedIn, since: datetime) -> list[Transition] | None:
    """The nodes' lifecycle moves since `since` from the health context's events (operators read them;
    a fleet-wide viewer and a server without the health context get none: nodes as they are now). A
    node's first move in the window carries the state it was in before; a node without moves is as it
    is now throughout (control/app/utilisation.py), so older events are not needed."""
    lifecycle: HealthService | None = getattr(who.services, "health", None)
    if lifecycle is None or not who.principal.is_operator:
        return None
    return transitions_of(lifecycle.events(who.principal, None, MAX_EVENTS, since=since))


def transitions_of(events: Iterable[NodeEvent]) -> list[Transition]:
    """Lifecycle events as in/out-of-service moves (a node is healthy while in service)."""
    return [
        Transition(
            e.node, e.at, e.from_state in (None, NodeState.IN_SERVICE), e.to_state is NodeState.IN_SERVICE
        )
        for e in events
    ]


@router.get("/utilisation", response_class=HTMLResponse)
def utilisation(who: SignedIn, days: Annotated[int, Query(ge=1, le=92)] = 35) -> Response:
    """GPU-hours per day: committed (booked by any product) and healthy (GPUs on nodes in service, by
    each node's lifecycle history) from control.utilisation; delivered (metered into the ledger) from
    billing."""
    require_fleet_view(who.principal)
    today = who.control.deps.clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
    daily = who.control.utilisation.daily(
        who.principal, days, transitions(who, today - timedelta(days=days - 1))
    )
    start, now = daily.days[0], who.control.deps.clock.now()
    end = daily.days[-1] + timedelta(days=1)
    labels = [d.strftime("%m-%d") for d in daily.days]
    delivered = [Decimal(0)] * days
    span = Period(start, min(end, max(now, start + timedelta(seconds=1))).replace(microsecond=0))
    for day, milli in who.billing.usage(period=span, by="day").items():  # the ledger, every tenant
        d = (datetime.fromisoformat(day).replace(tzinfo=UTC) - start).days
        if 0 <= d < days:
            delivered[d] += Decimal(milli) / 3_600_000
    series = {
        "committed": daily.committed,
        "delivered": [d.quantize(Decimal("0.1")) for d in delivered],
        "healthy": daily.healthy,
    }
    return page(
        "console/utilisation.html",
        ops(
            who,
            "utilisation",
            chart=charts.columns(
                series, labels, title="GPU-hours per day", unit="GPU-h", lines=True, chart_id="utilisation"
            ),
            total_gpus=daily.total_gpus,
            healthy_gpus=daily.healthy_gpus_now,
            days=days,
            series=series,
            labels=labels,
        ),
    )
