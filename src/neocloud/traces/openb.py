"""Reader of the openb trace (Alibaba GPU-sharing cluster, ATC'23): GPU node lists and pod lists.

Node list: `sn,cpu_milli,memory_mib,gpu,model`; each GPU node becomes its own NVLink domain and rack.
Pod list: `name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec,…]`; the first five columns are
required (multigpu20 has only those), `gpu_spec` like `V100M16|V100M32` restricts the GPU models.
A bad file raises InvalidInput naming the file, the line and the field.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from neocloud.fleet.capacity import MILLI
from neocloud.fleet.fleet import Fleet, Node
from neocloud.kernel.errors import DomainError, InvalidInput
from neocloud.kernel.gpus import CATALOG
from neocloud.kernel.ids import NodeId
from neocloud.placement.request import Request

NODE_COLUMNS = ("sn", "cpu_milli", "memory_mib", "gpu", "model")
POD_COLUMNS = ("name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli")
POD_PREFIX = "openb_pod_list_"
NODE_FILE = "openb_node_list_gpu_node.csv"


@dataclass(frozen=True, slots=True)
class OpenbPod:
    """One pod; `creation_time` and `deletion_time` (seconds) when the list carries them (multigpu20
    does not), for the replay with departures."""

    name: str
    request: Request
    creation_time: int | None = None
    deletion_time: int | None = None

    @property
    def gpu_milli(self) -> int:
        """GPU capacity the pod asks for in total (num_gpu x gpu_milli), 0 for CPU-only pods."""
        return self.request.gpu_request_milli if self.request.gpus else 0


def _bad(path: Path, line: int, field: str, message: str) -> InvalidInput:
    return InvalidInput(
        f"{path}: line {line}: field {field!r}: {message}",
        details={"file": str(path), "line": line, "field": field},
    )


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(
            f"{path}: cannot read: {exc.strerror or exc}", details={"file": str(path)}
        ) from exc
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise _bad(path, 1, required[0], "the file is empty (no header)")
        header = [h.strip() for h in header]
        for col in required:
            if col not in header:
                raise _bad(path, 1, col, f"missing column (header has {', '.join(header)})")
        for number, values in enumerate(reader, start=2):
            if not values or all(not v.strip() for v in values):
                continue
            if len(values) < len(required):
                missing = header[len(values)] if len(values) < len(header) else required[-1]
                raise _bad(path, number, missing, f"expected {len(header)} fields, found {len(values)}")
            yield number, {h: v.strip() for h, v in zip(header, values, strict=False)}


def _int(path: Path, line: int, row: dict[str, str], field: str, *, low: int = 0) -> int:
    text = row.get(field, "")
    try:
        value = int(text)
    except ValueError:
        raise _bad(path, line, field, f"expected an integer, found {text!r}") from None
    if value < low:
        raise _bad(path, line, field, f"must be >= {low}, found {value}")
    return value


def read_fleet(path: Path | str, name: str = "openb") -> Fleet:
    """The GPU nodes of an openb node list (nodes without GPUs are left out, as the protocol says)."""
    path = Path(path)
    nodes: list[Node] = []
    seen: set[str] = set()
    for line, row in _rows(path, NODE_COLUMNS):
        sn = row["sn"]
        if not sn:
            raise _bad(path, line, "sn", "empty node name")
        if sn in seen:
            raise _bad(path, line, "sn", f"duplicate node {sn!r}")
        seen.add(sn)
        gpus = _int(path, line, row, "gpu")
        cpu = _int(path, line, row, "cpu_milli")
        mem = _int(path, line, row, "memory_mib")
        if gpus == 0:
            continue
        model = row["model"]
        if model not in CATALOG:
            raise _bad(
                path, line, "model", f"unknown GPU model {model!r} (known: {', '.join(sorted(CATALOG))})"
            )
        nodes.append(Node(NodeId(sn), model, gpus, cpu, mem, rack=sn, nvlink=sn))
    if not nodes:
        raise InvalidInput(f"{path}: no GPU nodes", details={"file": str(path)})
    return Fleet.build(name, nodes)


def read_pods(path: Path | str) -> tuple[OpenbPod, ...]:
    """The pods of an openb pod list, in file order."""
    path = Path(path)
    pods: list[OpenbPod] = []
    for line, row in _rows(path, POD_COLUMNS):
        cpu = _int(path, line, row, "cpu_milli")
        mem = _int(path, line, row, "memory_mib")
        gpus = _int(path, line, row, "num_gpu")
        milli = _int(path, line, row, "gpu_milli")
        spec = row.get("gpu_spec", "")
        models = frozenset(m.strip() for m in spec.split("|") if m.strip()) or None
        if gpus:
            if not 0 < milli <= MILLI:
                raise _bad(path, line, "gpu_milli", f"must be in 1..{MILLI} for a GPU pod, found {milli}")
            if milli < MILLI and gpus != 1:
                raise _bad(
                    path, line, "gpu_milli", "a GPU-sharing pod (gpu_milli < 1000) asks for exactly one GPU"
                )
        if models is not None:
            unknown = sorted(m for m in models if m not in CATALOG)
            if unknown:
                raise _bad(path, line, "gpu_spec", f"unknown GPU model(s) {', '.join(unknown)}")
        try:
            req = Request(
                gpus=gpus, gpu_milli=milli if gpus else MILLI, cpu_milli=cpu, memory_mib=mem, models=models
            )
        except DomainError as exc:
            raise _bad(path, line, "num_gpu", exc.message) from exc
        pods.append(OpenbPod(row["name"], req, *_times(path, line, row)))
    if not pods:
        raise InvalidInput(f"{path}: no pods", details={"file": str(path)})
    return tuple(pods)


def _times(path: Path, line: int, row: dict[str, str]) -> tuple[int | None, int | None]:
    created, deleted = (row.get(c, "").strip() for c in ("creation_time", "deletion_time"))
    if not created or not deleted:
        return None, None
    try:
        c, d = int(float(created)), int(float(deleted))
    except (ValueError, OverflowError):  # not a number, or inf / nan / 1e400
        raise _bad(
            path, line, "creation_time", f"times must be finite numbers, found {created!r}, {deleted!r}"
        ) from None
    if d < c:
        raise _bad(path, line, "deletion_time", f"deleted ({d}) before it was created ({c})")
    return c, d


def workload_name(pods_path: Path | str) -> str:
    """The pods file stem without the "openb_pod_list_" prefix ("default", "cpu050", ...)."""
    stem = Path(pods_path).stem
    return stem[len(POD_PREFIX) :] if stem.startswith(POD_PREFIX) else stem


def nodes_beside(pods_path: Path | str) -> Path:
    """The GPU node list in the directory of a pod list."""
    return Path(pods_path).parent / NODE_FILE
