"""The fleet description file: YAML an operator writes by hand (format: docs/fleet-file.md).

`load_fleet(path)` / `parse_fleet(text)` return a `Fleet` or raise `InvalidInput` whose message and
details name the file, the LINE and the field (`halls[0].fabrics[1].sus[0].racks[2].power_kw`): the
first problem found stops the load, so a bad file loads nothing. `dump_fleet(fleet)` writes the same
format back, with `count` shorthand for runs of identical nodes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml

from neocloud.fleet import presets
from neocloud.fleet.fleet import Fabric, Fleet, Hall, Node, Rack
from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.gpus import CATALOG
from neocloud.kernel.ids import NodeId

_REQUIRED: Any = object()
_TOP_KEYS = {"name", "site", "halls", "preset", "params"}


class _Field:
    """A YAML node with the dotted path that reaches it, for errors that name field and line."""

    def __init__(self, node: yaml.Node, path: str, source: str) -> None:
        self.node, self.path, self.source = node, path, source

    @property
    def line(self) -> int:
        return int(self.node.start_mark.line) + 1

    def fail(self, problem: str) -> NoReturn:
        where = self.path or "document"
        raise InvalidInput(
            f"{self.source}:{self.line}: {where}: {problem}",
            details={"file": self.source, "line": self.line, "field": where},
        )

    def mapping(self, allowed: set[str]) -> dict[str, _Field]:
        if not isinstance(self.node, yaml.MappingNode):
            self.fail("must be a mapping of keys to values")
        out: dict[str, _Field] = {}
        for key, value in self.node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            child = _Field(value, f"{self.path}.{name}" if self.path else str(name), self.source)
            if name not in allowed:
                _Field(key, child.path, self.source).fail(
                    f"unknown key; expected one of {', '.join(sorted(allowed))}"
                )
            if name in out:
                _Field(key, child.path, self.source).fail("key given twice")
            out[name] = child
        return out

    def items(self) -> Iterator[_Field]:
        if not isinstance(self.node, yaml.SequenceNode) or not self.node.value:
            self.fail("must be a non-empty list")
        for i, item in enumerate(self.node.value):
            yield _Field(item, f"{self.path}[{i}]", self.source)

    def scalar(self) -> Any:
        if not isinstance(self.node, yaml.ScalarNode):
            self.fail("must be a single value")
        return yaml.constructor.SafeConstructor().construct_object(self.node)


def _get(fields: dict[str, _Field], key: str, owner: _Field) -> _Field:
    if key not in fields:
        owner.fail(f"missing required key {key!r}")
    return fields[key]


def _text(fields: dict[str, _Field], key: str, owner: _Field, default: Any = _REQUIRED) -> str:
    if key not in fields and default is not _REQUIRED:
        return str(default)
    value = _get(fields, key, owner).scalar()
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value).strip() == "":
        fields[key].fail(f"must be a non-empty name, got {value!r}")
    return str(value)


def _number(
    fields: dict[str, _Field],
    key: str,
    owner: _Field,
    default: Any = _REQUIRED,
    *,
    whole: bool = False,
    minimum: float = 0,
) -> Any:
    if key not in fields and default is not _REQUIRED:
        return default
    value = _get(fields, key, owner).scalar()
    kind = "a whole number" if whole else "a number"
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (whole and not isinstance(value, int))
    ):
        fields[key].fail(f"must be {kind}, got {value!r}")
    if value < minimum:
        fields[key].fail(f"must be {kind} >= {minimum}, got {value}")
    return value


def _names(pattern: str, count: int, at: _Field) -> list[str]:
    """`count` names from a pattern with `{n}` (1-based), e.g. "r{n}" or "t{n:02d}"."""
    if count > 1 and "{n" not in pattern:
        at.fail(f"must contain {{n}} when count is {count}, e.g. {pattern}{{n}}")
    try:
        return [pattern.format(n=n) for n in range(1, count + 1)]
    except (KeyError, IndexError, ValueError) as exc:
        at.fail(f"is not a valid name pattern ({exc})")


@dataclass
class _Builder:
    source: str
    site: str
    nodes: list[Node]
    racks: list[Rack]
    halls: list[Hall]
    fabrics: list[Fabric]
    rack_lines: dict[str, int]

    def hall(self, f: _Field) -> None:
        keys = f.mapping({"name", "pue", "power_budget_mw", "fabrics"})
        name = _text(keys, "name", f)
        pue = _number(keys, "pue", f, ref.PUE_MODERN_AI_HALL, minimum=1.0)
        budget = _number(keys, "power_budget_mw", f, None)
        first_rack = len(self.racks)
        self.halls.append(Hall(name, float(pue), None if budget is None else float(budget)))
        for fab in _get(keys, "fabrics", f).items():
            self.fabric(fab, name)
        if budget is not None:
            need = sum(r.power_kw for r in self.racks[first_rack:]) * pue / 1000
            if need > budget:
                keys["power_budget_mw"].fail(
                    f"the hall's racks need {need:.3f} MW at PUE {pue}, over its budget of {budget} MW"
                )

    def fabric(self, f: _Field, hall: str) -> None:
        keys = f.mapping({"name", "leaf_switches", "spine_switches", "sus"})
        name = _text(keys, "name", f)
        self.fabrics.append(
            Fabric(
                name,
                hall,
                _number(keys, "leaf_switches", f, 0, whole=True),
                _number(keys, "spine_switches", f, 0, whole=True),
            )
        )
        for su in _get(keys, "sus", f).items():
            su_keys = su.mapping({"name", "racks"})
            su_name = _text(su_keys, "name", su)
            for rack in _get(su_keys, "racks", su).items():
                self.rack(rack, hall, name, su_name)

    def rack(self, f: _Field, hall: str, fabric: str, su: str) -> None:
        keys = f.mapping({"name", "count", "power_kw", "leaf", "nodes"})
        count = _number(keys, "count", f, 1, whole=True, minimum=1)
        names = _names(_text(keys, "name", f), count, keys["name"])
        power = _number(keys, "power_kw", f, None)
        leaf = _text(keys, "leaf", f, f"{su}-leaf")
        for rack in names:
            if rack in self.rack_lines:
                keys["name"].fail(f"rack {rack!r} is already declared on line {self.rack_lines[rack]}")
            self.rack_lines[rack] = f.line
            first = len(self.nodes)
            for group in _get(keys, "nodes", f).items():
                self.node_group(group, rack, leaf, su, fabric, hall)
            drawn = sum(CATALOG[n.model].node_max_kw for n in self.nodes[first:])
            self.racks.append(Rack(rack, hall, float(power) if power is not None else round(drawn, 3)))

    def node_group(self, f: _Field, rack: str, leaf: str, su: str, fabric: str, hall: str) -> None:
        keys = f.mapping({"model", "gpus", "cpu", "memory_gib", "count", "name", "id", "nvlink"})
        model = _text(keys, "model", f)
        if model not in CATALOG:
            keys["model"].fail(f"unknown GPU model {model!r}; known: {', '.join(sorted(CATALOG))}")
        gpu = CATALOG[model]
        gpus = _number(keys, "gpus", f, gpu.gpus_per_node, whole=True)
        cpu = _number(keys, "cpu", f, whole=True, minimum=1)
        memory = _number(keys, "memory_gib", f, whole=True, minimum=1)
        count = _number(keys, "count", f, 1, whole=True, minimum=1)
        names = [f"{rack}-{n}" for n in _names(_text(keys, "name", f, "n{n}"), count, keys.get("name", f))]
        if "id" in keys:
            if count != 1 or "name" in keys:
                keys["id"].fail("a node with an explicit id takes neither 'count' nor 'name'")
            names = [_text(keys, "id", f)]
        shared = gpu.nvlink_domain > gpu.gpus_per_node
        nvlink = _text(keys, "nvlink", f, "rack" if shared else "node")
        for node_id in names:
            domain = {"node": node_id, "rack": rack}.get(nvlink, nvlink)
            self.nodes.append(
                Node(
                    NodeId(node_id),
                    model,
                    gpus,
                    cpu * 1000,
                    memory * 1024,
                    rack=rack,
                    nvlink=domain,
                    leaf=leaf,
                    su=su,
                    fabric=fabric,
                    hall=hall,
                    site=self.site,
                )
            )


def parse_fleet(text: str, source: str = "<fleet>") -> Fleet:
    """Read a fleet description; any problem raises InvalidInput naming source, line and field."""
    try:
        root = yaml.compose(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 0
        raise InvalidInput(
            f"{source}:{line}: not valid YAML: {exc.problem}",
            details={"file": source, "line": line, "field": "document"},
        ) from exc
    if root is None:
        raise InvalidInput(
            f"{source}:1: the file is empty", details={"file": source, "line": 1, "field": "document"}
        )
    doc = _Field(root, "", source)
    top = doc.mapping(_TOP_KEYS)
    if "preset" in top:
        return _from_preset(top, doc, source)
    name = _text(top, "name", doc, Path(source).stem)
    b = _Builder(source, _text(top, "site", doc, "site-0"), [], [], [], [], {})
    for hall in _get(top, "halls", doc).items():
        b.hall(hall)
    try:
        return Fleet.build(name, b.nodes, b.racks, b.halls, b.fabrics)
    except InvalidInput as exc:
        doc.fail(exc.message)


def _from_preset(top: dict[str, _Field], doc: _Field, source: str) -> Fleet:
    if "halls" in top:
        top["halls"].fail("give either 'preset' or 'halls', not both")
    name = _text(top, "preset", doc)
    params = (
        top["params"].mapping({p.name for p in presets.PRESETS[name].params})
        if ("params" in top and name in presets.PRESETS)
        else {}
    )
    try:
        fleet = presets.build(name, **{k: v.scalar() for k, v in params.items()})
    except InvalidInput as exc:
        field = params.get(str(exc.details.get("param")), top["preset"])
        field.fail(exc.message)
    if "name" in top:
        fleet = Fleet(
            _text(top, "name", doc), fleet.nodes, fleet.racks, fleet.halls, fleet.models, fleet.fabrics
        )
    return fleet


def load_fleet(path: Path) -> Fleet:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(
            f"cannot read fleet file {path}: {exc.strerror}", details={"file": str(path)}
        ) from exc
    return parse_fleet(text, str(path))


_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


def _pattern(rack: str, nodes: list[Node]) -> tuple[str, int]:
    """The `name` pattern and count that regenerate the ids of a run of nodes, or (literal, 1);
    (id, 0) for a node whose id does not start with its rack's name."""
    suffix = nodes[0].id.removeprefix(f"{rack}-")
    if suffix == nodes[0].id:
        return suffix, 0
    m = _TRAILING_NUMBER.match(suffix)
    if m and int(m.group(2)) == 1:
        width = len(m.group(2))
        pattern = f"{m.group(1)}{{n:0{width}d}}" if width > 1 else f"{m.group(1)}{{n}}"
        run = 0
        while run < len(nodes) and nodes[run].id == f"{rack}-{pattern.format(n=run + 1)}":
            run += 1
        if run > 1:
            return pattern, run
    return suffix, 1


