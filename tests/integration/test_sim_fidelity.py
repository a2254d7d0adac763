"""The proof that the simulator re-implements nothing: the control-plane calls of a simulated run,
replayed on a ManualClock against freshly built services (the same composition root, the memory store),
give the same ledger, the same invoices and the same allocations' lifecycles."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from neocloud.bootstrap import manual_clock
from neocloud.control.domain.tenancy import Principal, Role
from neocloud.kernel.errors import Conflict
from neocloud.kernel.ids import TenantId
from neocloud.kernel.periods import Period
from neocloud.sim.exact import ExactEngine, build, set_node_state
from neocloud.sim.model import Model
from neocloud.sim.scenarios import preset


def replay(engine: ExactEngine) -> Any:
    s = engine.m.scenario
    clock = manual_clock(s.start)
    services = build(clock)
    cp, billing = services.control, services.billing
    who: dict[str, Principal] = {}
    for t, op, args in engine.calls.items:
        clock.set(s.start + timedelta(seconds=t))
        if op == "import_fleet":
            cp.fleet.import_fleet(s.fleet())
        elif op == "create_tenant":
            view = cp.tenancy.create_tenant(args["name"])
            who[args["name"]] = Principal(f"sim-{args['name']}", Role.TENANT_MEMBER, TenantId(view.id))
        elif op == "set_node_state":
            set_node_state(cp, args["node"], args["state"])
        elif op == "reserve":
            with suppress(Conflict):
                cp.reservations.reserve(who[args["tenant"]], args["request"])
        elif op == "create_instance":
            with suppress(Conflict):  # refused as in the simulation (the calls list keeps those too)
                cp.instances.create_instance(who[args["tenant"]], args["request"])
        elif op == "stop_instance":
            with suppress(Conflict):
                cp.instances.stop_instance(who[args["tenant"]], args["id"])
        elif op == "reconcile":
            cp.reconcile(max_items=100_000)
        elif op == "meter":
            billing.meter()
        elif op == "meter_until_horizon":
            billing.meter(until=clock.now())
        elif op == "issue_credit":
            tenant = who[args["tenant"]].tenant_id
            assert tenant is not None
            billing.issue_credit(tenant, args["amount"], args["reason"])
        else:
            raise AssertionError(f"unknown call {op}")
    return services, who


@pytest.mark.parametrize("seed", [0, 7])
def test_a_simulated_run_and_its_replay_on_a_manual_clock_give_the_same_ledger(seed: int) -> None:
    s = preset("tiny")
    s = replace(s, failures=replace(s.failures, per_gpu_day=0.02)).with_days(3)
    engine = ExactEngine(Model(s, seed))
    engine.run()
    assert any(op == "stop_instance" for _, op, _ in engine.calls.items)
    assert any(op == "set_node_state" and a["state"] == "unhealthy" for _, op, a in engine.calls.items)
    assert any(op == "issue_credit" for _, op, _ in engine.calls.items) or seed != 0
    services, who = replay(engine)

    simulated = sorted(engine.billing.store.usage(), key=lambda e: e.id)
    replayed = sorted(services.billing.store.usage(), key=lambda e: e.id)
    assert simulated and simulated == replayed

    for name, principal in who.items():
        assert principal.tenant_id == engine.tenants[name]
        period = Period.month_of(s.start)
        a = engine.billing.preview(engine.tenants[name], period)
        b = services.billing.preview(principal.tenant_id, period)
        assert (a.lines, a.subtotal) == (b.lines, b.subtotal)

    with engine.store(read_only=True) as u1, services.control.deps.uow(read_only=True) as u2:
        for alloc_id in engine.jobs:
            assert [(e.to_state, e.at) for e in u1.events(alloc_id)] == [
                (e.to_state, e.at) for e in u2.events(alloc_id)
            ]
