"""`neocloud bench sim`: how fast the simulator runs, beside the same scenario driven through the API.

Per scenario: the engine run (events, wall seconds, events/s, simulated days; for the pooled engine once
on SimPy and once on a bare heap, to show SimPy's own share), and a short *API slice*: the scenario's
first jobs (arrivals and departures in their simulated order) sent as fast as possible to a real
`neocloud serve` process over HTTP (SQLite, its own reconciler running), after the same fleet, tenants
and reserved contracts were set up. An event there is one control-plane call (an instance created or
stopped); the ratio is the API's seconds per event over the simulator's: over the engine's whole run
(`speedup_vs_api`: fleet import, contracts and horizon invoicing included) and, for the exact engine,
over its event loop alone (`loop_speedup_vs_api`: like the slice, which times its requests only), and
CPU for CPU (`loop_cpu_speedup_vs_api`: the loop's CPU seconds per event against the server's and the
sending client's together, read from /proc), which a shared machine's waiting does not blur.
"""

from __future__ import annotations

import heapq
import statistics
import tempfile
import time
from contextlib import suppress
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from neocloud.sim.scenarios import Scenario, preset

TARGET_EVENTS_PER_S = 50_000
TARGET_CAMPUS_YEAR_S = 600
TARGET_SPEEDUP = 100


@dataclass
class EngineRun:
    scenario: str
    engine: str
    loop: str
    simulated_days: float
    events: int
    wall_seconds: float
    events_per_second: float
    runs: list[float] = field(default_factory=list)
    utilisation: float = 0.0
    revenue: str = "0"
    cpu_seconds: float = 0.0  # median process CPU time: on a shared machine, wall time includes waiting
    events_per_cpu_second: float = 0.0
    engine_wall_seconds: float = 0.0  # the engine's run: set-up, event loop, invoicing (no trace file read)
    loop_seconds: float = 0.0  # exact engine: the event loop alone (no set-up, no invoicing), median
    loop_cpu_seconds: float = 0.0
    loop_events_per_second: float = 0.0
    loop_events_per_cpu_second: float = 0.0


@dataclass
class ApiSlice:
    scenario: str
    events: int
    wall_seconds: float
    seconds_per_event: float
    refused: int
    server_cpu_seconds: float = 0.0  # the server process's CPU over the slice (/proc; 0 where unreadable)
    client_cpu_seconds: float = 0.0  # this process's, sending the requests
    cpu_seconds_per_event: float = 0.0  # both, per event: on a shared machine wall time includes waiting


def scenario_for(name: str, demand: str | None) -> Scenario:
    """A preset, with its demand source replaced when `demand` is given ("philly" or "synthetic")."""
    s = preset(name)
    return s if demand is None else replace(s, source=demand)


def run_engine(
    scenario: str, days: float, engine: str, loop: str, seed: int, repeat: int, demand: str | None = None
) -> EngineRun:
    """The median wall time (set-up included) of `repeat` runs; also keeps each run's totals."""
    from neocloud.sim.run import run_scenario

    walls: list[float] = []
    cpus: list[float] = []
    loops: list[float] = []
    loop_walls: list[float] = []
    loop_cpus: list[float] = []
    events = 0
    result = None
    for _ in range(repeat):
        result = run_scenario(scenario_for(scenario, demand), days=days, seed=seed, engine=engine, loop=loop)
        walls.append(result.wall_seconds)
        cpus.append(float(result.extra.get("cpu_seconds", 0.0)))
        loops.append(float(result.extra.get("engine_wall_seconds", 0.0)))
        loop_walls.append(float(result.extra.get("loop_seconds", 0.0)))
        loop_cpus.append(float(result.extra.get("loop_cpu_seconds", 0.0)))
        events = result.events
    wall = statistics.median(walls)
    run = EngineRun(scenario, engine, loop, days, events, wall, events / wall if wall else 0.0, walls)
    run.cpu_seconds = statistics.median(cpus)
    run.engine_wall_seconds = statistics.median(loops)
    run.events_per_cpu_second = events / run.cpu_seconds if run.cpu_seconds else 0.0
    run.loop_seconds = statistics.median(loop_walls)
    run.loop_cpu_seconds = statistics.median(loop_cpus)
    run.loop_events_per_second = events / run.loop_seconds if run.loop_seconds else 0.0
    run.loop_events_per_cpu_second = events / run.loop_cpu_seconds if run.loop_cpu_seconds else 0.0
    if result is not None:
        run.utilisation = result.utilisation
        run.revenue = str(result.revenue)
    return run


