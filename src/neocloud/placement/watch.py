"""Which nodes changed since a stateful scorer last looked at a capacity.

Scorers that keep per-node state (FGD's fragmentation cache, GPU clustering's tags) must stay exact
whatever happened in between: placements, releases, another policy's decisions. Comparing against a
capacity's per-node change generation with the last one seen finds the touched rows (from the
capacity's log of recent changes, without looking at the other nodes, when the watch is recent), so
the cache is recomputed only for them and can never go stale.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from neocloud.fleet.capacity import Capacity

IntArray = npt.NDArray[np.int64]


class CapacityWatch:
    """Remembers the GPU and CPU free arrays of one capacity as last seen."""

    __slots__ = ("cap", "cpu", "gpu", "seen")

    def __init__(self) -> None:
        self.cap: Capacity | None = None
        self.seen = 0
        self.gpu: npt.NDArray[np.int32] = np.zeros((0, 0), dtype=np.int32)
        self.cpu: IntArray = np.zeros(0, dtype=np.int64)

    def changes(self, cap: Capacity) -> tuple[IntArray | None, npt.NDArray[np.int32], IntArray]:
        """(changed node indices or None when everything is new, previous GPU rows, previous CPU).

        The previous rows are those of the changed nodes, in the same order; afterwards the watch
        holds the current state.
        """
        if self.cap is not cap or self.gpu.shape != cap.gpu_free.shape:
            self.cap = cap
            self.gpu = cap.gpu_free.copy()
            self.cpu = cap.cpu_free.copy()
            self.seen = cap.generation
            return None, self.gpu[:0], self.cpu[:0]
        if cap.generation == self.seen:
            return np.zeros(0, dtype=np.int64), self.gpu[:0], self.cpu[:0]
        changed = cap.changed_since(self.seen)
        self.seen = cap.generation
        old_gpu = self.gpu[changed]  # fancy indexing copies
        old_cpu = self.cpu[changed]
        if changed.size:
            self.gpu[changed] = cap.gpu_free[changed]
            self.cpu[changed] = cap.cpu_free[changed]
        return changed, old_gpu, old_cpu
