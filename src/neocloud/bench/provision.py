"""`neocloud bench provision`: provisioning on a real Slurm, beside the floor.

For N allocations (default 100: 8-GPU reservations of one hour, in consecutive future hours on every
node of the fleet), per run:

- sequential: commit one reservation (neocloud's reserve returns), then one reconcile pass; its latency
  is commit → its Slurm reservation made (then checked visible with `scontrol show reservation`).
- batch: commit all N, then reconcile passes until every one is in Slurm: N over that time is the
  reservations converged per second.
- floor: `scontrol create reservation` alone for exactly the same N (name, nodes, window, account).

Each neocloud phase first makes one untimed warm-up reservation: a tenant's first one also creates its
Slurm accounts (sacctmgr, ≈1–2 s once), which the floor, reusing those accounts, never pays.

`ratio_to_floor` is neocloud's batch time for the N over the floor's; `sequential_ratio_to_floor` the
sum of the sequential latencies over it. Figures are medians over `runs` runs. Everything the bench made
in Slurm is deleted after each phase. Times come from `time.perf_counter`.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from neocloud.bootstrap import Settings, SlurmSettings, build_services, scratch_settings
from neocloud.control.app.views import ReservationRequest
from neocloud.fleet.fleet import Fleet

FLOOR_PREFIX = "ncbench-"


def _scontrol(conf: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SLURM_CONF": str(conf), "TZ": "UTC"}
    return subprocess.run(
        ["scontrol", *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def _reservations(conf: Path) -> dict[str, str]:
    out = _scontrol(conf, "-o", "show", "reservation").stdout
    return {
        line.split()[0].removeprefix("ReservationName="): line
        for line in out.splitlines()
        if line.startswith("ReservationName=")
    }


CONVERGE_DEADLINE_S = 120.0


def _clean(conf: Path) -> None:
    """Delete what the bench made: its floor reservations and its own control plane's (the run refuses
    to start on a cluster that holds anyone else's neocloud reservations)."""
    for name in _reservations(conf):
        if name.startswith((FLOOR_PREFIX, "nc-")):
            _scontrol(conf, "delete", f"reservation={name}")