def api_slice(scenario: str, jobs: int, seed: int = 0, demand: str | None = None) -> ApiSlice:
    """The first `jobs` jobs of `scenario` through a real API server; see the module docstring."""
    import httpx

    from neocloud.bench.process import ServerProcess
    from neocloud.bootstrap import Settings, build_services, upgrade_database
    from neocloud.control.app.views import ReservationRequest
    from neocloud.control.domain.tenancy import Principal, Role
    from neocloud.kernel.errors import Conflict
    from neocloud.kernel.ids import TenantId
    from neocloud.sim.model import Model

    s = scenario_for(scenario, demand)
    model = Model(s, seed)
    tmp = Path(tempfile.mkdtemp(prefix="neocloud-bench-sim-"))
    db_url = f"sqlite:///{tmp / 'neocloud.db'}"
    settings = Settings(data_dir=tmp, database_url=db_url, default_quota_gpus=None)
    upgrade_database(settings)
    services = build_services(settings)
    services.control.fleet.import_fleet(s.fleet())
    tokens: dict[str, str] = {}
    tenant_ids: dict[str, TenantId] = {}

    def token(name: str) -> str:
        if name not in tokens:
            tenant_ids[name] = TenantId(services.control.tenancy.create_tenant(name).id)
            tokens[name] = services.control.tenancy.create_token(name, Role.TENANT_ADMIN)[1]
        return tokens[name]

    for c in s.reserved:
        token(c.tenant)
        who = Principal("bench", Role.TENANT_MEMBER, tenant_ids[c.tenant])
        with suppress(Conflict):  # as the simulator does: a contract that does not fit is left out
            services.control.reservations.reserve(
                who, ReservationRequest(s.model, c.gpus, int(c.term_days * 24), None, c.shape)
            )
    # the slice: arrivals of both streams merged, and their departures, in simulated order
    streams = [((1, j) for j in model.jobs(1)), ((2, j) for j in model.jobs(2))]
    merged = heapq.merge(*streams, key=lambda pj: pj[1].arrival)
    script: list[tuple[int, int, str, Any]] = []
    for k, (product, job) in enumerate(merged):
        if k >= jobs:
            break
        name = f"{'on-demand' if product == 1 else 'spot'}-{job.tenant % 8 + 1}"
        token(name)
        script.append((job.arrival, 0, "create", (k, name, job.nodes, product == 2)))
        script.append((job.arrival + job.duration, 1, "stop", k))
    script.sort(key=lambda e: (e[0], e[1]))
    if services.engine is not None:
        services.engine.dispose()
    server = ServerProcess(db_url, data_dir=tmp, log=tmp / "server.log").start()
    refused = 0
    events = 0
    try:
        clients = {
            n: httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {t}"}, timeout=120)
            for n, t in tokens.items()
        }
        ids: dict[int, tuple[str, str]] = {}
        pid = server.proc.pid if server.proc is not None else None
        server_cpu, client_cpu = _process_cpu(pid), time.process_time()
        start = time.perf_counter()
        for _, _, op, arg in script:
            if op == "create":
                k, name, nodes, spot = arg
                r = clients[name].post("/v1/instances", json={"model": s.model, "nodes": nodes, "spot": spot})
                events += 1
                if r.status_code == 201:
                    ids[k] = (name, r.json()["id"])
                else:
                    refused += 1
            elif arg in ids:
                name, iid = ids.pop(arg)
                clients[name].post(f"/v1/instances/{iid}/stop")
                events += 1
        wall = time.perf_counter() - start
        client_cpu = time.process_time() - client_cpu
        server_cpu = _process_cpu(pid) - server_cpu
        for client in clients.values():
            client.close()
    finally:
        server.stop()
    cpu_per_event = (server_cpu + client_cpu) / events if events else 0.0
    return ApiSlice(
        scenario,
        events,
        wall,
        wall / events if events else 0.0,
        refused,
        server_cpu,
        client_cpu,
        cpu_per_event,
    )


def _process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of process `pid` so far (Linux /proc); 0.0 where it cannot be read."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    import os

    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


@dataclass
class SimBench:
    engines: list[EngineRun]
    slices: list[ApiSlice]

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for e in self.engines:
            sl = next((s for s in self.slices if s.scenario == e.scenario), None)
            # per event: the engine's run (set-up and invoicing included) and, for the exact engine, its
            # event loop alone, as the API slice's is its requests' alone (its set-up excluded)
            per_event = e.engine_wall_seconds / e.events if e.events else 0.0
            per_loop_event = e.loop_seconds / e.events if e.events else 0.0
            per_loop_cpu_event = e.loop_cpu_seconds / e.events if e.events else 0.0
            api = sl.seconds_per_event if sl else None
            api_cpu = sl.cpu_seconds_per_event if sl else None
            out.append(
                {
                    **asdict(e),
                    "seconds_per_event": per_event,
                    "loop_seconds_per_event": per_loop_event or None,
                    "api_seconds_per_event": api,
                    "speedup_vs_api": (api / per_event) if api and per_event else None,
                    "loop_speedup_vs_api": (api / per_loop_event) if api and per_loop_event else None,
                    "loop_cpu_seconds_per_event": per_loop_cpu_event or None,
                    "api_cpu_seconds_per_event": api_cpu or None,
                    "loop_cpu_speedup_vs_api": (api_cpu / per_loop_cpu_event)
                    if api_cpu and per_loop_cpu_event
                    else None,
                }
            )
        return out

    def agreement(self) -> dict[str, float] | None:
        """Pooled against exact on the same scenario and days: relative differences."""
        exact = next((e for e in self.engines if e.engine == "exact"), None)
        pooled = next(
            (e for e in self.engines if e.engine == "pooled" and exact and e.scenario == exact.scenario), None
        )
        if exact is None or pooled is None or not exact.utilisation or float(exact.revenue) == 0:
            return None
        return {
            "utilisation_rel_diff": pooled.utilisation / exact.utilisation - 1,
            "revenue_rel_diff": float(pooled.revenue) / float(exact.revenue) - 1,
        }

    def to_json(self) -> dict[str, Any]:
        scenarios: dict[str, Any] = {}
        rows = self.rows()
        keys = [f"{row['scenario']}/{row['engine']}/{row['loop']}" for row in rows]
        for key, row in zip(keys, rows, strict=True):
            if keys.count(key) > 1:  # one engine at several lengths: say which
                key = f"{key}@{row['simulated_days']:g}d"
            scenarios[key] = row
        return {
            "scenarios": scenarios,
            "api_slices": [asdict(s) for s in self.slices],
            "pooled_vs_exact": self.agreement(),
            "targets": {
                "events_per_second": TARGET_EVENTS_PER_S,
                "campus_year_wall_seconds": TARGET_CAMPUS_YEAR_S,
                "speedup_vs_api": TARGET_SPEEDUP,
            },
        }
