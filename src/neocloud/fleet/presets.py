"""Fleet presets: reference designs generated from a few parameters.

`build("h100-su", sus=2)` returns a `Fleet`; `PRESETS` lists them with their parameters. Every hardware,
fabric and power figure comes from `domain.reference`. Nodes are generated already grouped by hall,
fabric, scalable unit, rack and NVLink domain, so `Fleet.build` keeps their order.

Naming: halls `h1`, fabrics `h1-f1`, scalable units `h1-f1-su01`, racks `h1-f1-su01-r1`, nodes
`…-r1-n1` (HGX) or `…-r1-t01` (NVL72 compute trays). In both designs a scalable unit is one leaf group:
rail-optimised H100 SUs connect every node to all 8 of the SU's leaves, and GB200 SUs have their own leaves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from neocloud.fleet.fleet import Fabric, Fleet, Hall, Node, Rack
from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.gpus import CATALOG
from neocloud.kernel.ids import NodeId

Number = int | float


@dataclass(frozen=True, slots=True)
class Param:
    """One preset parameter: integer or real, with a default and an inclusive range."""

    name: str
    default: Number
    minimum: Number
    maximum: Number
    help: str

    def coerce(self, preset: str, value: object) -> Number:
        kind = type(self.default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(
                f"preset {preset!r}: parameter {self.name!r} must be a number, got {value!r}",
                details={"param": self.name},
            )
        if kind is int and value != int(value):
            raise InvalidInput(
                f"preset {preset!r}: parameter {self.name!r} must be a whole number",
                details={"param": self.name},
            )
        number: Number = int(value) if kind is int else float(value)
        if not self.minimum <= number <= self.maximum:
            raise InvalidInput(
                f"preset {preset!r}: parameter {self.name!r} must be in {self.minimum}..{self.maximum}, got {value}",
                details={"param": self.name},
            )
        return number


@dataclass(frozen=True, slots=True)
class Preset:
    name: str
    description: str
    params: tuple[Param, ...]
    make: Callable[[Mapping[str, Number]], Fleet]


class _Layout:
    """Accumulates halls, fabrics, racks and nodes in topology order."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.racks: list[Rack] = []
        self.halls: list[Hall] = []
        self.fabrics: list[Fabric] = []

    def hall(self, name: str, pue: float, budget_mw: float | None = None) -> str:
        self.halls.append(Hall(name, pue, budget_mw))
        return name

    def hgx_su(self, hall: str, fabric: str, su: str, model: str = "H100") -> None:
        """One DGX SuperPOD scalable unit: 32 nodes of 8 GPUs, 4 per rack, one rail-optimised leaf group."""
        gpu = CATALOG[model]
        per_rack = ref.DGX_H100_NODES_PER_RACK
        for r in range(math.ceil(ref.H100_SU_NODES / per_rack)):
            rack = f"{su}-r{r + 1}"
            in_rack = min(per_rack, ref.H100_SU_NODES - r * per_rack)
            self.racks.append(Rack(rack, hall, round(in_rack * gpu.node_max_kw, 3)))
            for n in range(in_rack):
                name = f"{rack}-n{n + 1}"
                self.nodes.append(
                    Node(
                        NodeId(name),
                        model,
                        gpu.gpus_per_node,
                        ref.DGX_H100_CPU_CORES * 1000,
                        ref.DGX_H100_MEMORY_GIB * 1024,
                        rack=rack,
                        nvlink=name,
                        leaf=f"{su}-leaf",
                        su=su,
                        fabric=fabric,
                        hall=hall,
                    )
                )

    def nvl72_su(self, hall: str, fabric: str, su: str, racks: int) -> None:
        """A GB200 scalable unit of `racks` NVL72 racks (18 trays x 4 GPUs, each rack one NVLink domain).

        A rack's power budget is its share of the SU's ≈1.2 MW, which includes the SU's switches."""
        gpu = CATALOG["GB200"]
        rack_kw = ref.GB200_SU_MW * 1000 / ref.GB200_SU_RACKS
        cpu, mem = ref.GB200_TRAY_CPU_CORES * 1000, ref.GB200_TRAY_MEMORY_GIB * 1024
        leaf = f"{su}-leaf"
        for r in range(racks):
            rack = f"{su}-r{r + 1}"
            self.racks.append(Rack(rack, hall, rack_kw))
            for t in range(ref.NVL72_TRAYS_PER_RACK):
                self.nodes.append(
                    Node(
                        NodeId(f"{rack}-t{t + 1:02d}"),
                        "GB200",
                        gpu.gpus_per_node,
                        cpu,
                        mem,
                        rack=rack,
                        nvlink=rack,
                        leaf=leaf,
                        su=su,
                        fabric=fabric,
                        hall=hall,
                    )
                )

    def gb200_fabrics(self, hall: str, sus: int, racks_per_su: int = ref.GB200_SU_RACKS) -> None:
        """`sus` GB200 SUs in `hall`, in fabrics of at most the largest SuperPOD design (16 SUs)."""
        per_fabric = ref.GB200_SUPERPOD_MAX_RACKS // ref.GB200_SU_RACKS
        for f in range(math.ceil(sus / per_fabric)):
            fabric = f"{hall}-f{f + 1}"
            self.fabrics.append(Fabric(fabric, hall))
            for s in range(f * per_fabric, min(sus, (f + 1) * per_fabric)):
                self.nvl72_su(hall, fabric, f"{fabric}-su{s - f * per_fabric + 1:02d}", racks_per_su)

    def h100_fabric(self, hall: str, fabric: str, sus: int) -> None:
        self.fabrics.append(Fabric(fabric, hall, sus * ref.H100_SU_LEAVES, sus * ref.H100_SU_SPINES))
        for s in range(sus):
            self.hgx_su(hall, fabric, f"{fabric}-su{s + 1:02d}")

    def fleet(self, name: str) -> Fleet:
        return Fleet.build(name, self.nodes, self.racks, self.halls, self.fabrics)


