"""`neocloud bench admission`: how fast the control plane admits reservations and reconciles them, on
the in-memory store, SQLite and PostgreSQL (a fresh schema, dropped afterwards).

Each repeat builds a fresh control plane over `nodes` 8-GPU H100 nodes, books `requests` whole-node
reservations back to back (every `nodes` requests fill one hour), then runs one reconcile pass. It
reports reservations admitted per second and milliseconds per lifecycle transition, median of repeats.
"""

from __future__ import annotations

import statistics
import time
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from neocloud.bootstrap import build_services, scratch_settings
from neocloud.control.app.views import ReservationRequest
from neocloud.fleet.fleet import Fleet, Node
from neocloud.infra.clock import ManualClock
from neocloud.kernel.ids import NodeId

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NODES_PER_SU = 32


@dataclass(frozen=True)
class AdmissionResult:
    store: str
    nodes: int
    requests: int
    reserve_per_s: float
    reserve_runs: list[float]
    reconcile_ms_per_transition: float


def bench_fleet(nodes: int) -> Fleet:
    return Fleet.build(
        "bench",
        [
            Node(
                NodeId(f"n{i:05d}"),
                "H100",
                8,
                64_000,
                256_000,
                rack=f"rack-{i}",
                nvlink=f"nvl-{i}",
                su=f"su-{i // NODES_PER_SU}",
            )
            for i in range(nodes)
        ],
    )


def run_once(kind: str, nodes: int, requests: int, postgres_url: str | None) -> tuple[float, float]:
    """(reservations admitted per second, ms per reconcile transition) for one fresh control plane,
    wired by bootstrap as production is (so each admission also prices through the billing catalog)."""
    clock = ManualClock(START)
    with (
        scratch_settings(kind, postgres_url) as settings,
        closing(
            build_services(
                replace(settings, default_quota_gpus=None), clock=clock
            )  # measure admission, not quotas
        ) as services,
    ):
        control = services.control
        control.fleet.import_fleet(bench_fleet(nodes))
        control.tenancy.create_tenant("bench")
        _, secret = control.tenancy.create_token("bench", "tenant-member")
        who = control.tenancy.authenticate(secret)
        t0 = time.perf_counter()
        for i in range(requests):
            control.reservations.reserve(
                who, ReservationRequest("H100", 8, 1, start=START + timedelta(hours=i // nodes))
            )
        rate = requests / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        report = control.reconcile(max_items=requests)
        per = (time.perf_counter() - t0) * 1000 / max(report.total, 1)
    return rate, per


def run(
    kind: str, nodes: int, requests: int, repeats: int, postgres_url: str | None = None
) -> AdmissionResult:
    runs = [run_once(kind, nodes, requests, postgres_url) for _ in range(repeats)]
    rates = [r for r, _ in runs]
    return AdmissionResult(
        kind, nodes, requests, statistics.median(rates), rates, statistics.median(p for _, p in runs)
    )
