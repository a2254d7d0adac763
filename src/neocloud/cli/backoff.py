"""Capped exponential backoff for the loops that must outlive a database outage: the reconciler beside
`neocloud serve` and `neocloud worker`."""

from __future__ import annotations

MAX_BACKOFF_S = 30.0


class Backoff:
    """After each failure in a row the wait doubles, from `base` seconds up to `cap`; a success resets it.
    The caller logs once per failure, so an outage costs one line per (ever longer) step, not a flood."""

    def __init__(self, base: float, cap: float = MAX_BACKOFF_S) -> None:
        self.base = base
        self.cap = max(cap, base)
        self.in_a_row = 0

    def failed(self) -> float:
        """Count a failure; the seconds to wait before the next attempt."""
        self.in_a_row += 1
        return float(min(self.cap, self.base * 2 ** min(self.in_a_row - 1, 32)))

    def succeeded(self) -> int:
        """Reset; how many failures in a row preceded this success."""
        before, self.in_a_row = self.in_a_row, 0
        return before
