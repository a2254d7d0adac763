"""`neocloud bench api`: drive a running API with concurrent clients and measure it.

Four phases, one after the other, each for `duration` seconds with `clients` threads (one keep-alive
HTTP connection each): `list` (GET /v1/reservations), `quote` (POST /v1/reservations/quote),
`reserve` (POST /v1/reservations, one GPU for one hour, a fresh Idempotency-Key per request) and
`mixed` (half the clients list while the other half reserve: reported as `mixed-read` and
`mixed-write`, to show whether reads queue behind writes). Client i uses tokens[i % len(tokens)]
(one tenant each) on urls[i % len(urls)]. Latency is measured per request on the client; throughput
is successful requests per second of the phase. When the bench started the servers itself, it also
reports their CPU time per request of each phase (`server_cpu_ms`: user + system time of every server
process over the phase, divided by the phase's requests; for `mixed`, of reads and writes together),
which a loaded machine disturbs far less than throughput.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import httpx

PHASES = ("list", "quote", "reserve", "mixed")
TARGET_READS_PER_S = 300.0
TARGET_RESERVES_PER_S = 50.0
TARGET_P99_MS = 500.0
TARGET_MIXED_READ_P99_MS = 100.0


@dataclass(frozen=True)
class PhaseResult:
    operation: str
    requests: int
    errors: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    server_cpu_ms: float | None = None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (Linux /proc; children not included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _request_for(operation: str, model: str) -> Callable[[httpx.Client], httpx.Response]:
    body = {"model": model, "gpus": 1, "hours": 1}
    if operation == "list":
        return lambda http: http.get("/v1/reservations", params={"limit": 20})
    if operation == "quote":
        return lambda http: http.post("/v1/reservations/quote", json=body)
    if operation == "reserve":
        return lambda http: http.post(
            "/v1/reservations", json=body, headers={"Idempotency-Key": f"bench-{uuid.uuid4().hex}"}
        )
    raise ValueError(f"unknown operation {operation!r}; known: {', '.join(PHASES)}")


def run_phase(
    urls: Sequence[str],
    tokens: Sequence[str],
    operation: str,
    *,
    clients: int,
    duration: float,
    model: str = "H100",
    max_requests: int | None = None,
    cpu: Callable[[], float] | None = None,
) -> list[PhaseResult]:
    """`clients` threads, client i on urls[i % len] with tokens[i % len], for `duration` seconds (or until
    `max_requests` were sent in all). One result, or two for `mixed` (its reads and its writes). `cpu`
    reads the servers' CPU seconds so far (None: not reported)."""
    ops = ("list", "reserve") if operation == "mixed" else (operation,)
    sends = [_request_for(op, model) for op in ops]
    by_op: dict[str, list[float]] = {op: [] for op in ops}
    by_op_codes: dict[str, dict[str, int]] = {op: {} for op in ops}
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    budget = [max_requests if max_requests is not None else -1]
    start_line = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def take() -> bool:
        with lock:
            if budget[0] == 0:
                return False
            budget[0] -= 1
            return True

    def worker(i: int) -> None:
        op = ops[i % len(ops)]
        send = sends[i % len(ops)]
        headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
        mine: list[float] = []
        codes: dict[str, int] = {}
        with httpx.Client(base_url=urls[i % len(urls)], headers=headers, timeout=30.0) as http:
            start_line.wait()
            while time.perf_counter() < stop_at[0] and take():
                t0 = time.perf_counter()
                try:
                    code = str(send(http).status_code)
                except httpx.TransportError as exc:
                    code = type(exc).__name__
                elapsed = time.perf_counter() - t0
                codes[code] = codes.get(code, 0) + 1
                if code.startswith("2"):
                    mine.append(elapsed)
        with lock:
            latencies.extend(mine)
            by_op[op].extend(mine)
            for k, v in codes.items():
                statuses[k] = statuses.get(k, 0) + v
                by_op_codes[op][k] = by_op_codes[op].get(k, 0) + v

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    cpu_before = cpu() if cpu is not None else 0.0
    began = time.perf_counter()
    stop_at[0] = began + duration
    start_line.wait()
    for t in threads:
        t.join(duration + 60)
    seconds = time.perf_counter() - began
    sent = sum(statuses.values())
    cpu_ms = round(1000 * (cpu() - cpu_before) / sent, 2) if cpu is not None and sent else None
    if operation == "mixed":
        return [
            _result(
                f"mixed-{'read' if op == 'list' else 'write'}", by_op[op], by_op_codes[op], seconds, cpu_ms
            )
            for op in ops
        ]
    return [_result(operation, latencies, statuses, seconds, cpu_ms)]


def _result(
    operation: str,
    latencies: list[float],
    statuses: dict[str, int],
    seconds: float,
    cpu_ms: float | None = None,
) -> PhaseResult:
    ok = len(latencies)
    total = sum(statuses.values())
    return PhaseResult(
        operation,
        total,
        total - ok,
        round(seconds, 3),
        round(ok / seconds, 1) if seconds else 0.0,
        round(percentile(latencies, 50) * 1000, 1),
        round(percentile(latencies, 99) * 1000, 1),
        dict(sorted(statuses.items())),
        cpu_ms,
    )


@dataclass(frozen=True)
class ApiBenchResult:
    clients: int
    servers: int
    database: str
    duration: float
    phases: list[PhaseResult]

    def verdicts(self) -> dict[str, bool]:
        by = {p.operation: p for p in self.phases}
        out: dict[str, bool] = {}
        if "list" in by:
            out[f"list >= {TARGET_READS_PER_S:.0f}/s"] = by["list"].per_second >= TARGET_READS_PER_S
        if "reserve" in by:
            out[f"reserve >= {TARGET_RESERVES_PER_S:.0f}/s"] = (
                by["reserve"].per_second >= TARGET_RESERVES_PER_S
            )
        out[f"p99 < {TARGET_P99_MS:.0f} ms"] = all(p.p99_ms < TARGET_P99_MS for p in self.phases)
        if "mixed-read" in by:
            out[f"read p99 under writes <= {TARGET_MIXED_READ_P99_MS:.0f} ms"] = (
                by["mixed-read"].p99_ms <= TARGET_MIXED_READ_P99_MS
            )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in asdict(self).items() if k != "phases"},
            "phases": [asdict(p) for p in self.phases],
            "targets": self.verdicts(),
        }


def run(
    urls: Sequence[str],
    tokens: Sequence[str],
    *,
    clients: int,
    duration: float,
    database: str,
    phases: Sequence[str] = PHASES,
    model: str = "H100",
    cpu: Callable[[], float] | None = None,
) -> ApiBenchResult:
    results = [
        r
        for op in phases
        for r in run_phase(urls, tokens, op, clients=clients, duration=duration, model=model, cpu=cpu)
    ]
    return ApiBenchResult(clients, len(urls), database, duration, results)
