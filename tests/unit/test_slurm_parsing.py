"""What the Slurm adapters read from Slurm's commands, and the pure job attribution, without Slurm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from neocloud.control.adapters.slurm.accounting import gpus_of
from neocloud.control.adapters.slurm.health import classify, component_of
from neocloud.control.adapters.slurm.reservations import SlurmReservation
from neocloud.control.app.ports import Grant
from neocloud.control.app.reconciler import Retries
from neocloud.control.domain.jobs import HeldWindow, JobSpan, attribute
from neocloud.kernel.health import Component, RecommendedAction, Severity
from neocloud.kernel.ids import AllocationId, NodeId, ProjectId, TenantId
from neocloud.kernel.products import Product

T = datetime(2026, 12, 1, 10, tzinfo=UTC)
LINE = (
    "ReservationName=nc-rsv_1 StartTime=2026-12-01T10:00:00 EndTime=2026-12-01T11:00:00 Duration=01:00:00 "
    "Nodes=r1-n[1-2] NodeCnt=2 CoreCnt=32 Features=(null) PartitionName=(null) Flags=SPEC_NODES "
    "TRES=cpu=32 Users=(null) Groups=(null) Accounts=prj_a Licenses=(null) State=ACTIVE BurstBuffer=(null)"
)


def test_a_reservation_line_parses_into_nodes_window_and_accounts():
    r = SlurmReservation.parse(LINE)
    assert (r.name, r.nodes, r.start, r.end) == ("nc-rsv_1", {"r1-n1", "r1-n2"}, T, T + timedelta(hours=1))
    assert (r.accounts, r.users, r.flags, r.state) == ({"prj_a"}, set(), {"SPEC_NODES"}, "ACTIVE")


def test_gpus_come_from_the_allocated_tres():
    assert gpus_of("billing=2,cpu=2,gres/gpu:h100=16,gres/gpu=16,mem=200M,node=2") == 16
    assert gpus_of("cpu=1,mem=100M,node=1") == 0


def test_slurm_states_map_to_severity_and_action():
    assert classify("idle", "") is None and classify("allocated", "") is None
    assert classify("drained", "GPU Xid 79") == (Severity.WARNING, RecommendedAction.COMPONENT_RESET)
    assert classify("draining", "admin") == (Severity.WARNING, RecommendedAction.NONE)
    assert classify("down*", "Not responding") == (Severity.CRITICAL, RecommendedAction.REBOOT)
    assert classify("idle*", "") == (Severity.CRITICAL, RecommendedAction.REBOOT)
    assert classify("fail", "bad dimm") == (Severity.CRITICAL, RecommendedAction.REPLACE)
    assert component_of("NVLink error") is Component.NVLINK and component_of("xid 48") is Component.GPU
    assert (
        component_of("IB link down") is Component.NETWORK and component_of("kernel panic") is Component.HOST
    )


def test_a_grant_ends_at_its_notice_when_that_comes_first():
    g = Grant(AllocationId("a"), TenantId("t"), ProjectId("p"), Product.SPOT, (NodeId("n"),), T, None)
    assert g.until is None
    assert Grant(
        g.allocation_id,
        g.tenant_id,
        g.project_id,
        g.product,
        g.nodes,
        T,
        T + timedelta(hours=2),
        T + timedelta(minutes=2),
    ).until == T + timedelta(minutes=2)


def test_retries_back_off_after_the_first_and_reset_on_success():
    r = Retries()
    assert r.failed("a", T) == (1, timedelta(0)) and not r.waiting("a", T)
    assert r.failed("a", T) == (2, timedelta(seconds=1)) and r.waiting("a", T)
    assert r.failed("a", T)[1] == timedelta(seconds=2)
    for _ in range(20):
        r.failed("a", T)
    assert r.failed("a", T)[1] == timedelta(seconds=60)  # capped
    r.succeeded("a")
    assert not r.waiting("a", T)


def window(alloc: str, tenant: str, nodes: set[str], hours: float) -> HeldWindow:
    return HeldWindow(alloc, tenant, frozenset(nodes), T, T + timedelta(hours=hours))


def job(tenant: str | None, nodes: set[str], start_h: float, end_h: float, gpus: int = 8) -> JobSpan:
    return JobSpan(
        "j", tenant, frozenset(nodes), gpus, T + timedelta(hours=start_h), T + timedelta(hours=end_h)
    )


def test_a_job_inside_its_tenants_window_is_all_inside():
    a = attribute(job("t", {"n1"}, 0.5, 1), [window("a1", "t", {"n1", "n2"}, 1)], T, T + timedelta(days=1))
    assert (a.allocation_id, a.gpu_seconds, a.inside_seconds, a.outside_seconds) == (
        "a1",
        8 * 1800,
        8 * 1800,
        0,
    )


def test_job_seconds_after_the_window_or_on_other_nodes_or_of_another_tenant_are_outside():
    w = [window("a1", "t", {"n1"}, 1)]
    late = attribute(job("t", {"n1"}, 0.5, 1.5), w, T, T + timedelta(days=1))
    assert (late.inside_seconds, late.outside_seconds) == (8 * 1800, 8 * 1800)
    elsewhere = attribute(job("t", {"n3"}, 0, 1), w, T, T + timedelta(days=1))
    assert (elsewhere.allocation_id, elsewhere.outside_seconds) == (None, 8 * 3600)
    theirs = attribute(job("u", {"n1"}, 0, 1), w, T, T + timedelta(days=1))
    assert theirs.outside_seconds == 8 * 3600


def test_a_job_is_clipped_to_the_period_asked():
    a = attribute(
        job("t", {"n1"}, 0, 1),
        [window("a1", "t", {"n1"}, 1)],
        T + timedelta(minutes=30),
        T + timedelta(days=1),
    )
    assert a.gpu_seconds == 8 * 1800
