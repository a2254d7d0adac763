"""What a caller asks the placement engine for."""

from __future__ import annotations

from dataclasses import dataclass

from neocloud.fleet.capacity import MILLI
from neocloud.fleet.topology import Level
from neocloud.kernel.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Request:
    """A request for GPUs.

    - `gpus`: whole GPUs wanted on each node; with `gpu_milli` < 1000, `gpus` must be 1 and the request
      shares one GPU (openb's GPU-sharing pods). `gpus=0` is a CPU-only request.
    - `nodes`: how many nodes a gang needs (each with `gpus`, `cpu_milli`, `memory_mib`).
    - `models`: GPU models allowed (None: any).
    - `within`: the topology level whose single domain must hold the whole gang.
    """

    gpus: int = 1
    gpu_milli: int = MILLI
    cpu_milli: int = 0
    memory_mib: int = 0
    models: frozenset[str] | None = None
    nodes: int = 1
    within: Level | None = None

    def __post_init__(self) -> None:
        if self.gpus < 0:
            raise InvalidInput("gpus must be >= 0", details={"gpus": self.gpus})
        if not 0 < self.gpu_milli <= MILLI:
            raise InvalidInput("gpu_milli must be in 1..1000", details={"gpu_milli": self.gpu_milli})
        if self.gpu_milli < MILLI and self.gpus != 1:
            raise InvalidInput("a fractional GPU request (gpu_milli < 1000) asks for exactly one GPU")
        if self.cpu_milli < 0 or self.memory_mib < 0:
            raise InvalidInput("cpu_milli and memory_mib must be >= 0")
        if self.nodes < 1:
            raise InvalidInput("nodes must be >= 1", details={"nodes": self.nodes})
        if self.models is not None and not self.models:
            raise InvalidInput("models, when given, must name at least one GPU model")

    @property
    def shares_gpu(self) -> bool:
        return self.gpus == 1 and self.gpu_milli < MILLI

    @property
    def is_gang(self) -> bool:
        return self.nodes > 1 or self.within is not None

    @property
    def total_gpus(self) -> int:
        return self.gpus * self.nodes

    @property
    def gpu_request_milli(self) -> int:
        """GPU capacity asked per node, in milli-GPU (num_gpu x gpu_milli)."""
        return self.gpus * self.gpu_milli
