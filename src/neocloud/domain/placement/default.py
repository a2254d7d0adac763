"""neocloud's own `default` placement policy: FGD's judgement, with packing instead of dice.

FGD scores a node by how much the expected fragmentation (measured against the workload's request
distribution) would grow, on a coarse 0–100 scale; many nodes tie, and the published policy then picks
one at random. Random choice among equals spreads load: each spread-out request leaves one more
partly used node, and partly used nodes are where fragmentation comes from. `default` keeps FGD's
verdict and breaks its ties by the packing principle:

1. FGD's score (the expected fragmentation growth, at FGD's own resolution) decides first;
2. among nodes FGD cannot tell apart, a whole-GPU request never breaks a wholly free node while a
   partly used one fits it (whole nodes are what large jobs and whole-node cloud requests need);
3. then the node left with the least free GPU (and, secondarily, CPU) after placing wins, so requests
   fill partly used nodes before opening new ones, and CPU-only requests go where the GPUs are already
   spoken for, which strands no GPU behind exhausted CPUs.

A sharing request takes the GPU with the least free capacity that fits it (best fit within the
node), which keeps whole GPUs whole for the requests that need them.
"""

from __future__ import annotations

from neocloud.domain.placement.fgd import FgdScore, Fragmentation
from neocloud.domain.placement.filters import standard_filters
from neocloud.domain.placement.framework import Policy
from neocloud.domain.placement.gpus import tightest_gpus
from neocloud.domain.placement.scorers import PreserveWholeNodes, Snugness
from neocloud.domain.placement.workload import Workload

# Weights encode precedence. FGD's scores are whole numbers, so anything below 1 only breaks its ties:
# PreserveWholeNodes is 0 or -1 (weight 0.5 stays below one FGD point), Snugness lies in [-1, 0]
# (weight 0.01 stays below PreserveWholeNodes).
_PRESERVE_WEIGHT = 0.5
_SNUG_WEIGHT = 0.01


def neocloud_default(workload: Workload | None = None) -> Policy:
    frag = Fragmentation(workload)
    return Policy(
        "default",
        standard_filters(),
        (
            (FgdScore(frag), 1.0),
            (PreserveWholeNodes(whole_gpu_only=True), _PRESERVE_WEIGHT),
            (Snugness(), _SNUG_WEIGHT),
        ),
        tightest_gpus,
        "FGD's fragmentation score, ties broken by keeping whole nodes whole, then by packing",
        extra={"fragmentation": frag},
    )
