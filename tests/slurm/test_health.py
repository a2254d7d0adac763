"""Node health from the real Slurm: a node drained with a reason, and a node whose slurmd is gone,
are reported with Slurm's reason; healthy nodes are not."""

from __future__ import annotations

from datetime import UTC, datetime

from neocloud.bootstrap import SlurmSettings, slurm_health_source
from neocloud.kernel.health import Component, RecommendedAction, Severity
from tests.slurm.conftest import CONF, Cloud, run, wait_for


def test_a_drained_node_is_observed_with_its_reason(cloud: Cloud) -> None:
    source = slurm_health_source(SlurmSettings(conf=CONF))
    assert source.observe(datetime.now(UTC)) == []
    run(
        "scontrol",
        "update",
        "nodename=r2-n2",
        "state=drain",
        "reason=GPU Xid 79 fell off the bus",
        check=True,
    )
    try:
        (seen,) = source.observe(datetime.now(UTC))
        assert (seen.node, seen.code, seen.source) == ("r2-n2", "GPU Xid 79 fell off the bus", "slurm")
        assert (seen.component, seen.severity, seen.action) == (
            Component.GPU,
            Severity.WARNING,
            RecommendedAction.COMPONENT_RESET,
        )
        run("scontrol", "update", "nodename=r2-n1", "state=down", "reason=node unreachable", check=True)
        down = {o.node: o for o in source.observe(datetime.now(UTC))}
        assert set(down) == {"r2-n1", "r2-n2"}
        assert (down["r2-n1"].code, down["r2-n1"].severity) == ("node unreachable", Severity.CRITICAL)
    finally:
        run("scontrol", "update", "nodename=r2-n[1-2]", "state=resume", check=True)
    # resumed: not responding (`*`) until their slurmd next answers, then healthy
    wait_for("the resumed nodes to answer", lambda: source.observe(datetime.now(UTC)) == [])
