"""A quote's answer to "when would it fit, and may I": everything it reads in one read-only unit of work
(one connection), then the earliest-fit search outside it.

The reads are the tenant's quotas (and, when one applies to the model, the project and what the tenant
holds), the model's fleet (cached while the node set is unchanged: `admission.load_fleet`), the nodes'
states (read right after the node version, whose statement carries them on SQL: no round trip of their
own), and the bookings from the asked start on with which of them are live spot (they yield after the
notice period). The search then runs on those, as `admission.earliest` does for admission.
"""

from __future__ import annotations

import random
from datetime import datetime

from neocloud.control.app import admission
from neocloud.control.app.access import resolve_project
from neocloud.control.app.deps import QUOTE_HORIZON, Deps
from neocloud.control.app.ports import UnitOfWork
from neocloud.control.app.views import ReservationRequest
from neocloud.control.domain import calendar
from neocloud.control.domain.allocations import Allocation
from neocloud.control.domain.shapes import Shape, Window
from neocloud.control.domain.tenancy import Principal
from neocloud.kernel.errors import QuotaExceeded
from neocloud.kernel.gpus import GpuModel
from neocloud.kernel.ids import AllocationId
from neocloud.kernel.products import Product, State


def fit(
    deps: Deps,
    principal: Principal,
    request: ReservationRequest,
    model: GpuModel,
    shape: Shape,
    window: Window,
    now: datetime,
) -> calendar.Fit:
    """The earliest start >= the window's at which the request fits for its duration (up to
    QUOTE_HORIZON later), or why not: the quota's refusal over the asked window comes first, as
    `reserve` would say it."""
    duration = window.end - window.start
    with deps.uow(read_only=True) as uow:
        refused = quota_refusal(uow, principal, request, model.name, window, now)
        if refused is not None:
            return calendar.Fit(None, None, {"quota": 0}, refused.message)
        fleet = admission.load_fleet(uow, model.name, deps.fleets)
        if fleet is None:
            return calendar.Fit(None, None, {"gpu-model": 0}, f"the fleet has no {model.name} nodes")
        states = uow.node_states()  # next to the node version, which may have read them already
        bookings, spot = uow.bookings_yielding(model.name, window.start, now)
    return calendar.earliest_fit(
        deps.placer,
        fleet,
        calendar.yielding(bookings, spot, now + deps.spot_notice),
        model,
        shape,
        request.gpus,
        window.start,
        duration,
        random.Random(0),
        states,
        horizon=window.start + QUOTE_HORIZON,
    )


def quota_refusal(
    uow: UnitOfWork,
    principal: Principal,
    request: ReservationRequest,
    model: str,
    window: Window,
    now: datetime,
) -> QuotaExceeded | None:
    """What the quota says of the quoted request over its asked window (None: nothing against it), by
    the same check admission makes. A token without a tenant that names no project quotes for no one."""
    if principal.tenant_id is None and request.project is None:
        return None
    quotas = uow.quotas(principal.tenant_id) if principal.tenant_id is not None else None
    if quotas is not None and not any(q.model == model for q in quotas):
        return None  # no quota on the model: nothing to check (and no project to resolve)
    project = resolve_project(uow, principal, request.project)
    asked = Allocation(
        AllocationId("quote"),
        project.tenant_id,
        project.id,
        Product.RESERVED,
        model,
        request.gpus,
        window.start,
        window.end,
        State.REQUESTED,
        now,
    )
    try:
        admission.check_quota(uow, asked, quotas if project.tenant_id == principal.tenant_id else None)
    except QuotaExceeded as refused:
        return refused
    return None
