"""The GPU model catalog: datacenter models and the openb trace's models."""

from __future__ import annotations

from dataclasses import dataclass

from neocloud.kernel import reference as ref
from neocloud.kernel.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class GpuModel:
    """One GPU model. `nvlink_domain` is how many GPUs share one NVLink domain; `gpus_per_node` the
    usual node size (openb models come in several sizes; the node carries its own count)."""

    name: str
    memory_gb: int
    tdp_w: int
    nvlink_domain: int
    gpus_per_node: int
    node_max_kw: float


def _catalog() -> dict[str, GpuModel]:
    models = {
        f.name: GpuModel(f.name, f.memory_gb, f.tdp_w, f.nvlink_domain_gpus, f.gpus_per_node, f.node_max_kw)
        for f in ref.DATACENTER_GPUS
    }
    for name, sizes in ref.OPENB_GPU_MODELS.items():
        largest = max(sizes)
        models[name] = GpuModel(
            name, ref.OPENB_GPU_MEMORY_GB[name], ref.OPENB_GPU_TDP_W[name], largest, largest, 0.0
        )
    return models


CATALOG: dict[str, GpuModel] = _catalog()
_BY_LOWER: dict[str, GpuModel] = {}
for _key, _model in CATALOG.items():
    _BY_LOWER.setdefault(_key.lower(), _model)  # the first of names that differ in case only, as a scan


def gpu_model(name: str) -> GpuModel:
    """The catalog entry for `name` (case-insensitive); InvalidInput names the known models otherwise.
    One dict look-up: every admission, event conversion and price look-up asks."""
    found = _BY_LOWER.get(name.lower())
    if found is None:
        raise InvalidInput(f"unknown GPU model {name!r}", details={"known": sorted(CATALOG)})
    return found
