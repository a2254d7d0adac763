"""What the exact engine needs around the services it drives: deterministic ids, the composition root's
services on the memory store, the record of every call it makes (for the replay on a ManualClock), and
the one way it changes a node's state."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from neocloud.control.domain.tenancy import Principal
from neocloud.kernel.ids import NodeId


class CountingIds:
    """Deterministic ids (`rsv_000001`…) so that a seed fixes every decision (admission seeds the
    placement's random choices with the allocation id)."""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._n):08d}"

    def secret(self) -> str:
        return f"nc_sim{next(self._n):032d}"


@dataclass(slots=True)
class SimJob:
    """An instance the engine started for a job of the demand, by its allocation id."""

    product: int
    gpus: int
    alloc_id: str
    principal: Principal
    started: bool = False
    alive: bool = True
    noticed: bool = False


@dataclass
class Calls:
    """Every control-plane call the engine made, with the instant: (seconds, name, arguments)."""

    items: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)

    def add(self, t: float, op: str, **args: Any) -> None:
        self.items.append((int(t), op, args))


def build(clock: Any) -> Any:
    """The services the simulator drives: the composition root's, on the memory store, with `clock`."""
    from neocloud.bootstrap import MEMORY, Settings, build_services

    settings = Settings(database_url=MEMORY, default_quota_gpus=None)
    return build_services(settings, clock=clock, ids=CountingIds())


def set_node_state(control: Any, node_id: str, state: str) -> None:
    """Tell placement what a node is ('ready' or why not) through the control plane's node use case
    (`control.nodes.set_node_states`, the port the health context pushes node states through), never
    the store's tables."""
    control.nodes.set_node_states({NodeId(node_id): state})
