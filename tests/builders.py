"""One-line fixtures: `fleet(node("a", gpus=8), node("b", model="T4", gpus=2))`."""

from __future__ import annotations

from neocloud.domain.capacity import Capacity
from neocloud.domain.fleet import Fleet, Node
from neocloud.domain.ids import NodeId


def node(
    name: str,
    *,
    model: str = "H100",
    gpus: int = 8,
    cpu: int = 64_000,
    mem: int = 256_000,
    rack: str | None = None,
    nvlink: str | None = None,
    leaf: str = "leaf-0",
    su: str = "su-0",
    fabric: str = "fabric-0",
    hall: str = "hall-0",
) -> Node:
    return Node(
        NodeId(name), model, gpus, cpu, mem, rack=rack or f"rack-{name}", nvlink=nvlink or f"nvl-{name}",
        leaf=leaf, su=su, fabric=fabric, hall=hall,
    )


def fleet(*nodes: Node, name: str = "test") -> Fleet:
    return Fleet.build(name, nodes)


def capacity(*nodes: Node) -> Capacity:
    return Capacity(fleet(*nodes))
