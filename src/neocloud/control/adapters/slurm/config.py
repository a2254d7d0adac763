"""Fleet → Slurm configuration: slurm.conf node and partition lines, and the topology in the three forms
Slurm has had (STYLE.md: decide in pure code; this module reads nothing but its arguments).

- `topology.conf` tree form (topology/tree, every Slurm up to 24.11, the form Debian 12's 22.05 reads):
  NVLink domain → leaf → scalable unit → hall. A rail-optimised HGX node is its own NVLink domain and
  each of its GPUs goes to a different leaf of the SU, so for HGX the SU is the lowest switch level.
- `topology.conf` block form (topology/block, 23.11–24.11): NVL72 racks (NVLink domains of several
  nodes) are the blocks; HGX fleets use the SU as block.
- `topology.yaml` (25.05+): the tree and the block form as two named topologies, the tree the default.

A fleet larger than one Slurm controller holds (MAX_NODES_PER_CLUSTER, REFERENCE.md) becomes one Slurm
cluster per hall, each with its own ClusterName, nodes and topology.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from neocloud.control.adapters.slurm.hostlist import compress, slurm_name
from neocloud.fleet.fleet import Fleet, Node
from neocloud.kernel import reference as ref

MAX_NODES_PER_CLUSTER = ref.SLURM_MAX_NODES_PER_CONTROLLER
NODES_PER_LINE = 512  # one NodeName line per group of identical nodes, in chunks (readable, diffable)


class TopologyForm(Enum):
    TREE = "tree"
    BLOCK = "block"
    YAML = "yaml"


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """One Slurm cluster's generated files."""

    name: str
    nodes: int
    slurm_conf: str  # NodeName, NodeSet and PartitionName lines (the rest of slurm.conf is the site's)
    gres_conf: str
    topology: str  # topology.conf (tree or block form) or topology.yaml
    topology_file: str  # "topology.conf" or "topology.yaml"


def partition_name(model: str) -> str:
    """The partition of `model`'s nodes: the model name, lowercase (h100, gb200)."""
    return slurm_name(model.lower())


def gres_type(model: str) -> str:
    return slurm_name(model.lower())


def generate(
    fleet: Fleet, form: TopologyForm = TopologyForm.TREE, cluster: str | None = None
) -> list[ClusterConfig]:
    """The Slurm configuration of `fleet`: one cluster, or one per hall when the fleet has more nodes
    than one controller holds. Deterministic: the same fleet gives byte-identical output."""
    base = slurm_name(cluster or fleet.name)
    if len(fleet.nodes) <= MAX_NODES_PER_CLUSTER:
        return [_cluster(base, fleet.nodes, form)]
    by_hall: dict[str, list[Node]] = defaultdict(list)
    for n in fleet.nodes:
        by_hall[n.hall].append(n)
    out = []
    for hall, nodes in by_hall.items():
        if len(nodes) > MAX_NODES_PER_CLUSTER:
            raise ValueError(
                f"hall {hall} has {len(nodes)} nodes, more than one Slurm controller holds ({MAX_NODES_PER_CLUSTER})"
            )
        out.append(_cluster(f"{base}-{slurm_name(hall)}", nodes, form))
    return out


