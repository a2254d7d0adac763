"""Planned node maintenance: a window over which a node's GPUs are held like a booking, so admission,
extensions and the capacity calendar never sell them (the health context plans them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from neocloud.control.domain.allocations import GpuBooking
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.ids import AllocationId, NodeId
from neocloud.kernel.periods import require_utc

PREFIX = "mnt_"


@dataclass(frozen=True, slots=True)
class NodeMaintenance:
    """Node `node_id` is unavailable over [start, end). `id` starts with 'mnt_'."""

    id: str
    node_id: NodeId
    start: datetime
    end: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        require_utc(self.start, "start")
        require_utc(self.end, "end")
        if self.end <= self.start:
            raise InvalidInput("a maintenance window must end after it starts")
        if not self.id.startswith(PREFIX):
            raise InvalidInput(f"a maintenance window's id starts with {PREFIX!r}")

    def bookings(self, gpus: int) -> list[GpuBooking]:
        """The window as bookings of every GPU of the node (the id stands where an allocation's would)."""
        return [
            GpuBooking(AllocationId(self.id), self.node_id, slot, self.start, self.end)
            for slot in range(gpus)
        ]
