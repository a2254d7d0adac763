"""neocloud's own `default` placement policy: FGD's judgement, with principled tie-breaking.

FGD scores a node by how much the expected fragmentation (measured against the workload's request
distribution) would grow, on its coarse 0–100 scale, and picks at random among the many nodes that
tie. Random choice among equals spreads load: every spread-out request leaves one more partly used
node, and partly used nodes are where fragmentation and stranded GPUs come from. `default` keeps FGD's
verdict and breaks its ties by three rules, in this order:

1. Keep whole nodes whole: never break a wholly free node while a partly used node FGD rates as
   highly fits the request (whole nodes are what multi-GPU jobs and whole-node cloud requests need).
2. Put CPU-only requests where CPU is to spare: on the node with the most CPU left beyond what its free
   GPUs are expected to need (the workload's CPU per GPU), so CPU work strands no GPU.
3. Fill nodes in one consistent order (the fleet's node order), so that successive requests pile onto
   the same partly used nodes instead of opening new ones at random: load concentrates, and the nodes
   at the end of the order stay whole.

A sharing request takes the GPU with the least free capacity that fits it (best fit within the node),
keeping whole GPUs whole.
"""

from __future__ import annotations

from neocloud.domain.placement.fgd import FgdScore, Fragmentation
from neocloud.domain.placement.filters import standard_filters
from neocloud.domain.placement.framework import Policy
from neocloud.domain.placement.gpus import tightest_gpus
from neocloud.domain.placement.scorers import NodeOrder, PreserveWholeNodes, SpareCpu
from neocloud.domain.placement.workload import Workload

# Weights encode precedence. FGD's scores are whole numbers, so anything below 1 only breaks its ties:
# PreserveWholeNodes is 0 or -1 (x 0.5), SpareCpu lies in [-1, 1] (x 0.01), NodeOrder in (-1, 0]
# (x 1e-3).
_PRESERVE_WEIGHT = 0.5
_SPARE_WEIGHT = 0.01
_ORDER_WEIGHT = 1e-3


def neocloud_default(workload: Workload | None = None) -> Policy:
    frag = Fragmentation(workload)
    return Policy(
        "default",
        standard_filters(),
        (
            (FgdScore(frag), 1.0),
            (PreserveWholeNodes(), _PRESERVE_WEIGHT),
            (SpareCpu(workload), _SPARE_WEIGHT),
            (NodeOrder(), _ORDER_WEIGHT),
        ),
        tightest_gpus,
        "FGD's fragmentation score; ties: keep whole nodes whole, CPU work where CPU is spare, fill in order",
        extra={"fragmentation": frag},
        untouched_interchangeable=True,
    )
