"""How the openb benchmarks build a policy: the FGD artifact's tie-break between equally scored nodes,
and the request distribution each policy plans for."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from neocloud.fleet.fleet import Fleet
from neocloud.placement import policies
from neocloud.placement.framework import Policy
from neocloud.placement.workload import TYPICAL_COVERAGE, Workload
from neocloud.traces.openb import OpenbPod


def artifact_node_order(fleet: Fleet, seed: int) -> npt.NDArray[np.int64]:
    """The artifact's tie-break priority of each node: its scheduler (a Kubernetes 1.20.5 fork,
    `selectHost`) gives a tie to the node with the smallest name, "for reproducibility", and the
    simulator renames every node to a seeded random permutation index + its name before scheduling.
    So ties go to the first node of one seeded random order, the same for the whole run."""
    perm = list(range(len(fleet.nodes)))
    random.Random(f"{seed}:node-names").shuffle(perm)
    return np.asarray(perm, dtype=np.int64)


def with_artifact_ties(policy: Policy, fleet: Fleet, seed: int) -> Policy:
    """`policy` with the artifact's tie-break (see `artifact_node_order`) when it has scorers; a
    policy without scorers (random) keeps choosing uniformly, as the artifact's RandomScore does."""
    if not policy.scorers:
        return policy
    return dataclasses.replace(policy, tie_order=artifact_node_order(fleet, seed))


def planned_policy(policy_name: str, pods: Sequence[OpenbPod], workload: Workload) -> Policy:
    """The policy called `policy_name`, planning for the request distribution it asks for: the
    artifact's baselines plan for its "typical pods" (`workload`, 95 % coverage); a policy whose
    `extra["planning_coverage"]` names another coverage (neocloud's `default`: every shape of the list)
    is rebuilt for the shapes of `pods` with that coverage."""
    policy = policies.get_policy(policy_name, workload)
    coverage = policy.extra.get("planning_coverage")
    if isinstance(coverage, float) and coverage != TYPICAL_COVERAGE:
        policy = policies.get_policy(policy_name, Workload.from_requests((p.request for p in pods), coverage))
    return policy
