"""neocloud's own `default` placement policy: FGD's judgement, with principled tie-breaking.

FGD scores a node by how much the expected fragmentation (measured against the workload's request
distribution) would grow, on its coarse 0–100 scale, so many nodes tie. Which of them wins decides
where load concentrates. `default` keeps FGD's verdict and breaks its ties by four rules, in this
order:

1. Keep whole nodes whole: never break a wholly free node while a partly used node FGD rates as
   highly fits the request (whole nodes are what multi-GPU jobs and whole-node cloud requests need).
2. For a GPU-sharing request, the exact growth of fragmentation. FGD's integer score is
   ⌊100·sigmoid(−Δ/1000)⌋: steps of roughly 40 milli-GPU near Δ = 0. A sharing request takes a fraction
   of one GPU, so the nodes it could go to differ by fractions of that step, and the quantisation
   throws the choice away; the unquantised Δ is the same measure, so it is the natural tie-break.
   (Whole-GPU requests move Δ in whole GPUs, which the integer score already resolves.)
3. For a CPU-only request, best fit into stranded CPU: CPU a node has beyond what its free GPUs are
   expected to need (the workload's CPU per GPU) is CPU no GPU request will use. CPU-only work goes
   there first, and packs it tightly, so that large pieces of spare CPU stay for the next CPU-only
   requests instead of being nibbled at everywhere until CPU-only work must eat into GPU nodes' needs.
4. Fill nodes in one consistent order, so that successive requests pile onto the same partly used
   nodes instead of opening new ones at random: load concentrates. The order interleaves the kinds
   of node (`SpreadOrder`) instead of following the fleet's listing: fleet files list nodes of one
   kind together, and filling in listing order uses up one kind first (measured on openb: the
   CPU-heavy mix cpu250 left 8.3 % unallocated in listing order, 7.1 % in an order that interleaves
   the kinds, seeds 42–43).

A sharing request takes the GPU with the least free capacity that fits it (best fit within the node),
keeping whole GPUs whole.

Every rule is a function of the candidate node's free state, its kind and the workload. No rule has
a constant fitted to a trace: the weights below only set precedence.

Speed: the rules run as one scorer (`DefaultScore`) over the candidate nodes. FGD's growth is
computed once per decision (memoised per request shape, refreshed only for the nodes that changed)
and read twice, quantised for rule 0 and exact for rule 2; the other rules are a few array operations.
Untouched nodes of one profile are interchangeable under every rule, so the candidates are first
narrowed to one untouched node per profile (`Policy.untouched_interchangeable`; a test checks it
decides as the full scan does): at 100k nodes a full scan makes single-node placement ≈6× slower.

`neocloud_default(workload, rules)` builds the policy from a subset of `RULES` (and the optional
`gpu-by-fragmentation` picker: a sharing pod takes the GPU whose use grows fragmentation least, exact,
instead of the tightest GPU), so each rule's effect can be measured alone (`scripts/openb_ablation.py`).
"""

from __future__ import annotations

from neocloud.fleet.capacity import MILLI, Capacity
from neocloud.placement.fgd import FgdGpus, Fragmentation, sigmoid_score
from neocloud.placement.filters import standard_filters
from neocloud.placement.framework import Candidates, GpuPicker, Policy, Scores
from neocloud.placement.pickers import tightest_gpus
from neocloud.placement.request import Request
from neocloud.placement.scorers import PreserveWholeNodes, SpreadOrder, StrandedCpuFit
from neocloud.placement.workload import Workload

# Weights encode precedence. FGD's scores are whole numbers, so anything below 1 only breaks its ties:
# PreserveWholeNodes is 0 or -1 (x 0.5); the exact growth (sharing requests only, in GPUs, a fraction
# of one GPU within an FGD tie) and StrandedCpuFit (CPU-only requests only, in [-1, 0.5]) never apply
# to the same request (x 0.01); SpreadOrder lies in (-1, 0] (x 1e-3). The last two overlap on purpose:
# an earlier node wins over a later one whose fit is better by less than a tenth of the scale (under
# 0.1 GPU of fragmentation at the far end of the order), so small gains never open nodes out of order.
_PRESERVE_WEIGHT = 0.5
_EXACT_WEIGHT = 0.01
_CPU_WEIGHT = 0.01
_ORDER_WEIGHT = 1e-3


RULES: frozenset[str] = frozenset({"whole-nodes", "sharing-growth", "stranded-cpu", "spread-order"})
"""The rules `default` uses, by the names `neocloud_default(rules=...)` takes (for ablation)."""
OPTIONAL_RULES: frozenset[str] = frozenset({"gpu-by-fragmentation"})


class DefaultScore:
    """The rules in one vectorised pass over the candidates: FGD's growth is computed once and read
    both quantised (FGD's score) and exact (the sharing tie-break), instead of by two scorers."""

    name = "default"

    def __init__(self, frag: Fragmentation, workload: Workload | None, rules: frozenset[str]) -> None:
        self.frag = frag
        self.preserve = PreserveWholeNodes() if "whole-nodes" in rules else None
        self.exact = "sharing-growth" in rules
        self.cpu = StrandedCpuFit(workload) if "stranded-cpu" in rules else None
        self.order = SpreadOrder() if "spread-order" in rules else None

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        growth = self.frag.best_growth(req, cap, candidates)
        total = sigmoid_score(growth)
        if self.preserve is not None:
            total += _PRESERVE_WEIGHT * self.preserve(req, cap, candidates)
        if self.exact and req.shares_gpu:
            total -= _EXACT_WEIGHT / MILLI * growth
        if self.cpu is not None and req.gpus == 0:
            total += _CPU_WEIGHT * self.cpu(req, cap, candidates)
        if self.order is not None:
            total += _ORDER_WEIGHT * self.order(req, cap, candidates)
        return total


def neocloud_default(workload: Workload | None = None, rules: frozenset[str] = RULES) -> Policy:
    """The policy, built from the rules named in `rules` (FGD's score is always the first)."""
    unknown = rules - RULES - OPTIONAL_RULES
    if unknown:
        raise ValueError(f"unknown rules {sorted(unknown)}")
    frag = Fragmentation(workload)
    picker: GpuPicker = FgdGpus(frag) if "gpu-by-fragmentation" in rules else tightest_gpus
    return Policy(
        "default",
        standard_filters(),
        ((DefaultScore(frag, workload, rules), 1.0),),
        picker,
        "FGD's fragmentation score; ties: keep whole nodes whole, sharing by exact fragmentation growth, "
        "CPU work best-fit into stranded CPU, fill in one hashed node order",
        extra={"fragmentation": frag},
        untouched_interchangeable=True,
    )