def _node_groups(rack: str, nodes: list[Node]) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    i = 0
    while i < len(nodes):
        spec = nodes[i]
        same = [spec]
        while i + len(same) < len(nodes) and _same_spec(nodes[i + len(same)], spec, rack):
            same.append(nodes[i + len(same)])
        pattern, count = _pattern(rack, same)
        gpu = CATALOG[spec.model]
        group: dict[str, Any] = {"model": spec.model}
        if spec.gpus != gpu.gpus_per_node:
            group["gpus"] = spec.gpus
        group.update(cpu=spec.cpu_milli // 1000, memory_gib=spec.memory_mib // 1024)
        if count > 1:
            group["count"] = count
        group["name" if count else "id"] = pattern
        default = "rack" if gpu.nvlink_domain > gpu.gpus_per_node else "node"
        mode = _nvlink_mode(spec, rack)
        if mode != default:
            group["nvlink"] = mode
        groups.append(group)
        i += max(count, 1)
    return groups


def _nvlink_mode(n: Node, rack: str) -> str:
    return "node" if n.nvlink == n.id else "rack" if n.nvlink == rack else n.nvlink


def _same_spec(a: Node, b: Node, rack: str) -> bool:
    return (a.model, a.gpus, a.cpu_milli, a.memory_mib, _nvlink_mode(a, rack)) == (
        b.model,
        b.gpus,
        b.cpu_milli,
        b.memory_mib,
        _nvlink_mode(b, rack),
    )


def dump_fleet(fleet: Fleet) -> str:
    """The fleet as a description file that `parse_fleet` reads back to the same fleet.

    CPU and memory are written in whole cores and GiB, the units of the file."""
    power = {r.name: r.power_kw for r in fleet.racks}
    halls = {h.name: h for h in fleet.halls}
    switches = {f.name: f for f in fleet.fabrics}
    tree: dict[str, dict[str, dict[str, dict[str, list[Node]]]]] = {}
    for n in fleet.nodes:
        tree.setdefault(n.hall, {}).setdefault(n.fabric, {}).setdefault(n.su, {}).setdefault(
            n.rack, []
        ).append(n)
    out_halls = []
    for hall, fabrics in tree.items():
        h = halls.get(hall, Hall(hall, ref.PUE_MODERN_AI_HALL))
        entry: dict[str, Any] = {"name": hall, "pue": h.pue}
        if h.power_budget_mw is not None:
            entry["power_budget_mw"] = h.power_budget_mw
        entry["fabrics"] = []
        for fabric, sus in fabrics.items():
            fab: dict[str, Any] = {"name": fabric}
            if fabric in switches and (switches[fabric].leaf_switches or switches[fabric].spine_switches):
                fab.update(
                    leaf_switches=switches[fabric].leaf_switches,
                    spine_switches=switches[fabric].spine_switches,
                )
            fab["sus"] = [
                {"name": su, "racks": [_rack_entry(rack, nodes, su, power) for rack, nodes in racks.items()]}
                for su, racks in sus.items()
            ]
            entry["fabrics"].append(fab)
        out_halls.append(entry)
    doc: dict[str, Any] = {"name": fleet.name}
    if fleet.nodes[0].site != "site-0":
        doc["site"] = fleet.nodes[0].site
    doc["halls"] = out_halls
    return yaml.safe_dump(doc, sort_keys=False, width=110)


def _rack_entry(rack: str, nodes: list[Node], su: str, power: dict[str, float]) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": rack}
    if rack in power:
        entry["power_kw"] = power[rack]
    if nodes[0].leaf != f"{su}-leaf":
        entry["leaf"] = nodes[0].leaf
    entry["nodes"] = _node_groups(rack, nodes)
    return entry


def save_fleet(fleet: Fleet, path: Path) -> None:
    path.write_text(dump_fleet(fleet), encoding="utf-8")
