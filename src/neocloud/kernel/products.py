"""The shared vocabulary of capacity: what is sold (`Product`) and where an allocation is in its life
(`State`). The control plane drives the lifecycle (its transition table is in
`neocloud.control.domain.allocations`); billing meters and prices by the same words.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

MAX_HOURS: Final = 24 * 366 * 3
"""The longest reservation the control plane books, extensions included (three years). The domain
enforces it; the wire schemas and the CLI read it from here."""


class Product(StrEnum):
    """What a tenant buys: capacity reserved over a window, on-demand nodes, or preemptible spot."""

    RESERVED = "reserved"
    ON_DEMAND = "on-demand"
    SPOT = "spot"


class State(StrEnum):
    """An allocation's lifecycle state."""

    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    ENDING = "ending"
    ENDED = "ended"
    FAILED = "failed"
    PREEMPTED = "preempted"
    CANCELLED = "cancelled"
