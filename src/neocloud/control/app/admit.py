"""Admit: the one entry point the products use (reservations and instances) to turn a request into an
allocation.

`admit` resolves the project, honours the idempotency key (the database's unique constraint on it
decides a race between two requests with one key), checks quota (under the tenant's lock), decides (pure
placement on a capacity snapshot, `admission.decide`), locks the nodes it chose and checks they are
still free (where the claim alone does not prove it), and persists, all in one unit of work. Decisions on
different nodes never wait for each other; PostgreSQL's exclusion constraint on bookings is the last
guard."""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime

from neocloud.control.app.access import resolve_project
from neocloud.control.app.admission import (
    OPEN_ENDED_SPANS,
    Admission,
    Seen,
    check_quota,
    decide,
    earliest,
    persist,
    unschedulable,
)
from neocloud.control.app.deps import KEY_MAX, Deps
from neocloud.control.app.placement_timing import TimedPlacer
from neocloud.control.app.ports import KeyTaken, UnitOfWork
from neocloud.control.domain.allocations import Allocation
from neocloud.control.domain.shapes import Shape
from neocloud.control.domain.tenancy import Principal
from neocloud.kernel.errors import IdempotencyConflict, InvalidInput
from neocloud.kernel.gpus import GpuModel, gpu_model
from neocloud.kernel.ids import AllocationId
from neocloud.kernel.products import Product
from neocloud.placement.framework import Unschedulable


