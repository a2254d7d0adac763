"""Reader of the Microsoft Philly trace (multi-tenant GPU training cluster, 2017).

`philly.csv`: `timestamp` (submission, "YYYY-MM-DD HH:MM:SS", taken as UTC), `duration` (seconds),
`num_gpus`, `gpu_time` (GPU-seconds), `cluster` (virtual cluster id); see ../shared/data/philly/README.md.
Jobs are returned sorted by submission, with submission times in seconds from the first job. A bad file
raises InvalidInput naming the file, the line and the field. The data is never committed: the default
location is ../shared/data/philly/philly.csv (NEOCLOUD_PHILLY overrides it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from neocloud.kernel.errors import InvalidInput
from neocloud.traces.openb import _bad, _rows
from neocloud.traces.shared_data import shared_data

COLUMNS = ("timestamp", "duration", "num_gpus", "cluster")
FILE = "philly.csv"


@dataclass(frozen=True, slots=True)
class PhillyJob:
    submit_s: float  # seconds after the trace's first submission
    duration_s: float
    gpus: int
    cluster: str


@dataclass(frozen=True, slots=True)
class PhillyTrace:
    jobs: tuple[PhillyJob, ...]
    first: datetime
    span_s: float  # from the first submission to the last

    def peak_concurrent(self, unit: int = 1) -> int:
        """The most GPUs running at once if every job starts at submission, sizes rounded up to
        multiples of `unit` (the fleet's node shape): the trace's demand peak the scaling rule uses."""
        return peak_concurrent(self.jobs, unit)


def peak_concurrent(jobs: Sequence[PhillyJob], unit: int = 1) -> int:
    edges: list[tuple[float, int]] = []
    for j in jobs:
        g = -(-j.gpus // unit) * unit
        edges.append((j.submit_s, g))
        edges.append((j.submit_s + j.duration_s, -g))
    edges.sort(key=lambda e: (e[0], e[1]))  # ends before starts at the same instant
    level = peak = 0
    for _, d in edges:
        level += d
        peak = max(peak, level)
    return peak


def default_path() -> Path | None:
    """NEOCLOUD_PHILLY, else ../shared/data/philly/philly.csv, when present (`shared_data`)."""
    return shared_data(f"philly/{FILE}", "NEOCLOUD_PHILLY")


def _float(path: Path, line: int, row: dict[str, str], field: str) -> float:
    text = row.get(field, "")
    try:
        value = float(text)
    except ValueError:
        raise _bad(path, line, field, f"expected a number, found {text!r}") from None
    if not value >= 0:
        raise _bad(path, line, field, f"must be >= 0, found {text}")
    return value


def read_trace(path: Path | str | None = None) -> PhillyTrace:
    """All jobs of the trace at `path` (a file or the directory holding philly.csv)."""
    if path is None:
        found = default_path()
        if found is None:
            raise InvalidInput(
                "the Philly trace was not found: put philly.csv in ../shared/data/philly/ or set NEOCLOUD_PHILLY",
                details={"field": "trace"},
            )
        path = found
    p = Path(path)
    if p.is_dir():
        p = p / FILE
    raw: list[tuple[datetime, float, int, str]] = []
    for line, row in _rows(p, COLUMNS):
        try:
            at = datetime.fromisoformat(row["timestamp"]).replace(tzinfo=UTC)
        except ValueError:
            raise _bad(
                p, line, "timestamp", f"expected YYYY-MM-DD HH:MM:SS, found {row['timestamp']!r}"
            ) from None
        gpus_text = row["num_gpus"]
        try:
            gpus = int(float(gpus_text))
        except ValueError:
            raise _bad(p, line, "num_gpus", f"expected an integer, found {gpus_text!r}") from None
        if gpus < 1:
            continue  # CPU-only jobs do not ask for GPU capacity
        raw.append((at, _float(p, line, row, "duration"), gpus, row["cluster"]))
    if not raw:
        raise InvalidInput(f"{p}: no GPU jobs in the trace", details={"file": str(p), "field": "num_gpus"})
    raw.sort(key=lambda r: r[0])
    first = raw[0][0]
    jobs = tuple(PhillyJob((at - first).total_seconds(), d, g, c) for at, d, g, c in raw)
    return PhillyTrace(jobs, first, jobs[-1].submit_s)
