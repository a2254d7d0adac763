"""The nodes this process's admissions hold right now: claimed (locked) by a unit of work that has not
ended yet.

Placement is deterministic, so concurrent decisions on one model choose the same best node; all but
one then fail their claim (PostgreSQL's SKIP LOCKED), and decide again without it: k decisions at once
took up to k rounds each (3.3 claim rounds per reservation with 2 servers × 4 admission slots). A
decision that starts by excluding the nodes its own process already holds collides only with other
processes. Excluding nodes is only ever a narrower search: the claim and the check after it
(control/app/admit.py) still decide, and a decision that finds no fit while excluding looks again
without the exclusions."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


class InFlight:
    """A multiset of node ids, safe across threads: `held()` is a snapshot, `holding(nodes)` adds them
    for the duration of a `with` block (a node two decisions hold is held until both let it go)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: Counter[str] = Counter()

    def held(self) -> set[str]:
        with self._lock:
            return set(self._held)

    def add(self, nodes: Iterable[str]) -> list[str]:
        added = list(nodes)
        with self._lock:
            self._held.update(added)
        return added

    def release(self, nodes: Iterable[str]) -> None:
        with self._lock:
            self._held.subtract(nodes)
            for node in [n for n, count in self._held.items() if count <= 0]:
                del self._held[node]

    @contextmanager
    def holding(self) -> Iterator[list[str]]:
        """A list to which the block appends the nodes it claims (via `add`); all released at the end."""
        mine: list[str] = []
        try:
            yield mine
        finally:
            self.release(mine)