def _h100_su(p: Mapping[str, Number]) -> Fleet:
    lay = _Layout()
    hall = lay.hall("h1", float(p["pue"]))
    lay.h100_fabric(hall, f"{hall}-f1", int(p["sus"]))
    return lay.fleet("h100-su")


def _gb200_superpod(p: Mapping[str, Number]) -> Fleet:
    lay = _Layout()
    lay.gb200_fabrics(lay.hall("h1", float(p["pue"])), int(p["sus"]))
    return lay.fleet("gb200-superpod")


def campus_sus(power_mw: float, pue: float) -> int:
    """How many GB200 SUs (≈1.2 MW of IT power each) a facility of `power_mw` feeds at `pue`."""
    return int(power_mw / pue / ref.GB200_SU_MW)


def _campus(p: Mapping[str, Number]) -> Fleet:
    pue, power_mw, halls = float(p["pue"]), float(p["power_mw"]), int(p["halls"])
    sus = campus_sus(power_mw, pue)
    if sus < halls:
        raise InvalidInput(
            f"preset 'campus-1gw': {power_mw} MW at PUE {pue} feeds {sus} SUs, fewer than {halls} halls"
        )
    lay = _Layout()
    for h in range(halls):
        hall = lay.hall(f"h{h + 1}", pue, power_mw / halls)
        lay.gb200_fabrics(hall, sus // halls + (1 if h < sus % halls else 0))
    return lay.fleet("campus-1gw")


def _demo(p: Mapping[str, Number]) -> Fleet:
    lay = _Layout()
    hall = lay.hall("h1", float(p["pue"]))
    fabric = f"{hall}-f1"
    lay.fabrics.append(Fabric(fabric, hall))
    lay.nvl72_su(hall, fabric, f"{fabric}-su01", int(p["gb200_racks"]))
    if p["h100_sus"]:
        lay.h100_fabric(hall, f"{hall}-f2", int(p["h100_sus"]))
    return lay.fleet("demo")


_PUE = Param("pue", ref.PUE_MODERN_AI_HALL, 1.0, 3.0, "power usage effectiveness of the halls")
_MAX_SUPERPOD_SUS = ref.GB200_SUPERPOD_MAX_RACKS // ref.GB200_SU_RACKS

PRESETS: Mapping[str, Preset] = MappingProxyType(
    {
        p.name: p
        for p in (
            Preset(
                "h100-su",
                "DGX SuperPOD H100 scalable units: 32 nodes x 8 H100 each, 8 leaves + 4 spines",
                (Param("sus", 1, 1, ref.B200_SUPERPOD_MAX_SUS, "scalable units"), _PUE),
                _h100_su,
            ),
            Preset(
                "gb200-superpod",
                "GB200 SuperPOD: SUs of 8 NVL72 racks (576 GPUs), 16 SUs per fabric",
                (Param("sus", 4, 1, 4 * _MAX_SUPERPOD_SUS, "scalable units"), _PUE),
                _gb200_superpod,
            ),
            Preset(
                "campus-1gw",
                "A 1 GW facility filled with GB200 NVL72 racks in halls and fabrics",
                (
                    _PUE,
                    Param(
                        "power_mw",
                        ref.CAMPUS_1GW_FACILITY_MW,
                        1.0,
                        2 * ref.CAMPUS_1GW_FACILITY_MW,
                        "facility power in MW",
                    ),
                    Param("halls", 8, 1, 64, "halls (power domains)"),
                ),
                _campus,
            ),
            Preset(
                "demo",
                "A small GB200 NVL72 SuperPOD plus one H100 SU, for the control plane's demo",
                (
                    Param("gb200_racks", 2, 1, ref.GB200_SU_RACKS, "NVL72 racks in the GB200 SU"),
                    Param("h100_sus", 1, 0, 4, "H100 scalable units"),
                    _PUE,
                ),
                _demo,
            ),
        )
    }
)


def build(name: str, **params: object) -> Fleet:
    """Generate preset `name`; unknown presets or parameters raise InvalidInput naming the known ones."""
    preset = PRESETS.get(name)
    if preset is None:
        raise InvalidInput(
            f"unknown fleet preset {name!r}; known: {', '.join(PRESETS)}", details={"known": list(PRESETS)}
        )
    known = {p.name: p for p in preset.params}
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise InvalidInput(
            f"preset {name!r} has no parameter {unknown[0]!r}; known: {', '.join(known)}",
            details={"param": unknown[0], "known": list(known)},
        )
    values = {k: p.coerce(name, params[k]) if k in params else p.default for k, p in known.items()}
    return preset.make(values)