@dataclass(frozen=True, slots=True)
class AdmissionRequest:
    """One request for capacity as the products phrase it: `gpus` of `model` in `shape` over
    [start, end) (end None: until stopped), priced `price_minor` in the price book's currency."""

    product: Product
    model: str
    shape: Shape
    gpus: int
    start: datetime
    end: datetime | None
    price_minor: int
    project: str | None = None
    idempotency_key: str | None = None
    nodes_requested: int = 0
    asked: tuple[tuple[str, str], ...] = ()
    """The request's own words that the fields above do not keep (an instant as given, the hours), for
    the idempotency digest: the same key with another request is a Conflict, not the first answer."""

    def digest(self, project_id: str) -> str:
        """sha256 of the canonical request: product, model, shape, GPUs, nodes, project and what was asked."""
        canonical = {
            "product": self.product.value,
            "model": self.model,
            "shape": self.shape.value,
            "gpus": self.gpus,
            "nodes": self.nodes_requested,
            "project": project_id,
            **dict(self.asked),
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


_PREFIX = {Product.RESERVED: "rsv", Product.ON_DEMAND: "ins", Product.SPOT: "spt"}


def admit(deps: Deps, principal: Principal, req: AdmissionRequest, now: datetime) -> Allocation:
    """Place and record `req` for `principal`'s project, or raise Conflict with the engine's reasons
    (QuotaExceeded past a quota). The same idempotency key from the same tenant returns the first
    allocation; reused for a different request, IdempotencyConflict.

    Two requests with one key at once: both may decide, and the database's unique constraint on (tenant,
    key) lets one allocation in; the other's insert waits for the winner's commit, fails (KeyTaken), and
    that request starts again, to find the winner's allocation and answer as for any reused key."""
    key = req.idempotency_key
    if key is not None and not 0 < len(key) <= KEY_MAX:
        raise InvalidInput(f"an idempotency key has 1..{KEY_MAX} characters")
    model = gpu_model(req.model)
    try:
        outcome = _admit_once(deps, principal, req, model, now)
    except KeyTaken:
        outcome = _admit_once(deps, principal, req, model, now)  # finds the allocation that took the key
    if isinstance(outcome, Allocation):
        return outcome
    # Out of the unit of work (it held the write lock): when would it fit?
    duration = (req.end - req.start) if req.end is not None else OPEN_ENDED_SPANS[-1]
    fit = earliest(deps, model, req.shape, req.gpus, req.start, duration, now)
    raise unschedulable(outcome, f"{req.gpus} {model.name} GPUs ({req.shape.value}) do not fit", fit.start)


def _admit_once(
    deps: Deps, principal: Principal, req: AdmissionRequest, model: GpuModel, now: datetime
) -> Allocation | Unschedulable:
    """One unit of work: the allocation made (or found under the key), or why it does not fit."""
    key = req.idempotency_key
    with deps.inflight.holding() as held, deps.uow() as uow:
        project = resolve_project(uow, principal, req.project)
        digest = req.digest(project.id) if key is not None else None
        quotas = [q for q in uow.quotas(project.tenant_id) if q.model == model.name]
        if quotas:
            uow.lock_tenant(project.tenant_id)  # one tenant's quota-bound decisions, one at a time
        if key is not None and (done := uow.allocation_by_key(project.tenant_id, key)) is not None:
            return _same_request(done, req, model.name, key, digest)
        alloc, first = Allocation.new(
            AllocationId(deps.ids.new_id(_PREFIX[req.product])),
            project.tenant_id,
            project.id,
            req.product,
            model.name,
            req.gpus,
            req.start,
            req.end,
            at=now,
            nodes_requested=req.nodes_requested,
            shape=req.shape.value,
            price_minor=req.price_minor,
            currency=deps.prices.currency(),
            idempotency_key=key,
            request_digest=digest,
        )
        if quotas:
            check_quota(uow, alloc, quotas)
        rng = random.Random(alloc.id)
        verdict = _claimed_decision(uow, deps, req, model, now, rng, held)
        if isinstance(verdict, Admission):
            placed = persist(uow, alloc, [first], verdict, now=now, notice=deps.spot_notice)
            uow.commit()
            return placed
        return verdict


CLAIM_ROUNDS = 10
BACKOFF_S = 0.002  # doubled each round it backs off: at most ~1 s in all


def _claimed_decision(
    uow: UnitOfWork,
    deps: Deps,
    req: AdmissionRequest,
    model: GpuModel,
    now: datetime,
    rng: random.Random,
    held: list[str],
) -> Admission | Unschedulable:
    """The claim rounds below, timed as one decision: one observation of the placement latency
    histogram per admission, whatever the rounds it took. The nodes it claims are added to `held`
    (this process's in-flight nodes, control/app/inflight.py) until its unit of work ends."""
    timed = TimedPlacer(deps.placer)
    try:
        return _claim_rounds(uow, deps, timed, req, model, now, rng, held)
    finally:
        deps.placement_timings.observe(req.product.value, timed.seconds)


def _claim_rounds(
    uow: UnitOfWork,
    deps: Deps,
    timed: TimedPlacer,
    req: AdmissionRequest,
    model: GpuModel,
    now: datetime,
    rng: random.Random,
    held: list[str],
) -> Admission | Unschedulable:
    """Decide, then lock the nodes the decision books and check that nothing was booked on them since
    it read the bookings; decide again if it was.

    Nodes another decision holds right now are skipped (SKIP LOCKED), so concurrent decisions spread
    over different nodes instead of queueing behind one lock. When the only fit is on held nodes, the
    decision backs off briefly (their holders commit in milliseconds) and decides again on a fresh read;
    only its last round waits for the nodes it chose (bounded by the database's lock timeout), so a
    burst racing for the last capacity resolves into admissions and clear Conflicts, not lock chains.

    The first round already leaves out the nodes other admissions of this process hold (they would fail
    the claim: control/app/inflight.py); nodes it claims are added to `held`.

    A bounded request reads the fleet, node states and taken GPUs once (`Seen`), and the rounds after a
    lost claim decide again on those reads without the nodes it lost: a lost claim costs one statement,
    not three. A claim whose check finds the nodes booked meanwhile replaces what was seen of them by
    what the check read under their locks; a decision that then books only such nodes needs no claim
    or check again. Its last round, and a round after backing off, read afresh."""

    def decide_on(
        excluded: set[str] | None, reads: Seen | None, *, held_only: bool = False
    ) -> Admission | Unschedulable:
        """`decide` for this request on `reads`, leaving out `excluded`; `held_only`: the decision on the
        nodes it holds, as they are (no preemption, no later start)."""
        return decide(
            uow,
            timed,
            model,
            req.shape,
            req.gpus,
            req.start,
            req.end,
            now=now,
            notice=deps.spot_notice,
            rng=rng,
            preempt=not held_only and req.product is not Product.SPOT,
            may_shift=not held_only and req.product is Product.ON_DEMAND,
            fleets=deps.fleets,
            excluded=excluded,
            seen=reads,
        )

    excluded: set[str] = deps.inflight.held()
    bounded = req.end is not None
    seen = Seen()
    current: set[str] = set()  # claimed nodes whose bookings `seen` has from after their claim
    for round_ in range(CLAIM_ROUNDS):
        last = round_ == CLAIM_ROUNDS - 1
        if last:
            seen = Seen()  # what it waits for, it decides on a fresh read (nodes it holds stay current)
        verdict = decide_on(None if last else excluded, seen if bounded else None)
        if not isinstance(verdict, Admission):
            if excluded and not last:
                excluded = set()  # the nodes others hold may be the only fit: look again once they commit
                seen, current = Seen(), set()  # on a fresh read
                time.sleep(BACKOFF_S * 2**round_)
                continue
            return verdict
        chosen = sorted({n for n, _ in verdict.gpus()})
        if _current(verdict, req, current):
            return verdict  # only nodes it holds, decided on their bookings as read under its locks
        # held from now until this unit of work ends, claimed or not: this process's other decisions
        # leave them out at once (one lost here is busy in another process: as well left out too)
        held.extend(deps.inflight.add(n for n in chosen if n not in held))
        claimed = uow.claim_nodes(chosen, wait=last)
        if claimed != set(chosen):
            # on the same reads, without the nodes it could not claim nor those this process's other
            # admissions hold by now (they claimed them meanwhile: they would be lost claims too)
            excluded |= (set(chosen) - claimed) | (deps.inflight.held() - set(held))
            continue
        if uow.claims_are_current:
            return verdict
        free, now_taken = _still_free(uow, verdict, req.end, model.name)
        if free:
            return verdict
        if bounded and verdict.start == req.start and verdict.until is None and not verdict.victims:
            seen.refresh(chosen, now_taken)  # decide again with what these nodes hold now
            current |= set(chosen)
        else:
            seen, current = Seen(), set()
    if current and seen.fleet is not None:  # the rounds are spent: what fits on the nodes it holds
        elsewhere = {str(n.id) for n in seen.fleet.nodes} - current  # (as read under their locks) still does
        verdict = decide_on(elsewhere, seen, held_only=True)
        if isinstance(verdict, Admission) and _current(verdict, req, current):
            return verdict
    return Unschedulable({"contended": 1}, "capacity is contended by concurrent requests; retry")


def _current(adm: Admission, req: AdmissionRequest, current: set[str]) -> bool:
    """Whether `adm` books over the request's own window only nodes whose bookings over it were read
    after this unit of work claimed them (so the decision saw everything booked on them, and no claim or
    check is needed again)."""
    return (
        req.end is not None
        and bool(current)
        and adm.start == req.start
        and adm.until is None
        and not adm.victims
        and {n for n, _ in adm.gpus()} <= current
    )


def _still_free(
    uow: UnitOfWork, adm: Admission, end: datetime | None, model: str
) -> tuple[bool, dict[str, set[int]]]:
    """Whether the GPUs `adm` books are still free over its window, reading after the claim (so current),
    and the GPU slots taken over that window on its nodes now (by anyone but its victims)."""
    mine = set(adm.gpus())
    victims = {v.id for v in adm.victims}
    until = adm.until if adm.until is not None else end
    nodes = sorted({n for n, _ in mine})
    taken: dict[str, set[int]] = {}
    for b in uow.bookings(model, adm.start, until, nodes=nodes):
        if b.allocation_id not in victims and b.overlaps(adm.start, until):
            taken.setdefault(b.node_id, set()).add(b.slot)
    return not any(slot in taken.get(n, ()) for n, slot in mine), taken


def _same_request(
    done: Allocation, req: AdmissionRequest, model: str, key: str, digest: str | None
) -> Allocation:
    """The stored allocation for a reused idempotency key, if it was made from the same canonical request
    (every field, compared by digest); IdempotencyConflict otherwise. Allocations stored before digests
    were kept compare by product, model, GPUs and shape."""
    if done.request_digest is not None:
        same = done.request_digest == digest
    else:
        same = (done.product, done.model, done.gpus, done.shape) == (
            req.product,
            model,
            req.gpus,
            req.shape.value,
        )
    if not same:
        raise IdempotencyConflict(
            f"idempotency key {key!r} was used for a different request ({done.id})",
            details={"idempotency_key": key, "existing": done.id},
        )
    return done
