"""The clock port every context reads time through (STYLE.md example 3: the domain never reads it).

Production passes `neocloud.infra.clock.SystemClock`, tests `ManualClock`, the simulator its engine.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...