def _refuse_a_live_cluster(conf: Path) -> None:
    """The bench's scratch control plane converges the cluster to what it holds, which deletes every
    other `nc-` reservation (and cancels its jobs): it runs only on a cluster that holds none."""
    theirs = sorted(n for n in _reservations(conf) if n.startswith("nc-"))
    if theirs:
        raise RuntimeError(
            f"{conf}: the cluster holds {len(theirs)} neocloud reservation(s) ({theirs[0]}, ...); this bench "
            "would delete them and cancel their jobs. Point --slurm-conf at a test cluster "
            "(scripts/slurm-up.sh starts one)."
        )


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _phase(
    conf: Path, fleet: Fleet, n: int, batch: bool
) -> tuple[list[float], float, list[tuple[str, str, datetime, datetime, str]]]:
    """One neocloud phase; returns (latencies s, total s, the windows made: name, node, start, end, account)."""
    with scratch_settings("sqlite") as base:
        settings = Settings(database_url=base.database_url, slurm=SlurmSettings(conf=conf))
        services = build_services(settings)
        try:
            cp = services.control
            cp.fleet.import_fleet(fleet)
            cp.tenancy.create_tenant("bench")
            _, secret = cp.tenancy.create_token("bench", "tenant-admin")
            who = cp.tenancy.authenticate(secret)
            first = _hour(datetime.now(UTC)) + timedelta(hours=2)
            per_hour = len(fleet.nodes)
            # warm-up, untimed: the tenant's first reservation also creates its Slurm accounts (sacctmgr)
            warm = cp.reservations.reserve(
                who,
                ReservationRequest(
                    fleet.nodes[0].model,
                    fleet.nodes[0].gpus,
                    1,
                    start=first + timedelta(hours=n // per_hour + 1),
                    shape="whole-nodes",
                ),
            )
            cp.reconcile()
            latencies: list[float] = []
            ids: list[str] = []
            for i in range(n):
                start = first + timedelta(hours=i // per_hour)
                r = cp.reservations.reserve(
                    who,
                    ReservationRequest(
                        fleet.nodes[0].model, fleet.nodes[0].gpus, 1, start=start, shape="whole-nodes"
                    ),
                )
                ids.append(r.id)
                if not batch:
                    t0 = time.perf_counter()
                    cp.reconcile()
                    latencies.append(time.perf_counter() - t0)
            if batch:
                t0 = time.perf_counter()
                while True:
                    cp.reconcile()
                    if {f"nc-{a}" for a in ids} <= set(_reservations(conf)):  # visible, checked in time
                        break
                    if time.perf_counter() - t0 > CONVERGE_DEADLINE_S:
                        break  # reported below with the reservations that never appeared
                total = time.perf_counter() - t0
            else:
                total = sum(latencies)
            seen = _reservations(conf)
            missing = [a for a in ids if f"nc-{a}" not in seen]
            if missing:
                raise RuntimeError(
                    f"{len(missing)} reservations never appeared in Slurm (first: {missing[0]})"
                )
            windows = []
            for a in ids:
                got = cp.reservations.get_reservation(who, a)
                account = seen[f"nc-{a}"].split(" Accounts=")[1].split()[0]
                windows.append((f"{FLOOR_PREFIX}{a}", got.nodes[0], got.start, got.end, account))
            for a in [*ids, warm.id]:
                cp.reservations.cancel_reservation(who, a)
            cp.reconcile()  # converge deletes what neocloud no longer holds
            return latencies, total, windows
        finally:
            services.close()


def _floor(conf: Path, windows: list[tuple[str, str, datetime, datetime, str]]) -> list[float]:
    times = []
    for name, node, start, end, account in windows:
        t0 = time.perf_counter()
        done = _scontrol(
            conf,
            "create",
            "reservation",
            f"ReservationName={name}",
            f"StartTime={start.strftime('%Y-%m-%dT%H:%M:%S')}",
            f"EndTime={end.strftime('%Y-%m-%dT%H:%M:%S')}",
            f"Nodes={node}",
            f"Accounts={account}",
        )
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            raise RuntimeError(f"scontrol create reservation {name}: {done.stderr.strip()}")
    _clean(conf)
    return times


def run(conf: Path, fleet: Fleet, allocations: int = 100, runs: int = 3) -> dict[str, Any]:
    if "is UP" not in _scontrol(conf, "ping").stdout:
        raise RuntimeError(f"no Slurm controller answers for {conf} (scripts/slurm-up.sh starts one)")
    _refuse_a_live_cluster(conf)
    _clean(conf)
    per_run: list[dict[str, float]] = []
    for _ in range(runs):
        seq, seq_total, windows = _phase(conf, fleet, allocations, batch=False)
        floor = _floor(conf, windows)
        _, batch_total, _ = _phase(conf, fleet, allocations, batch=True)
        floor_total = sum(floor)
        per_run.append(
            {
                "p50_ms": 1000 * statistics.median(seq),
                "p99_ms": 1000 * _pct(seq, 0.99),
                "floor_p50_ms": 1000 * statistics.median(floor),
                "floor_p99_ms": 1000 * _pct(floor, 0.99),
                "batch_s": batch_total,
                "floor_s": floor_total,
                "sequential_s": seq_total,
                "converged_per_s": allocations / batch_total,
                "floor_per_s": allocations / floor_total,
                "ratio_to_floor": batch_total / floor_total,
                "sequential_ratio_to_floor": seq_total / floor_total,
            }
        )
    _clean(conf)
    out: dict[str, Any] = {"allocations": allocations, "runs": runs, "nodes": len(fleet.nodes)}
    for key in per_run[0]:
        out[key] = round(statistics.median(r[key] for r in per_run), 3)
    return out
