"""Converge reads the cluster before what neocloud holds: a reservation another process makes after
neocloud's grants were read is not taken for one neocloud no longer holds (deleted, its jobs cancelled)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from neocloud.control.adapters.slurm.provisioner import SlurmProvisioner
from neocloud.control.adapters.slurm.reservations import SlurmReservation
from neocloud.control.app.ports import Grant
from neocloud.infra.clock import ManualClock

NOW = datetime(2026, 4, 1, tzinfo=UTC)


class Cluster:
    """The reservations Slurm has, and what was asked of it."""

    def __init__(self) -> None:
        self.reservations: dict[str, SlurmReservation] = {}
        self.deleted: list[str] = []

    def all(self) -> dict[str, SlurmReservation]:
        return dict(self.reservations)

    def get(self, name: str) -> SlurmReservation | None:
        return self.reservations.get(name)

    def delete(self, name: str) -> bool:
        self.deleted.append(name)
        return self.reservations.pop(name, None) is not None


class Commands:
    def require_controller(self) -> None:
        pass

    def run(self, *args: Any, **kw: Any) -> Any:
        return None


def test_a_reservation_made_after_the_grants_were_read_survives_the_pass() -> None:
    cluster = Cluster()
    prov = SlurmProvisioner(Commands(), ManualClock(NOW))  # type: ignore[arg-type]
    prov.reservations = cluster  # type: ignore[assignment]

    def grants() -> list[Grant]:
        # neocloud's holdings as read now (none); another process then admits rsv_new and makes nc-rsv_new
        cluster.reservations["nc-rsv_new"] = SlurmReservation.parse(
            "ReservationName=nc-rsv_new StartTime=2026-04-01T01:00:00 EndTime=2026-04-01T02:00:00 "
            "Nodes=h00 Accounts=prj_x"
        )
        return []

    done = prov.converge(grants, NOW)
    assert cluster.deleted == [] and done.deleted == ()
    assert "nc-rsv_new" in cluster.reservations
