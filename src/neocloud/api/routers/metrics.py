"""`/metrics` in the Prometheus text format (prometheus-client): nodes by lifecycle state and model,
allocations by state, GPUs committed / delivered / in use per tenant, health events by component and
action, time to remediate, and latency histograms of API requests, of admission (the placement
decision with its persistence: POST of reservations and instances) and of the placement decision alone
(time in the placer, by product). Operator token required unless the
server's settings make it public (`Settings.metrics_public`)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Receive, Scope, Send

from neocloud.api.auth import PrincipalCache
from neocloud.kernel.errors import Forbidden, Unauthenticated

REMEDIATION_BUCKETS = (
    60.0,
    300.0,
    900.0,
    3600.0,
    4 * 3600.0,
    24 * 3600.0,
    3 * 86400.0,
    7 * 86400.0,
    21 * 86400.0,
)
ADMISSION_PATHS = ("/v1/reservations", "/v1/instances")


class HealthCollector(Collector):
    def __init__(self, app: FastAPI) -> None:
        self._app = app

    def collect(self) -> Iterable[Metric]:
        health = getattr(self._app.state.services, "health", None)
        if health is None:
            return []
        s = health.stats()
        nodes = GaugeMetricFamily(
            "neocloud_nodes", "Nodes by lifecycle state and GPU model", labels=["state", "model"]
        )
        for (state, model), n in sorted(s.nodes_by_state_model.items()):
            nodes.add_metric([state, model], n)
        allocs = GaugeMetricFamily(
            "neocloud_allocations", "Allocations overlapping now, by state", labels=["state"]
        )
        for state, n in sorted(s.allocations_by_state.items()):
            allocs.add_metric([state], n)
        out: list[Metric] = [nodes, allocs]
        for name, doc, values in (
            (
                "neocloud_gpus_committed",
                "GPUs committed to live allocations now, per tenant",
                s.gpus_committed,
            ),
            ("neocloud_gpus_in_use", "GPUs of active allocations, per tenant", s.gpus_in_use),
            (
                "neocloud_gpus_delivered",
                "GPUs of active allocations delivered (not short by an open outage), per tenant",
                s.gpus_delivered,
            ),
            (
                "neocloud_gpus_healthy",
                "GPUs of active allocations on nodes in service, per tenant",
                s.gpus_healthy,
            ),
        ):
            g = GaugeMetricFamily(name, doc, labels=["tenant"])
            for tenant, n in sorted(values.items()):
                g.add_metric([tenant], n)
            out.append(g)
        events = GaugeMetricFamily(
            "neocloud_health_events",
            "Health events recorded, by component and recommended action",
            labels=["component", "action"],
        )
        for (component, action), n in sorted(s.events_by_component_action.items()):
            events.add_metric([component, action], n)
        out.append(events)
        buckets, total = [], 0.0
        for edge in REMEDIATION_BUCKETS:
            buckets.append((str(edge), sum(1 for x in s.remediation_seconds if x <= edge)))
        buckets.append(("+Inf", len(s.remediation_seconds)))
        total = sum(s.remediation_seconds)
        hist = HistogramMetricFamily(
            "neocloud_time_to_remediate_seconds",
            "From a tenant's GPUs failing to having them all again",
            buckets=buckets,
            sum_value=total,
        )
        out.append(hist)
        return out


class PlacementCollector(Collector):
    """`neocloud_placement_decision_seconds{product}`: time in the placer per decision (an admission, all
    its claim rounds; or a replacement's move to another NVLink domain, product="replacement")."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    def collect(self) -> Iterable[Metric]:
        control = getattr(self._app.state.services, "control", None)
        timings = getattr(getattr(control, "deps", None), "placement_timings", None)
        hist = HistogramMetricFamily(
            "neocloud_placement_decision_seconds",
            "Placement decision latency (time in the placer, no database), by product or replacement",
            labels=["product"],
        )
        if timings is not None:
            for product, snap in timings.snapshot().items():
                buckets = [(str(edge), n) for edge, n in snap.buckets] + [("+Inf", snap.count)]
                hist.add_metric([product], buckets, snap.total)
        return [hist]


def install(app: FastAPI) -> None:
    """Add the /metrics route and the latency middleware, with a registry of this app's own."""
    registry = CollectorRegistry()
    requests = Histogram(
        "neocloud_api_request_seconds", "API request latency", ["method", "route"], registry=registry
    )
    admission = Histogram(
        "neocloud_admission_seconds",
        "Placement decision and its persistence (POST reservations/instances)",
        registry=registry,
    )
    registry.register(HealthCollector(app))
    registry.register(PlacementCollector(app))

    app.add_middleware(_TimeRequests, requests=requests, admission=admission)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        settings = getattr(request.app.state.services, "settings", None)
        if not getattr(settings, "metrics_public", False):
            _require_operator(request)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class _TimeRequests:
    """ASGI middleware observing each HTTP request's latency by method and route template. A plain ASGI
    class, not `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs every response through a
    memory stream and a task group of its own, which cost more CPU than a small request itself."""

    def __init__(self, app: ASGIApp, *, requests: Histogram, admission: Histogram) -> None:
        self.app = app
        self._requests = requests
        self._admission = admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            elapsed = time.perf_counter() - started
            path = getattr(scope.get("route"), "path", "unmatched")
            if scope.get("path", "").startswith("/v1/") and not path.startswith("/v1"):
                path = "/v1" + path  # routes of the versioned router carry their own path only
            method = scope.get("method", "")
            self._requests.labels(method, path).observe(elapsed)
            if method == "POST" and path in ADMISSION_PATHS:
                self._admission.observe(elapsed)


def _require_operator(request: Request) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret:
        raise Unauthenticated("missing bearer token: /metrics needs an operator token")
    cache: PrincipalCache = request.app.state.principals
    principal = cache.principal_for(secret, request.app.state.services.control.tenancy)
    if not principal.is_operator:
        raise Forbidden("/metrics needs the operator role")
