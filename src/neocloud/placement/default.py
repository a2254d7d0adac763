"""neocloud's own `default` placement policy: FGD's judgement of fragmentation, extended to GPUs stranded
for lack of CPU or memory and to GPU models that model-bound requests need,
planned for every request shape (for the typical ones when CPU runs out first), with principled
tie-breaking.

FGD scores a node by how much the expected fragmentation (measured against the workload's request
distribution) would grow, on its coarse 0–100 scale (⌊100·sigmoid(−Δ/1000)⌋), so many nodes tie.
`default` changes what Δ measures (rules 1–2, 8 and 9), breaks the remaining ties (rules 3–6), and
plans differently when CPU is the scarce resource (rule 7):

1. Plan for every shape (`all-shapes`). The FGD artifact measures fragmentation against its "typical
   pods", the most frequent shapes covering 95 % of the requests. Frequency is by count, and the rare
   shapes it drops are the large ones: on the default openb list every 2-, 4- and 8-GPU pod shape is
   dropped (75 of 8,152 pods, but 7.3 % of the GPU request), so FGD never keeps room for them.
   `default` plans for all the shapes the list holds (`PLANNING_COVERAGE` = 1: no threshold to choose).
2. Count GPUs stranded for lack of CPU (`stranded-gpus`). Δ becomes FGD's growth plus the growth of
   the node's GPU capacity that its free CPU can no longer serve at the workload's CPU per GPU (the
   GPU-weighted mean of the GPU shapes' CPU per GPU): max(0, free GPU − free CPU / CPU-per-GPU), after
   placing minus before (`StrandedGpuGrowth`). Both terms are expected unusable GPU in milli-GPU, so
   they add. FGD sees CPU only through each shape's all-or-nothing fit; near full load the GPUs that
   go unused are on nodes whose CPU ran out (openb multigpu40*, seed 42, previous `default`: at the end
   232 nodes had a free GPU and under 4 free CPUs, and one-GPU pods failed from 97 % arrived), and this
   term keeps CPU-hungry requests (CPU-only ones included) off nodes whose GPUs need that CPU. The
   term treats the fleet's GPUs as one resource (a GPU anywhere serves any GPU request). When some
   requests may use only some GPU models they are not, and the term moves load across models by CPU
   balance alone: it pulls requests that could go anywhere onto the CPU-poor nodes of the scarce
   models (openb's P100 and V100 nodes), and the requests bound to those models fail (gpuspec25*,
   seed 42: 1.35 x FGD with the term, 0.96 without; gpuspec33* 1.08 and 0.90). Rule 8 stops that
   pull, and with rule 8 the term is on for model-bound workloads too; without rule 8 it is off for
   them. Counting only stranding that grows (no pull) was measured and is not enough (gpuspec25* 1.07,
   cpu250* 1.03).
3. Keep whole nodes whole (`whole-nodes`): never break a wholly free node while a partly used node
   scoring as highly fits the request (whole nodes are what multi-GPU jobs and whole-node requests need).
4. For a GPU-sharing request, the exact growth (`sharing-growth`): a sharing request takes a fraction
   of one GPU, so the nodes it could go to differ by fractions of one quantisation step (≈40 milli-GPU
   near Δ = 0), which the integer score throws away; the unquantised Δ is the same measure, so it is
   the natural tie-break. (Whole-GPU requests move Δ in whole GPUs, which the integer score resolves;
   breaking their ties by exact Δ as well was worse on seed 42: `exact-all`, below.)
5. For a CPU-only request, best fit into stranded CPU (`stranded-cpu`): CPU a node has beyond what its
   free GPUs are expected to need (the workload's CPU per GPU) is CPU no GPU request will use. CPU-only
   work goes there first, and packs it tightly, so that large pieces of spare CPU stay for the next
   CPU-only requests instead of being nibbled at everywhere until CPU-only work must eat into GPU
   nodes' needs.
6. Fill nodes in one consistent order (`spread-order`), so that successive requests pile onto the same
   partly used nodes instead of opening new ones at random: load concentrates. The order interleaves
   the kinds of node (`SpreadOrder`) instead of following the fleet's listing: fleet files list nodes of
   one kind together, and filling in listing order uses up one kind first.

7. When CPU, not GPU, runs out, reserve nothing for the large requests (`cpu-scarcity`). The workload
   asks Σ p·CPU / Σ p·GPU of CPU per unit of GPU (CPU-only requests included, all shapes); if that
   times the fleet's GPU capacity exceeds the fleet's CPU, the fleet's CPU is gone before its GPUs are
   (`cpu_binds`), and some requests must fail whatever the placement. Rules 1 and 3 keep room for the
   largest requests (the rare multi-GPU shapes FGD drops; whole nodes), which ask the most of the
   resource that runs out and are the first to find no room under contention: holding CPU and GPUs
   back for them then leaves them unused. So, on such a workload, `default` measures fragmentation
   against FGD's typical shapes (`Workload.covering(TYPICAL_COVERAGE)`: the artifact's 95 % cut) and
   does not keep whole nodes whole; the stranded-GPU and stranded-CPU terms keep the CPU per GPU of
   all the shapes. The test compares demand with supply (no constant): on openb it holds for cpu250*
   alone (CPU demand 1.03 x the fleet's CPU; cpu200* 0.93, every other workload ≤ 0.89), where it
   changes 7.52 % unallocated (1.024 x FGD) to 7.10 % (0.967 x FGD; lower than before on all ten seeds
   42–51, lower than FGD on eight). Dropping only rule 1 there gave 0.990 and only rule 3 1.005;
   dropping `stranded-cpu` (1.023) or `stranded-gpus` (1.043) did not help. On every other workload
   the decisions are unchanged.
   When CPU binds, the GPU nodes' host resources run out before their GPUs, and memory with the CPU:
   at 100 % arrived pods fail for lack of memory on nodes that still have GPU and CPU room. So under
   rule 7 a node's GPUs count as stranded when its free memory cannot serve them either, at the
   memory the workload asks per unit of GPU (`Workload.memory_per_gpu_milli`: all requests, CPU-only
   ones included, as rule 7's test reads CPU): max(0, free GPU − min(free CPU / CPU-per-GPU, free
   memory / memory-per-GPU)). On cpu250* 7.10 → 6.62 ± 0.10 % unallocated (0.967 → 0.901 x FGD;
   seeds 42–51, lower than before and than FGD on all ten; seeds 42–44 7.08 → 6.61); with the GPU
   requests' memory per GPU alone 7.02 (so it is the CPU-only work's memory that must be left room
   for). At that whole-workload ratio on every workload it was measured and not adopted: −0.02 to
   −0.07 points on the CPU levels, but +0.04 to +0.20 on every multi-GPU level (seeds 42–44). Our
   reading, not shown: outside CPU scarcity the CPU-only work has room of its own and that ratio
   over-reserves; rule 9 uses the GPU requests' ratio there.

8. Keep the GPU models that model-bound requests need for them (`model-scarcity`). FGD weighs shapes
   by how often they occur: a GPU that some frequent shape may not use counts as fragmentation for
   it, so using that GPU up looks like removing fragmentation, whatever the model has left for the
   requests that can use nothing else. Rule 8 compares, per GPU model, the demand that can use only
   some models with the supply (`ModelScarcity`): each model-bound GPU shape asks, by the time the
   fleet's GPUs have all been requested, its share of the GPU demand times the fleet's capacity,
   spread over the GPUs of its models; a model's claim ρ_m sums that over the bound shapes that allow
   it (ρ_m ≥ 1: the bound demand alone fills it). A GPU request taking g milli-GPU on a node of model
   m adds g·min(ρ_m, 1) to the growth (minus the smallest over the candidates): the bound GPU capacity
   it takes. With it the stranded-GPU term stays on for model-bound workloads (rule 2). No constant:
   a comparison of demand with supply, as rule 7's. It acts only when some shape is model-bound (on
   openb gpuspec10 and the four gpuspec* levels); elsewhere the decisions are bit-identical. Measured
   (seeds 42–51, rules 1–8, ratio to FGD before → after; lower than before and than FGD on all ten
   seeds of all five): gpuspec10 0.864 → 0.778, gpuspec10* 0.943 → 0.837, gpuspec20* 0.965 → 0.830,
   gpuspec25* 0.986 → 0.832, gpuspec33* 0.908 → 0.486. Its two halves are needed together (seed 42): the claim without the stranded
   term (`-stranded-gpus`) 11.1–15.5 % (CPU-only work piles onto the unclaimed models' nodes and
   strands their GPUs), the stranded term without the claim 1.35 x FGD on gpuspec25* (above).
   Charging CPU-only requests the GPU their CPU would serve as well was measured and is worse on all
   five (seeds 42–44: 4.29 / 4.31 / 4.45 / 4.83 / 5.98): a CPU-only request takes no GPU, and the
   CPU it takes is the stranded term's to judge.
9. Count GPUs stranded for lack of memory (`stranded-memory`), as rule 2 counts those stranded for
   lack of CPU: a free GPU needs memory beside it as well as CPU, at the GPU requests' memory per
   GPU (`Workload.gpu_memory_per_gpu_milli`, read from the requests as rule 2's CPU per GPU is from
   the GPU shapes), so the node's stranded GPU is max(0, free GPU − min(free CPU / CPU-per-GPU, free
   memory / memory-per-GPU)). At 100 % arrived pods fail for lack of memory on every level diagnosed
   (0.04–1.6 points of default's unallocated GPU, seed 42: `scripts/openb_diagnose.py`). Measured on
   seeds 42–51 (`scripts/openb_ablation.py --variants +stranded-memory`): lower on 20 of the 21 rows
   by 0.002 to 0.06 points, none higher (cpu250*, where rule 7's ratio applies, unchanged); grid mean
   0.853 → 0.846 x FGD. It rides on rule 2:
   off wherever rule 2 is (a workload asking no CPU of its GPUs, or model-bound without rule 8).

A sharing request takes the GPU with the least free capacity that fits it (best fit within the node),
keeping whole GPUs whole; choosing it by fragmentation growth instead is the optional
`gpu-by-fragmentation`. Measured (`scripts/openb_ablation.py`, seed 42, and 43 on the gpushare
levels, 13 workloads): the same unallocated % on 8, +0.01 to +0.02 points on gpushare60*/100*, −0.01
on gpushare80*, −0.05 on gpuspec10: no gain where it could matter, so not adopted.

Every rule is a function of the candidate node's free state, its kind and the workload. No rule has
a constant fitted to a trace: the weights below only set precedence, the coverage is "all" (the
artifact's 95 % when CPU binds), and the CPU per GPU is read from the workload.

Measured (`scripts/openb_ablation.py`, seed 42, on default, cpu050, cpu050*, gpushare80*, multigpu30*,
multigpu40*, multigpu50*; mean and max over them of unallocated % / FGD's): rules 3–6 alone (the
previous `default`) 0.985 / 1.012; with stranded GPUs as a tie-break instead of in Δ (and all shapes)
0.946 / 0.989; with `stranded-gpus` 0.876 / 0.971, and with `all-shapes` as well 0.876 / 0.973.
Leaving one tie-break out of that: `whole-nodes` 0.874, `sharing-growth` 0.881, `stranded-cpu` 0.868,
`spread-order` 0.893 (multigpu40* 1.008). One seed: differences under ≈0.02 are noise, so only
`stranded-gpus` and `spread-order` are shown to matter; the others are kept as principled and not
shown to hurt. Left out: weighting the shapes by their GPU request instead of their count (1.03,
worse on every multi-GPU level), and exact Δ as the tie-break of whole-GPU requests (`exact-all`, 1.005).

Speed: the rules run as one scorer (`DefaultScore`) over the candidate nodes. FGD's growth is
computed once per decision (memoised per request shape, refreshed only for the nodes that changed);
the other rules are a few array operations. Untouched nodes of one profile are interchangeable under
every rule, so the candidates are first narrowed to one untouched node per profile
(`Policy.untouched_interchangeable`; a test checks it decides as the full scan does): at 100k nodes a
full scan makes single-node placement ≈6× slower.

`neocloud_default(workload, rules)` builds the policy from a subset of `RULES` plus `OPTIONAL_RULES`,
so each rule's effect can be measured alone (`scripts/openb_ablation.py`). `all-shapes` is a request
to the caller: the policy carries `extra["planning_coverage"]`, and `bench.openb_ties.planned_policy` builds it
for the distribution with that coverage (a policy is given a distribution, not the requests).
"""

