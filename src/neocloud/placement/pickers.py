"""GPU pickers: which slots of the chosen node a request takes."""

from __future__ import annotations

import random

import numpy as np

from neocloud.fleet.capacity import MILLI, Capacity
from neocloud.placement.request import Request


def tightest_gpus(req: Request, cap: Capacity, node: int, rng: random.Random) -> tuple[int, ...]:
    """Whole requests take the lowest-numbered wholly free GPUs; a sharing request takes the GPU with the
    least free capacity that still fits it (ties broken at random), keeping whole GPUs whole."""
    row = cap.gpu_free[node]
    if req.shares_gpu:
        fits = np.flatnonzero(row >= req.gpu_milli)
        least = row[fits].min()
        ties = fits[row[fits] == least]
        return (int(ties[rng.randrange(len(ties))]),)
    free = np.flatnonzero(row == MILLI)
    return tuple(int(s) for s in free[: req.gpus])
