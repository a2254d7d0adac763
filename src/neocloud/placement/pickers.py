"""GPU pickers: which slots of the chosen node a request takes."""

from __future__ import annotations

import random

from neocloud.fleet.capacity import MILLI, Capacity
from neocloud.placement.request import Request


def tightest_gpus(req: Request, cap: Capacity, node: int, rng: random.Random) -> tuple[int, ...]:
    """Whole requests take the lowest-numbered wholly free GPUs; a sharing request takes the GPU with the
    least free capacity that still fits it (ties broken at random), keeping whole GPUs whole."""
    values: list[int] = cap.gpu_free[node].tolist()
    if req.shares_gpu:
        need = req.gpu_milli
        least = min(v for v in values if v >= need)
        ties = [i for i, v in enumerate(values) if v == least]
        return (ties[rng.randrange(len(ties))],)
    return tuple([i for i, v in enumerate(values) if v == MILLI][: req.gpus])
