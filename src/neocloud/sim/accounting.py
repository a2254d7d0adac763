"""GPU-second accounting of a run: piecewise-constant levels integrated over virtual time.

Every GPU of the fleet is, at every instant, exactly one of: unhealthy (its node failed and is not
repaired), allocated to a product (held by a live allocation on a healthy node), or idle. `Levels`
keeps the allocated GPUs per product and the unhealthy GPUs; idle is the rest, so the three partition
the fleet by construction and `check()` verifies no level ever goes negative or over the fleet.
Committed GPUs (reserved contracts in force, healthy or not) are tracked beside them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRODUCT_INDEX = {"reserved": 0, "on-demand": 1, "spot": 2}


class ConservationError(AssertionError):
    pass


@dataclass
class Levels:
    gpus: int
    t: float = 0.0
    alloc: list[int] = field(default_factory=lambda: [0, 0, 0])
    unhealthy: int = 0
    committed: int = 0
    held_down: int = (
        0  # reserved GPUs on failed nodes: held by an allocation, not delivered (part of unhealthy)
    )
    alloc_s: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    unhealthy_s: float = 0.0
    committed_s: float = 0.0
    idle_s: float = 0.0

    def advance(self, now: float) -> None:
        dt = now - self.t
        if dt <= 0:
            return
        a = self.alloc
        self.alloc_s[0] += a[0] * dt
        self.alloc_s[1] += a[1] * dt
        self.alloc_s[2] += a[2] * dt
        self.unhealthy_s += self.unhealthy * dt
        self.committed_s += self.committed * dt
        self.idle_s += (self.gpus - a[0] - a[1] - a[2] - self.unhealthy) * dt
        self.t = now

    def add(self, now: float, product: int, gpus: int) -> None:
        self.advance(now)
        self.alloc[product] += gpus
        if self.alloc[product] < 0 or self.allocated + self.unhealthy > self.gpus:
            raise ConservationError(
                f"allocated {self.alloc} + unhealthy {self.unhealthy} outside 0..{self.gpus}"
            )

    def fail(self, now: float, gpus: int) -> None:
        self.advance(now)
        self.unhealthy += gpus
        if self.unhealthy < 0 or self.allocated + self.unhealthy > self.gpus:
            raise ConservationError(
                f"allocated {self.alloc} + unhealthy {self.unhealthy} outside 0..{self.gpus}"
            )

    def commit(self, now: float, gpus: int) -> None:
        self.advance(now)
        self.committed += gpus

    @property
    def allocated(self) -> int:
        return self.alloc[0] + self.alloc[1] + self.alloc[2]


@dataclass
class Series:
    """Samples every `step` seconds of the levels and the power draw (MW)."""

    step: float
    rows: dict[str, list[float]] = field(default_factory=dict)

    def sample(self, t: float, lv: Levels, power_mw: float, queued: int, extra: dict[str, float]) -> None:
        row = {
            "t_days": t / 86400,
            "committed": float(lv.committed),
            "allocated": float(lv.allocated + lv.held_down),
            "delivered": float(lv.allocated),
            "healthy": float(lv.gpus - lv.unhealthy),
            "reserved": float(lv.alloc[0]),
            "on-demand": float(lv.alloc[1]),
            "spot": float(lv.alloc[2]),
            "unhealthy": float(lv.unhealthy),
            "power_mw": power_mw,
            "queued": float(queued),
            **extra,
        }
        for k, v in row.items():
            self.rows.setdefault(k, []).append(v)


def power_mw(allocated: int, gpus: int, idle_w: float, active_w: float, pue: float) -> float:
    """Facility draw: allocated GPUs at active draw, the others (idle or failed-but-powered) at idle draw."""
    return (allocated * active_w + (gpus - allocated) * idle_w) * pue / 1e6