from __future__ import annotations

from neocloud.fleet.capacity import MILLI, Capacity
from neocloud.fleet.fleet import Fleet
from neocloud.placement.fgd import FgdGpus, Fragmentation, sigmoid_score
from neocloud.placement.filters import standard_filters
from neocloud.placement.framework import Candidates, GpuPicker, Policy, Scores
from neocloud.placement.pickers import tightest_gpus
from neocloud.placement.request import Request
from neocloud.placement.scorers import (
    ModelScarcity,
    PreserveWholeNodes,
    SpreadOrder,
    StrandedCpuFit,
    StrandedGpuGrowth,
)
from neocloud.placement.workload import TYPICAL_COVERAGE, Workload

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

PLANNING_COVERAGE = 1.0
"""The share of the requests whose shapes `default` plans for with `all-shapes`: all of them."""

RULES: frozenset[str] = frozenset(
    {
        "all-shapes",
        "stranded-gpus",
        "whole-nodes",
        "sharing-growth",
        "stranded-cpu",
        "spread-order",
        "cpu-scarcity",
        "model-scarcity",
        "stranded-memory",
    }
)
"""The rules `default` uses, by the names `neocloud_default(rules=...)` takes (for ablation)."""
OPTIONAL_RULES: frozenset[str] = frozenset({"gpu-by-fragmentation", "exact-all"})


