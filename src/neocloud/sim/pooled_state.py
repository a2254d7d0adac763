"""The pooled engine's state: running jobs, contracts as blocks, and pools of running jobs."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Run:
    product: int
    nodes: int
    start: float
    alive: bool = True
    noticed: bool = False
    promised_to: int = 0  # the waiting on-demand job its nodes go to at the end of the notice


@dataclass(slots=True)
class Contract:
    index: int
    nodes: int
    healthy: int = 0
    down: int = 0
    active: bool = False


@dataclass
class Pool:
    """Running jobs of one product, with O(1) removal, uniform picks and a bound on their sizes."""

    ids: list[int] = field(default_factory=list)
    pos: dict[int, int] = field(default_factory=dict)
    nodes: int = 0
    biggest: int = 1  # no job of the pool ever had more nodes: the bound of `_pick_job`'s rejection draw

    def add(self, jid: int, nodes: int) -> None:
        self.pos[jid] = len(self.ids)
        self.ids.append(jid)
        self.nodes += nodes
        self.biggest = max(self.biggest, nodes)

    def remove(self, jid: int, nodes: int) -> None:
        i = self.pos.pop(jid)
        last = self.ids.pop()
        if last != jid:
            self.ids[i] = last
            self.pos[last] = i
        self.nodes -= nodes


@dataclass(slots=True, eq=False)
class Swap:
    """A hot spare on its way to `contract`'s failed node, arriving at `until` unless it fails first."""

    contract: Contract
    until: float
    failed: bool = False
