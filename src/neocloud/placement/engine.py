"""The placement engine: dispatch a request to the single-node pipeline or the gang algorithm, and the
placer the control plane uses.

`place(policy, req, cap, rng)` is the one entry point: a single-node request runs the policy's filters
and scorers (`Policy.place_node`); a gang (`req.nodes > 1`) runs `place_gang`, which reuses the same
policy's filters, scoring and GPU picker inside the smallest topology domain that holds it. The
framework never imports an algorithm; this module sits above both.

The control plane places every decision on a fresh capacity snapshot, and the server decides in
several threads at once, so each thread keeps its own policy instance and reuses it from one decision
to the next: the stateful scorers then never see two snapshots interleaved, and their tables (FGD's,
built per fleet) are built once per thread instead of once per decision. Reuse is exact: every cache a
policy keeps is tied to the capacity (or fleet) it was computed from and starts over on another one.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from neocloud.fleet.capacity import Capacity
from neocloud.placement.framework import Placer, Policy, Verdict
from neocloud.placement.gang import place_gang
from neocloud.placement.policies import get_policy
from neocloud.placement.request import Request


def place(policy: Policy, req: Request, cap: Capacity, rng: random.Random) -> Verdict:
    """Where `req` goes on `cap` under `policy`: a Placement, or Unschedulable with its reasons."""
    if req.is_gang:
        return place_gang(policy, req, cap, rng)
    return policy.place_node(req, cap, rng)


@dataclass(frozen=True, slots=True)
class PolicyPlacer:
    """Places each request with the named policy: one instance per thread, reused across decisions."""

    name: str
    _local: threading.local = field(default_factory=threading.local, compare=False, repr=False)

    def policy(self) -> Policy:
        """This thread's instance of the policy."""
        policy: Policy | None = getattr(self._local, "policy", None)
        if policy is None:
            policy = get_policy(self.name)
            self._local.policy = policy
        return policy

    def place(self, req: Request, cap: Capacity, rng: random.Random) -> Verdict:
        return place(self.policy(), req, cap, rng)


def placer(name: str) -> Placer:
    """The placer for policy `name`; an unknown name raises InvalidInput listing the known ones."""
    get_policy(name)
    return PolicyPlacer(name)