def cpu_binds(workload: Workload | None, fleet: Fleet) -> bool:
    """Whether the workload asks more CPU than the fleet has by the time the fleet's GPUs are all
    allocated (its CPU per milli-GPU, CPU-only requests included, times the fleet's milli-GPU, against
    the fleet's CPU): then CPU, not GPU, is the resource that runs out (rule 7)."""
    if workload is None:
        return False
    need = workload.cpu_per_gpu_milli() * int(fleet.node_gpus.sum()) * MILLI
    return need > int(fleet.node_cpu.sum())


def _binds_models(workload: Workload | None) -> bool:
    """Whether some GPU request of the workload may use only some GPU models."""
    return workload is not None and any(s.gpus and s.models is not None for s in workload.shapes)


class DefaultScore:
    """The rules in one vectorised pass over the candidates: FGD's growth is computed once and read
    both quantised (the score) and exact (the sharing tie-break), instead of by two scorers."""

    name = "default"

    def __init__(self, frag: Fragmentation, workload: Workload | None, rules: frozenset[str]) -> None:
        self.frag = frag
        self.workload = workload
        self.scarcity = "cpu-scarcity" in rules
        self.replan = self.scarcity and "all-shapes" in rules  # the workload is the full distribution
        self._fleet: Fleet | None = None
        self._scarce = False
        self._typical: Fragmentation | None = None
        scarce_models = "model-scarcity" in rules and _binds_models(workload)
        # GPUs of different models are one resource for CPU only if nothing pulls the model-bound
        # requests' GPUs away (rule 2), which rule 8 prevents
        cpu = "stranded-gpus" in rules and (scarce_models or not _binds_models(workload))
        gpu_memory = workload.gpu_memory_per_gpu_milli if workload is not None else 0.0
        all_memory = workload.memory_per_gpu_milli if workload is not None else 0.0
        memory = gpu_memory if cpu and "stranded-memory" in rules else 0.0
        self.stranded = self._stranded(workload, cpu=cpu, memory=memory)
        # when CPU binds, GPUs are stranded for lack of memory as well (rule 7)
        self.stranded_scarce = self._stranded(
            workload, cpu=cpu, memory=all_memory if cpu and self.scarcity else memory
        )
        self.scarce_models = ModelScarcity(workload) if scarce_models else None
        self.preserve = PreserveWholeNodes() if "whole-nodes" in rules else None
        self.exact = "sharing-growth" in rules
        self.exact_all = "exact-all" in rules
        self.cpu = StrandedCpuFit(workload) if "stranded-cpu" in rules else None
        self.order = SpreadOrder() if "spread-order" in rules else None

    @staticmethod
    def _stranded(workload: Workload | None, *, cpu: bool, memory: float) -> StrandedGpuGrowth | None:
        stranded = StrandedGpuGrowth(workload, cpu=cpu, memory_per_gpu_milli=memory)
        return stranded if stranded.active else None  # None: nothing to strand

    def _plan(self, fleet: Fleet) -> Fragmentation:
        """The measure to use on `fleet`: FGD's typical shapes instead of all when CPU binds (rule 7)."""
        if fleet is not self._fleet:
            self._fleet = fleet
            self._scarce = self.scarcity and cpu_binds(self.workload, fleet)
        if self._scarce and self.replan and self.workload is not None:
            if self._typical is None:
                self._typical = Fragmentation(self.workload.covering(TYPICAL_COVERAGE))
            return self._typical
        return self.frag

    def __call__(self, req: Request, cap: Capacity, candidates: Candidates) -> Scores:
        frag = self._plan(cap.fleet)
        growth = frag.best_growth(req, cap, candidates)
        stranded = self.stranded_scarce if self._scarce else self.stranded
        if stranded is not None:
            growth = growth + stranded(req, cap, candidates)
        if self.scarce_models is not None:
            growth = growth + self.scarce_models(req, cap, candidates)
        total = sigmoid_score(growth)
        if self.preserve is not None and not self._scarce:
            total += _PRESERVE_WEIGHT * self.preserve(req, cap, candidates)
        if (self.exact and req.shares_gpu) or (self.exact_all and req.gpus):
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
    coverage = PLANNING_COVERAGE if "all-shapes" in rules else TYPICAL_COVERAGE
    return Policy(
        "default",
        standard_filters(),
        ((DefaultScore(frag, workload, rules), 1.0),),
        picker,
        "FGD's fragmentation growth plus GPUs stranded for lack of CPU or memory and GPU that model-bound requests "
        "need, over every request shape; ties: keep whole nodes whole, sharing by exact growth, CPU work "
        "best-fit into stranded CPU, fill in one interleaved node order; when CPU runs out before the "
        "GPUs, FGD's typical shapes, no whole-node reserve, and memory for the CPU-only work too",
        extra={"fragmentation": frag, "planning_coverage": coverage},
        untouched_interchangeable=True,
    )
