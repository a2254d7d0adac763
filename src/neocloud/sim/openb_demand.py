"""openb demand: the pod lists of Alibaba's GPU-sharing cluster (ATC'23) as a second real demand source.

A pod list (`openb_pod_list_<workload>.csv`, read by `neocloud.traces.openb.read_pods`, the one reader)
becomes a job trace of the same form as Philly's, so the same scaling rule and the same seeded streams
apply (`neocloud.sim.demand`):

- **arrivals** at the pod's `creation_time`, **departures** at its `deletion_time` (duration = deletion −
  creation, at least one second); times are seconds from the list's first creation;
- **sizes, by what the fleet sells.** neocloud's simulated fleets sell whole nodes (an instance is N
  nodes of the scenario's GPU model; the pooled engine counts nodes): a pod asking `num_gpu × gpu_milli`
  milli-GPUs becomes `ceil(num_gpu × gpu_milli / 1000 / gpus_per_node)` whole nodes, at least one. A
  GPU-sharing pod (gpu_milli < 1000) therefore takes, and is billed for, one whole node: fractional GPUs
  are not a product of these fleets (a fleet selling milli-GPU instances would keep the fraction);
- CPU-only pods (`num_gpu` 0) ask no GPU capacity and are left out, as Philly's CPU-only jobs are;
- the list names no owner, so pods are dealt round-robin to the stream's tenants;
- **scaling** is Philly's: the list's peak concurrent GPUs `P` on the rounded sizes, and a stream of
  `G = share × fleet GPUs` replays it at `f = G / P` (`ceil(f)` copies at random phases modulo the
  list's span, the last thinned to `f − floor(f)`).

The data is never committed: the default directory is ../shared/data/openb (NEOCLOUD_OPENB overrides it).
A list without times (multigpu20 has only the first five columns) cannot drive arrivals and departures:
InvalidInput naming `demand.workload`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

from neocloud.fleet.capacity import MILLI
from neocloud.kernel.errors import InvalidInput
from neocloud.traces import openb
from neocloud.traces.philly import PhillyJob, PhillyTrace
from neocloud.traces.shared_data import shared_data

DIRECTORY = "openb"
ENV = "NEOCLOUD_OPENB"
OWNERS = 64  # the list names no owner: pods are dealt round-robin to groups, groups to the stream's tenants
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the lists' times are seconds from an unnamed origin


def default_dir() -> Path | None:
    """NEOCLOUD_OPENB, else ../shared/data/openb, when present (`shared_data`)."""
    return shared_data(DIRECTORY, ENV)


def workloads(directory: Path) -> list[str]:
    """The workloads with a pod list in `directory` ("default", "cpu050", ...)."""
    return sorted(openb.workload_name(p) for p in directory.glob(f"{openb.POD_PREFIX}*.csv"))


def pod_list(trace: Path | None, workload: str) -> Path:
    """The pod list a scenario names: `trace` (a pod list file, or the directory holding them; default
    `default_dir()`) and `workload`. InvalidInput naming the field when it is not there."""
    if trace is not None and trace.is_file():
        return trace
    directory = trace if trace is not None else default_dir()
    if directory is None or not directory.is_dir():
        raise InvalidInput(
            "scenario field demand.trace: the openb pod lists were not found: put them in "
            f"../shared/data/openb/, set {ENV} or give demand.trace",
            details={"field": "demand.trace", "value": str(directory) if directory else None},
        )
    path = directory / f"{openb.POD_PREFIX}{workload}.csv"
    if not path.is_file():
        known = workloads(directory)
        raise InvalidInput(
            f"scenario field demand.workload: no pod list {path.name} in {directory} "
            f"(known: {', '.join(known) or 'none'})",
            details={"field": "demand.workload", "value": workload, "known": known},
        )
    return path


def read_trace(trace: Path | None, workload: str = "default") -> PhillyTrace:
    """The GPU pods of the scenario's pod list as a job trace (see the module docstring). `gpus` of each
    job is its GPU request rounded up to whole GPUs (the demand module then rounds to whole nodes)."""
    path = pod_list(trace, workload)
    pods = openb.read_pods(path)
    if any(p.creation_time is None for p in pods):
        raise InvalidInput(
            f"scenario field demand.workload: {path.name} has no creation_time/deletion_time columns, "
            "so it cannot give arrivals and departures (the multigpu20 list has only the first five)",
            details={"field": "demand.workload", "value": workload, "file": str(path)},
        )
    raw = []
    for i, pod in enumerate(pods):
        if pod.gpu_milli <= 0:
            continue
        assert pod.creation_time is not None and pod.deletion_time is not None
        gpus = math.ceil(pod.gpu_milli / MILLI)
        group = f"pods-{i % OWNERS:02d}"
        raw.append((pod.creation_time, max(1, pod.deletion_time - pod.creation_time), gpus, group))
    if not raw:
        raise InvalidInput(
            f"scenario field demand.workload: {path.name} has no GPU pods",
            details={"field": "demand.workload", "value": workload, "file": str(path)},
        )
    raw.sort(key=lambda r: r[0])
    first = raw[0][0]
    jobs = tuple(PhillyJob(float(c - first), float(d), g, q) for c, d, g, q in raw)
    return PhillyTrace(jobs, EPOCH, jobs[-1].submit_s)
