"""The node table read as columns: the port the fleet map's cold path reads (one query, no Node object
per node). SQL: control/adapters/sql/node_table.py; any store: fleetmap.StoreNodeTable."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from neocloud.fleet.fleet import Node

PATH_COLUMNS = ("nvlink", "rack", "leaf", "su", "fabric", "hall", "site")


@dataclass(frozen=True, slots=True)
class NodeColumns:
    """The node table as columns, one entry per node, in any order."""

    id: Sequence[str]
    model: Sequence[str]
    gpus: Sequence[int]
    nvlink: Sequence[str]
    rack: Sequence[str]
    leaf: Sequence[str]
    su: Sequence[str]
    fabric: Sequence[str]
    hall: Sequence[str]
    site: Sequence[str]

    @staticmethod
    def of(nodes: Sequence[Node]) -> NodeColumns:
        return NodeColumns(
            [n.id for n in nodes],
            [n.model for n in nodes],
            [n.gpus for n in nodes],
            *([getattr(n, c) for n in nodes] for c in PATH_COLUMNS),
        )


class NodeTable(Protocol):
    """Reads the whole node table as columns (the fleet map's cold path: no object per node)."""

    def node_columns(self) -> NodeColumns: ...
