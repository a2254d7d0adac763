"""What a fleet amounts to: GPUs by model, counts of every topology level, switches and power."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from neocloud.fleet.fleet import Fleet
from neocloud.fleet.topology import Level


@dataclass(frozen=True, slots=True)
class FleetSummary:
    """Counts are of topology domains (an NVL72 rack is one rack and one NVLink domain); switch counts
    are those the fabrics declare. Power is in MW: IT (racks' budgets, else nodes' maximum draw) and
    facility (IT times each hall's PUE)."""

    name: str
    gpus: int
    gpus_by_model: dict[str, int]
    nodes: int
    nvlink_domains: int
    racks: int
    leaf_groups: int
    sus: int
    fabrics: int
    halls: int
    sites: int
    leaf_switches: int
    spine_switches: int
    it_power_mw: float
    facility_power_mw: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fleet_summary(fleet: Fleet) -> FleetSummary:
    topo = fleet.topology
    return FleetSummary(
        name=fleet.name,
        gpus=fleet.gpu_count(),
        gpus_by_model=dict(sorted(fleet.gpus_by_model().items())),
        nodes=len(fleet.nodes),
        nvlink_domains=topo.count(Level.NVLINK),
        racks=topo.count(Level.RACK),
        leaf_groups=topo.count(Level.LEAF),
        sus=topo.count(Level.SU),
        fabrics=topo.count(Level.FABRIC),
        halls=topo.count(Level.HALL),
        sites=topo.count(Level.SITE),
        leaf_switches=sum(f.leaf_switches for f in fleet.fabrics),
        spine_switches=sum(f.spine_switches for f in fleet.fabrics),
        it_power_mw=fleet.it_power_kw() / 1000,
        facility_power_mw=fleet.facility_power_kw() / 1000,
    )
