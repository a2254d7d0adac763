"""Which placement engine the control plane uses.

The control plane places every decision on a fresh capacity snapshot, and the server decides in
several threads at once, so each decision gets its own policy instance: the stateful scorers (FGD's
fragmentation cache) then never see two snapshots interleaved. Building a policy is cheap (its
caches fill lazily).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from neocloud.control.domain.shapes import Placer
from neocloud.fleet.capacity import Capacity
from neocloud.placement.framework import Verdict
from neocloud.placement.policies import get_policy
from neocloud.placement.request import Request


@dataclass(frozen=True, slots=True)
class PolicyPlacer:
    """Places each request with a fresh instance of the named policy."""

    name: str

    def place(self, req: Request, cap: Capacity, rng: random.Random) -> Verdict:
        return get_policy(self.name).place(req, cap, rng)


def placer(name: str) -> Placer:
    """The placer for policy `name`; an unknown name raises InvalidInput listing the known ones."""
    get_policy(name)
    return PolicyPlacer(name)
