"""What every control-plane service shares: one explicit dependencies object, and paging.

`Deps` is built once by the composition root (bootstrap) and handed to each service; services hold
no other state. `fleets` caches each GPU model's `Fleet` keyed by the node set's version (see
`admission.load_fleet`), so a decision does not rebuild the topology tree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from neocloud.control.app.inflight import InFlight
from neocloud.control.app.placement_timing import PlacementTimings
from neocloud.control.app.ports import (
    AccessGuide,
    ClusterAccounts,
    IdSource,
    JobAccounting,
    PriceBook,
    Provisioner,
    UnitOfWorkFactory,
)
from neocloud.control.app.reconciler import Retries
from neocloud.control.app.views import MAX_PAGE, PageRequest
from neocloud.fleet.fleet import Fleet
from neocloud.kernel.clock import Clock
from neocloud.kernel.errors import InvalidInput
from neocloud.placement.framework import Placer

if TYPE_CHECKING:
    from neocloud.control.app.nodetable import NodeTable
    from neocloud.control.app.session_records import SessionRecords

DEFAULT_SPOT_NOTICE = timedelta(minutes=2)
QUOTE_HORIZON = timedelta(days=366)
BOOKING_HORIZON = timedelta(days=366)  # how far ahead a reservation may start (docs/capacity.md)
KEY_MAX = 200
CURSOR_MAX = 200
CALENDAR_DAYS = 7

FleetCache = dict[str, tuple[str, Fleet]]


@dataclass(frozen=True)
class Deps:
    """The ports and settings the control plane's use cases run on. `default_quota_gpus` is written as
    a new tenant's quotas: a number for every model of the GPU catalog, or a number per model named (None:
    no quota, i.e. unlimited; bootstrap's Settings default is a finite number)."""

    uow: UnitOfWorkFactory
    clock: Clock
    provisioner: Provisioner
    prices: PriceBook
    placer: Placer
    ids: IdSource
    spot_notice: timedelta = DEFAULT_SPOT_NOTICE
    fleets: FleetCache = field(default_factory=dict)
    default_quota_gpus: Mapping[str, int] | int | None = None
    retries: Retries = field(default_factory=Retries)  # the reconciler's backoff (reconciler.py)
    jobs: JobAccounting | None = None  # the cluster's job accounting (None: no cluster behind: the fake)
    cluster_accounts: ClusterAccounts | None = None  # the cluster's accounts and users (None: the fake)
    access: AccessGuide | None = None  # how tenants run on the cluster (None: the fake)
    placement_timings: PlacementTimings = field(default_factory=PlacementTimings)  # for /metrics
    inflight: InFlight = field(default_factory=InFlight)  # nodes this process's admissions hold (admit.py)
    node_table: NodeTable | None = None  # the node table as columns (None: from the units of work)
    sessions: SessionRecords | None = None  # console sessions (None: the console cannot sign in)
    auth_epoch: Callable[[], int] | None = None  # UnitOfWork.auth_epoch without one (None: from a uow)


def checked_page(page: PageRequest | None) -> PageRequest:
    page = page or PageRequest()
    if not 1 <= page.limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be in 1..{MAX_PAGE}", details={"limit": page.limit})
    if page.cursor is not None and not 0 < len(page.cursor) <= CURSOR_MAX:
        raise InvalidInput(
            "malformed cursor: pass back the next_cursor of the previous page", details={"field": "cursor"}
        )
    return page


def next_cursor(items: list[Any], limit: int, total_after: int) -> str | None:
    return str(items[-1].id) if items and len(items) == limit and total_after > limit else None