def _cluster(name: str, nodes: Sequence[Node], form: TopologyForm) -> ClusterConfig:
    slurm, gres = _node_lines(name, nodes)
    match form:
        case TopologyForm.TREE:
            topo, file = "\n".join(_tree_lines(nodes)) + "\n", "topology.conf"
        case TopologyForm.BLOCK:
            topo, file = "\n".join(_block_lines(nodes)) + "\n", "topology.conf"
        case TopologyForm.YAML:
            topo, file = _yaml(nodes), "topology.yaml"
    return ClusterConfig(name, len(nodes), slurm, gres, topo, file)


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _node_lines(cluster: str, nodes: Sequence[Node]) -> tuple[str, str]:
    groups: dict[tuple[str, int, int, int], list[str]] = defaultdict(list)
    for n in nodes:
        groups[(n.model, n.gpus, n.cpu_milli // 1000, n.memory_mib)].append(slurm_name(n.id))
    lines = [
        f"# neocloud: {len(nodes)} nodes of cluster {cluster} (generated; edit the fleet, not this)",
        f"ClusterName={cluster}",
        "GresTypes=gpu",
    ]
    gres = ["AutoDetect=nvml"]
    models: dict[str, None] = {}
    for (model, gpus, cpus, mem), names in groups.items():
        models[model] = None
        feature = partition_name(model)
        for chunk in _chunks(names, NODES_PER_LINE):
            hosts = compress(chunk)
            lines.append(
                f"NodeName={hosts} CPUs={max(cpus, 1)} RealMemory={mem} Gres=gpu:{gres_type(model)}:{gpus} "
                f"Features={feature} State=UNKNOWN"
            )
            gres.append(f"NodeName={hosts} Name=gpu Type={gres_type(model)} Count={gpus}")
    for i, model in enumerate(models):
        part = partition_name(model)
        lines.append(f"NodeSet={part} Feature={part}")
        default = " Default=YES" if i == 0 else ""
        lines.append(f"PartitionName={part} Nodes={part}{default} MaxTime=INFINITE State=UP")
    return "\n".join(lines) + "\n", "\n".join(gres) + "\n"


@dataclass
class _Switch:
    name: str
    nodes: list[str]
    children: list[str]


def _tree(nodes: Sequence[Node]) -> list[_Switch]:
    """Switches, lowest level first: per NVLink domain of several nodes → leaf → SU → hall; for
    single-node NVLink domains (HGX) the SU holds the nodes directly."""
    domain_size: dict[str, int] = defaultdict(int)
    for n in nodes:
        domain_size[n.nvlink] += 1
    low: dict[str, _Switch] = {}
    leaves: dict[str, _Switch] = {}
    sus: dict[str, _Switch] = {}
    halls: dict[str, _Switch] = {}

    def get(table: dict[str, _Switch], name: str) -> tuple[_Switch, bool]:
        sw = table.get(name)
        if sw is None:
            sw = table[name] = _Switch(slurm_name(name), [], [])
            return sw, True
        return sw, False

    for n in nodes:
        su, su_new = get(sus, n.su)
        if su_new:
            get(halls, n.hall)[0].children.append(su.name)
        if domain_size[n.nvlink] > 1:
            dom, dom_new = get(low, n.nvlink)
            dom.nodes.append(slurm_name(n.id))
            if dom_new:
                leaf, leaf_new = get(leaves, n.leaf)
                leaf.children.append(dom.name)
                if leaf_new:
                    su.children.append(leaf.name)
        else:
            su.nodes.append(slurm_name(n.id))
    return [*low.values(), *leaves.values(), *sus.values(), *halls.values()]


def _switch_line(sw: _Switch) -> str:
    parts = [f"SwitchName={sw.name}"]
    if sw.nodes:
        parts.append(f"Nodes={compress(sw.nodes)}")
    if sw.children:
        parts.append(f"Switches={compress(sw.children)}")
    return " ".join(parts)


def _tree_lines(nodes: Sequence[Node]) -> list[str]:
    return [
        "# topology/tree: NVLink domain -> leaf -> scalable unit -> hall",
        *(_switch_line(sw) for sw in _tree(nodes)),
    ]


def _blocks(nodes: Sequence[Node]) -> tuple[list[tuple[str, list[str]]], int]:
    domain: dict[str, list[str]] = defaultdict(list)
    for n in nodes:
        domain[n.nvlink].append(slurm_name(n.id))
    if max((len(v) for v in domain.values()), default=1) > 1:
        blocks = [(slurm_name(k), v) for k, v in domain.items()]
    else:  # HGX: every node its own NVLink domain → the scalable unit is the block
        by_su: dict[str, list[str]] = defaultdict(list)
        for n in nodes:
            by_su[n.su].append(slurm_name(n.id))
        blocks = [(slurm_name(k), v) for k, v in by_su.items()]
    base = min(len(v) for _, v in blocks) if blocks else 1
    return blocks, base


def _block_lines(nodes: Sequence[Node]) -> list[str]:
    blocks, base = _blocks(nodes)
    lines = ["# topology/block (Slurm 23.11-24.11): NVL72 racks (or HGX scalable units) as blocks"]
    lines += [f"BlockName={name} Nodes={compress(members)}" for name, members in blocks]
    lines.append(f"BlockSizes={base}")
    return lines


def _yaml(nodes: Sequence[Node]) -> str:
    out = [
        "# topology.yaml (Slurm 25.05+): the tree (default) and the block form",
        "- topology: tree",
        "  cluster_default: true",
        "  tree:",
        "    switches:",
    ]
    for sw in _tree(nodes):
        out.append(f"      - switch: {sw.name}")
        if sw.children:
            out.append(f"        children: {compress(sw.children)}")
        if sw.nodes:
            out.append(f"        nodes: {compress(sw.nodes)}")
    blocks, base = _blocks(nodes)
    out += [
        "- topology: block",
        "  cluster_default: false",
        "  block:",
        f"    block_sizes: [{base}]",
        "    blocks:",
    ]
    for name, members in blocks:
        out += [f"      - block: {name}", f"        nodes: {compress(members)}"]
    return "\n".join(out) + "\n"


def render(configs: Sequence[ClusterConfig]) -> str:
    """What `neocloud slurm config` prints: per cluster, its slurm.conf lines, then its topology."""
    parts = []
    for c in configs:
        if len(configs) > 1:
            parts.append(f"#### cluster {c.name}: {c.nodes} nodes\n")
        parts.append("### slurm.conf\n" + c.slurm_conf)
        parts.append(f"### {c.topology_file}\n" + c.topology)
    return "".join(parts)
