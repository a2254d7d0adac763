"""Topology-aware gang placement (being written: see the foundation issue, section 3)."""

from __future__ import annotations

import random

from neocloud.domain.capacity import Capacity
from neocloud.domain.placement.framework import Policy, Unschedulable, Verdict
from neocloud.domain.placement.request import Request


def place_gang(policy: Policy, req: Request, cap: Capacity, rng: random.Random) -> Verdict:
    raise NotImplementedError("gang placement lands with the scale work")
    return Unschedulable({})
