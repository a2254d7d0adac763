"""Figures from the outside world, in one documented place.

Every number here comes from ../shared/REFERENCE.md or ../shared/data/*/README.md, which cite the public
sources (NVIDIA DGX/HGX and SuperPOD reference architectures, Uptime Institute, CoreWeave/AWS/Lambda list
prices, Meta's Llama 3 paper and HPCA 2025 study, the openb trace). Code elsewhere refers to these names,
never to literals. "≈" figures are estimates derived from the cited ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final


@dataclass(frozen=True, slots=True)
class GpuFigures:
    """Hardware figures for one GPU model (REFERENCE.md, "GPUs and nodes")."""

    name: str
    memory_gb: int
    tdp_w: int
    nvlink_domain_gpus: int
    gpus_per_node: int
    node_max_kw: float
    vendor_name: str


# NVIDIA datasheets via REFERENCE.md. GB200: a "node" is one compute tray (4 GPUs + 2 Grace CPUs),
# 18 trays make one NVL72 rack and one NVLink domain.
DATACENTER_GPUS: Final[tuple[GpuFigures, ...]] = (
    GpuFigures("H100", 80, 700, 8, 8, 10.2, "H100 SXM"),
    GpuFigures("H200", 141, 700, 8, 8, 10.2, "H200"),
    GpuFigures("B200", 180, 1000, 8, 8, 14.3, "B200"),
    GpuFigures("GB200", 186, 1200, 72, 4, 6.67, "GB200 NVL72"),
)

# GB200 NVL72: 18 compute trays x 4 GPUs; rack ≈120-132 kW (8 x 33 kW power shelves).
NVL72_TRAYS_PER_RACK: Final = 18
NVL72_GPUS_PER_RACK: Final = 72
NVL72_RACK_KW: Final = 132.0

# DGX SuperPOD reference architectures.
H100_SU_NODES: Final = 32  # one scalable unit: 32 nodes / 256 GPUs, rail-optimised, 8 leaf + 4 spine
H100_SU_LEAVES: Final = 8
H100_SU_SPINES: Final = 4
GB200_SU_RACKS: Final = 8  # one scalable unit: 8 NVL72 racks = 576 GPUs at ≈1.2 MW
GB200_SU_MW: Final = 1.2
GB200_SUPERPOD_MAX_RACKS: Final = 128  # largest GB200 SuperPOD design: 128 racks / 9,216 GPUs (16 SUs)
# B200 SuperPOD: up to 64 SUs = 2,048 nodes with 512 leaf, 512 spine and 256 core switches.
B200_SUPERPOD_MAX_SUS: Final = 64

# Node and rack make-up not tabulated in REFERENCE.md, from the vendors' datasheets:
# DGX H100: 2 x 56-core Xeon Platinum 8480C, 2 TB memory; the DGX SuperPOD H100 reference design
# places 4 DGX H100 per rack (≈41 kW). GB200 compute tray: 2 Grace CPUs x 72 Arm cores,
# 2 x 480 GB LPDDR5X.
DGX_H100_CPU_CORES: Final = 112
DGX_H100_MEMORY_GIB: Final = 2048
DGX_H100_NODES_PER_RACK: Final = 4
GB200_TRAY_CPU_CORES: Final = 144
GB200_TRAY_MEMORY_GIB: Final = 960

# Facility.
PUE_INDUSTRY_AVERAGE: Final = 1.56  # Uptime Institute 2024
PUE_MODERN_AI_HALL: Final = 1.2  # liquid-cooled AI halls
PUE_BEST: Final = 1.1
FACILITY_KW_PER_GPU: Final = {"H100": 1.8, "B200": 2.5, "GB200": 2.4}  # at PUE 1.2-1.3
CAMPUS_1GW_GB200_GPUS: Final = 400_000  # ≈5.6k NVL72 racks, ≈100k compute trays
CAMPUS_1GW_GB200_RACKS: Final = 5_600
CAMPUS_1GW_FACILITY_MW: Final = 1_000.0

# openb (Alibaba GPU-sharing cluster, ATC'23): GPU models and the GPUs per node the trace gives.
# model -> GPU counts per node seen in openb_node_list_gpu_node.csv (data/openb/README.md).
OPENB_GPU_MODELS: Final[dict[str, tuple[int, ...]]] = {
    "G2": (8,),
    "G3": (8,),
    "T4": (2, 4),
    "P100": (1, 2),
    "V100M16": (1, 4, 8),
    "V100M32": (4, 8),
    "A10": (1,),
}
# Memory of the openb models where public (V100 16/32 GB, T4 16 GB, P100 16 GB, A10 24 GB);
# G2/G3 are anonymised by the trace's authors, their memory is not published (0 = unknown).
OPENB_GPU_MEMORY_GB: Final[dict[str, int]] = {
    "G2": 0,
    "G3": 0,
    "T4": 16,
    "P100": 16,
    "V100M16": 16,
    "V100M32": 32,
    "A10": 24,
}
OPENB_GPU_TDP_W: Final[dict[str, int]] = {
    "G2": 0,
    "G3": 0,
    "T4": 70,
    "P100": 250,
    "V100M16": 300,
    "V100M32": 300,
    "A10": 150,
}

# Published FGD artifact results: unallocated GPU % at arrived = 100 %, mean and sd over seeds 42-51
# (experiments/analysis/expected_results/analysis_allo_discrete.csv, via data/openb/README.md).
OPENB_PUBLISHED: Final[dict[str, dict[str, tuple[float, float]]]] = {
    "default": {
        "random": (13.70, 0.33),
        "dot-product": (9.38, 0.19),
        "gpu-clustering": (8.35, 0.61),
        "gpu-packing": (8.22, 0.53),
        "best-fit": (7.14, 0.14),
        "fgd": (4.77, 0.11),
    },
    "cpu050": {
        "random": (10.98, 0.26),
        "dot-product": (6.97, 0.19),
        "gpu-clustering": (6.48, 0.34),
        "gpu-packing": (6.54, 0.32),
        "best-fit": (6.44, 0.13),
        "fgd": (5.00, 0.11),
    },
    "gpushare40": {
        "random": (15.14, 0.34),
        "dot-product": (10.70, 0.14),
        "gpu-clustering": (10.24, 0.62),
        "gpu-packing": (10.23, 0.53),
        "best-fit": (8.56, 0.20),
        "fgd": (6.04, 0.07),
    },
    "gpuspec10": {
        "random": (13.74, 0.25),
        "dot-product": (9.83, 0.39),
        "gpu-clustering": (8.04, 0.71),
        "gpu-packing": (7.76, 0.65),
        "best-fit": (6.90, 0.21),
        "fgd": (5.34, 0.19),
    },
    "multigpu20": {
        "random": (13.08, 0.52),
        "dot-product": (8.15, 0.32),
        "gpu-clustering": (6.66, 0.60),
        "gpu-packing": (6.50, 0.64),
        "best-fit": (6.27, 0.25),
        "fgd": (4.47, 0.16),
    },
}
# The protocol (data/openb/README.md): arrivals continue until the GPU request would pass this multiple
# of the fleet's GPU capacity; results are mean +/- sd over these seeds.
OPENB_ARRIVAL_INFLATION: Final = 1.3
OPENB_SEEDS: Final = tuple(range(42, 52))
OPENB_ARTIFACT_SECONDS_PER_RUN: Final = 600.0  # "about 10 minutes per run (one policy, one seed) on 2 vCPUs"

# Money: list prices per GPU-hour, on demand, 2025-26 (USD). Reserved ≈40-60 % of on-demand list.
LIST_PRICE_USD_PER_GPU_HOUR: Final[dict[str, str]] = {
    "GB200": "10.50",  # CoreWeave
    "B200": "8.60",  # CoreWeave (Lambda 6.69)
    "H100": "6.16",  # CoreWeave (AWS p5 6.88, Lambda 3.99, market median ≈2.95 May 2026)
    "H200": "6.16",  # ≈ H100 list (no separate figure in REFERENCE.md)
}
SPOT_PRICE_USD_PER_GPU_HOUR: Final[dict[str, str]] = {"B200": "4.26", "H100": "2.46"}
RESERVED_SHARE_OF_ON_DEMAND: Final = (0.40, 0.60)
H100_1Y_RESERVED_USD: Final = "2.35"  # Mar 2026
FRENCH_VAT_RATE: Final = "0.20"
# The list prices above are 2025-26 figures: the default catalog applies them from the start of 2025.
LIST_PRICES_FROM: Final = "2025-01-01T00:00:00+00:00"
# Reserved price as a share of on-demand list, by term in months: ≈ a schedule spanning REFERENCE.md's
# "reserved contracts ≈40-60 % of on-demand list", longer terms cheaper (1-year H100 ≈$2.35 of $6.16 ≈38 %).
RESERVED_SHARE_BY_TERM_MONTHS: Final[dict[int, str]] = {
    1: "0.60",
    3: "0.55",
    6: "0.50",
    12: "0.45",
    36: "0.40",
}
# Spot where REFERENCE.md gives no figure (GB200, H200): ≈ the lower of the two published spot/list
# ratios (H100 2.46/6.16 ≈0.40; B200 4.26/8.60 ≈0.50).
SPOT_SHARE_OF_ON_DEMAND_ESTIMATE: Final = "0.40"

# Capex and economics.
H100_CAPEX_USD_PER_GPU: Final = 25_000
GB200_NVL72_CAPEX_USD_PER_RACK: Final = (2_000_000, 3_100_000)
DC_BUILD_USD_PER_MW: Final = 10_700_000
AI_DC_BUILD_USD_PER_MW: Final = 20_000_000
DEPRECIATION_YEARS: Final = {"CoreWeave": 6, "Nebius": 4}
ELECTRICITY_EUR_PER_MWH_FRANCE_2026: Final = (85, 105)

# Failures.
LLAMA3_UNEXPECTED_INTERRUPTIONS_PER_GPU_DAY: Final = 4.7e-4
SPARE_CAPACITY_SHARE: Final = 0.05  # NCSA Delta
SLURM_SILENT_NODE_DOWN_SECONDS: Final = 300

# Scheduler throughput for comparison.
KUBE_SCHEDULER_PODS_PER_SECOND_5K_NODES: Final = (180, 810)

# Failures, repairs and SLAs (the health context: issue #10). ../shared/REFERENCE.md "Failures" and
# "SLAs and health".
# Meta Llama 3 pre-training (The Llama 3 Herd of Models, 2024, table 5): 16,384 H100 for 54 days,
# 466 interruptions of which 419 unexpected. Unexpected interruptions by cause, as REFERENCE.md itemises
# them; "other" is 419 less the seven named (the paper's smaller rows: NIC, SSD, power supply, chassis,
# CPU, system memory, ...). Per cause: (count, component, a typical code, recommended action). The
# component maps the cause onto kernel.health.Component; the code is the XID (NVIDIA's Xid catalog) or
# event a monitor would raise for it; the action is neocloud's reading of NVSentinel's vocabulary for it:
# HBM is on the GPU package (the part goes back to the vendor: RMA = contact support), a faulty GPU or
# cable is swapped with a part on site, SRAM and GSP errors clear with a GPU reset, software and host
# maintenance with a reboot.
LLAMA3_GPUS: Final = 16_384
LLAMA3_DAYS: Final = 54
LLAMA3_INTERRUPTIONS_TOTAL: Final = 466
LLAMA3_UNEXPECTED_INTERRUPTIONS: Final = 419
LLAMA3_INTERRUPTIONS: Final[dict[str, tuple[int, str, str, str]]] = {
    "faulty-gpu": (148, "gpu", "79", "replace"),
    "hbm3": (72, "hbm", "48", "contact-support"),
    "software": (54, "software", "43", "reboot"),
    "network-switch-cable": (35, "network", "link-down", "replace"),
    "host-maintenance": (32, "host", "host-maintenance", "reboot"),
    "gpu-sram": (19, "gpu", "94", "component-reset"),
    "gpu-system-processor": (17, "gpu", "119", "component-reset"),
    "other": (42, "host", "host-fault", "replace"),
}
LLAMA3_GPU_RELATED_SHARE: Final = 0.587
# Meta research clusters (Kokolis et al., HPCA 2025): mean time between failures of a job by its size.
META_JOB_MTBF_HOURS: Final[dict[int, float]] = {8: 47 * 24.0, 1_024: 8.0, 16_384: 1.8}
# Repair time per recommended action, seconds (low, high), from REFERENCE.md:
# component reset: the GPU reset, then DCGM diagnostics level 2 (≈2 min, "after a failure") up to
# level 3 (≈15 min); reboot: the restart plus CoreWeave's ≈20-minute active health check; replace (part
# on site): "under a day with parts on site" (at least the 15-minute level-3 diagnostic); contact
# support (RMA): "3-14 business days by RMA" (x 7/5 for calendar days).
REPAIR_SECONDS_BY_ACTION: Final[dict[str, tuple[int, int]]] = {
    "component-reset": (2 * 60, 15 * 60),
    "reboot": (20 * 60, 20 * 60),
    "replace": (15 * 60, 24 * 3600),
    "contact-support": (int(3 * 86400 * 7 / 5), int(14 * 86400 * 7 / 5)),
}
# Swapping in a hot spare: "minutes with hot spares". neocloud's swap is a placement decision plus the
# provisioner's start; the tenant's job restarts from its checkpoint (not counted here).
HOT_SPARE_SWAP_SECONDS: Final = 5 * 60
# Burn-in before a node returns to service: DCGM level 3 (≈15 min) after a reset or reboot; CoreWeave's
# 24-hour burn-in test after a part was replaced or came back from RMA.
BURN_IN_SECONDS_AFTER_RESET: Final = 15 * 60
BURN_IN_SECONDS_AFTER_REPLACE: Final = 24 * 3600
# Published SLA (Nebius Managed Kubernetes): 99.9 % availability; credit 10 % of the period's charge
# below 99.9 %, 25 % below 95 %. Credits capped at the monthly bill. (availability below, % credit).
SLA_DEFAULT_TARGET_PCT: Final = "99.9"
SLA_DEFAULT_CREDIT_TIERS: Final[tuple[tuple[str, str], ...]] = (("99.9", "0.10"), ("95", "0.25"))
# NVL72 operators that sell 64 of a rack's 72 GPUs keep 2 compute trays per NVLink domain as spares.
NVL72_SPARE_TRAYS_DEFAULT: Final = 2

# Simulator: power (REFERENCE.md "GPUs and nodes", "Facility"); its repair, spare and SLA defaults are the
# health figures above. Active draw per GPU = the node's maximum / its GPUs (GB200 tray 6.67 kW / 4 ≈
# 1.67 kW, CPUs and tray share included); PUE from "Facility" (PUE_MODERN_AI_HALL). Idle draw is not in
# REFERENCE.md: ≈ a quarter of the maximum is an estimate (an idle H100 SXM reports ≈70-100 W of its
# 700 W TDP while the host, pumps and NICs keep drawing), stated as such and overridable per scenario.
SIM_IDLE_SHARE_OF_MAX_POWER: Final = 0.25
SIM_REPAIR_HOURS_PARTS_ON_SITE: Final = REPAIR_SECONDS_BY_ACTION["replace"][1] / 3600  # "under a day"
SIM_SPARE_SWAP_MINUTES: Final = HOT_SPARE_SWAP_SECONDS / 60
SLA_TARGET: Final = float(Decimal(SLA_DEFAULT_TARGET_PCT) / 100)  # 0.999, not 99.9 / 100 = 0.99900…01
SLA_CREDIT_TIERS: Final = tuple((float(Decimal(a) / 100), c) for a, c in SLA_DEFAULT_CREDIT_TIERS)


# ---------------------------------------------------------------------------------------------------------
# Economics of a GPU campus (the planner, `neocloud plan`).
#
# Each figure is (value as a decimal string, unit, kind, source). kind: "reference" = a figure of
# ../shared/REFERENCE.md ("Money"/"Facility"); "derived" = worked out from REFERENCE.md figures as shown;
# "assumption" = REFERENCE.md has no figure, so this is a documented choice, to be overridden
# (`neocloud plan --set NAME=VALUE`). Amounts carry their currency in the unit (USD or EUR).
@dataclass(frozen=True, slots=True)
class EconomicsFigure:
    value: str
    unit: str
    kind: str
    source: str


PLAN_ECONOMICS: Final[dict[str, EconomicsFigure]] = {
    # Capex.
    "gpu_capex_GB200": EconomicsFigure(
        "47222.22",
        "USD/GPU",
        "derived",
        "Bernstein via REFERENCE.md Money: a GB200 NVL72 rack ≈$3.4M compute (of ≈$5.9M all-in) / 72 GPUs",
    ),
    "gpu_capex_H100": EconomicsFigure(
        "25000", "USD/GPU", "reference", "REFERENCE.md Money: H100 ≈$25k per GPU"
    ),
    "gpu_capex_H200": EconomicsFigure(
        "25000",
        "USD/GPU",
        "assumption",
        "no H200 figure in REFERENCE.md: H100 $25k × (H200 list / H100 list = 6.16/6.16)",
    ),
    "gpu_capex_B200": EconomicsFigure(
        "34902.60",
        "USD/GPU",
        "assumption",
        "no B200 figure in REFERENCE.md: H100 $25k × (B200 list / H100 list = 8.60/6.16)",
    ),
    "facility_capex_per_mw": EconomicsFigure(
        "10700000",
        "USD/MW",
        "reference",
        "REFERENCE.md Money: data-centre build ≈$10.7M per MW average ($20M+ for AI-optimised halls)",
    ),
    "network_capex_share": EconomicsFigure(
        "0.169",
        "fraction of GPU capex",
        "derived",
        "Bernstein via REFERENCE.md: ≈$2.5M facility+network per NVL72 rack, less facility "
        "(0.15 MW IT × PUE 1.2 × $10.7M/MW ≈$1.93M) ≈$0.57M network, / $3.4M compute ≈16.9 %",
    ),
    # Energy.
    "electricity_price": EconomicsFigure(
        "95",
        "EUR/MWh",
        "reference",
        "REFERENCE.md Money: France 2026 all-in ≈85–105 €/MWh (midpoint; market ≈70 + excise 12 for DCs)",
    ),
    "pue": EconomicsFigure(
        "1.2", "ratio", "reference", "REFERENCE.md Facility: modern liquid-cooled AI halls ≈1.2"
    ),
    # Opex.
    "staff_fte_per_mw": EconomicsFigure(
        "0.5",
        "FTE/MW",
        "assumption",
        "no staffing figure in REFERENCE.md: 500 people for 1 GW (facility, hardware, SRE, sales)",
    ),
    "staff_cost_per_fte": EconomicsFigure(
        "110000",
        "EUR/FTE-year",
        "assumption",
        "no figure in REFERENCE.md: loaded cost of a French engineer/technician (salary + employer charges)",
    ),
    "maintenance_share": EconomicsFigure(
        "0.02",
        "fraction of installed capex per year",
        "assumption",
        "no figure in REFERENCE.md: hardware support and facility upkeep ≈2 % of capex a year",
    ),
    "space_per_mw_year": EconomicsFigure(
        "0",
        "EUR/MW-year",
        "assumption",
        "no figure in REFERENCE.md: 0 because facility capex builds the campus; set a rent to lease instead",
    ),
    # Depreciation.
    "gpu_depreciation_years": EconomicsFigure(
        "6",
        "years",
        "reference",
        "REFERENCE.md Money: CoreWeave 6 years (from 5 in 2023); Nebius 4 years",
    ),
    "facility_depreciation_years": EconomicsFigure(
        "20",
        "years",
        "assumption",
        "no figure in REFERENCE.md: buildings and electrical plant, straight line",
    ),
    # Financing.
    "debt_share": EconomicsFigure(
        "0.7",
        "fraction of capex",
        "assumption",
        "no figure in REFERENCE.md: GPU-backed debt as at CoreWeave (≈$21.4 bn debt, FY2025), 70 % of capex",
    ),
    "interest_rate": EconomicsFigure(
        "0.08",
        "per year",
        "assumption",
        "REFERENCE.md gives CoreWeave's Q3 2025 interest $310.6M and FY2025 debt $21.4 bn (annualised ≈5.8 %, "
        "a lower bound as debt grew): 8 % assumed for a start-up borrower",
    ),
    "debt_term_years": EconomicsFigure(
        "6",
        "years",
        "assumption",
        "no figure in REFERENCE.md: amortised straight-line over the GPUs' life",
    ),
    "equity_cost": EconomicsFigure(
        "0.15",
        "per year",
        "assumption",
        "no figure in REFERENCE.md: venture-backed equity return",
    ),
    "tax_rate": EconomicsFigure(
        "0.25",
        "of profit",
        "assumption",
        "not in REFERENCE.md (only VAT 20 %): French standard corporate income tax rate 25 %, losses carried forward",
    ),
    # Currencies: costs in euros, prices in dollars meet through this one dated rate.
    "fx_usd_per_eur": EconomicsFigure(
        "1.0411",
        "USD/EUR",
        "assumption",
        "not in REFERENCE.md: ECB euro reference rate of 2025-02-28 as quoted by a secondary page "
        "(the month the France campus was announced); check against the ECB before relying on it",
    ),
    # Horizon and build.
    "horizon_years": EconomicsFigure(
        "10",
        "years",
        "assumption",
        "no figure in REFERENCE.md: ten years, GPUs re-bought at end of life",
    ),
    "start_year": EconomicsFigure(
        "2026", "year", "reference", "REFERENCE.md Facility: France campus 'from 2026'"
    ),
    "build_quarters": EconomicsFigure(
        "8",
        "quarters",
        "assumption",
        "no schedule in REFERENCE.md: the facility power comes online in equal steps over 8 quarters",
    ),
}
FX_USD_PER_EUR_AS_OF: Final = "2025-02-28"
# The France campus (REFERENCE.md Facility and Money): up to 1 GW, €10 bn, operator had raised ≈$4.5M.
FRANCE_CAMPUS_BUDGET_EUR: Final = "10000000000"
FRANCE_CAMPUS_OPERATOR_RAISED_USD: Final = "4500000"


# Slurm (the Slurm provisioner, control/adapters/slurm).
# Slurm's node limit per controller: 65,536 (REFERENCE.md "Scheduler scale limits"; SchedMD's
# slurm.conf(5) and the node bitmap size of slurmctld).
SLURM_MAX_NODES_PER_CONTROLLER: Final = 65_536

# Failure profiles (the health context's injector calibration, issue #10). Kokolis et al., "Revisiting
# Reliability in Large-Scale Machine Learning Research Clusters" (HPCA 2025, arXiv 2410.21680), Meta's
# research clusters RSC-1 (16k A100, 2,000 DGX nodes of 8 GPUs) and RSC-2 (8k A100). The paper's model: a
# job on N nodes fails at N times the per-node rate r_f, MTTF = 1 / (N_nodes x r_f). RSC-1's r_f = 6.50
# failures per 1,000 node-days is the rate behind its projection of 1.8 h for 16,384 GPUs (2,048 nodes:
# 1,000 / (6.50 x 2,048) days = 1.80 h). The ≈47 d (8 GPUs) and ≈8 h (1,024 GPUs) of META_JOB_MTBF_HOURS
# imply 21.3 and 23.4 failures per 1,000 node-days: not the same rate (docs/health.md, "Calibration").
META_RSC1_FAILURES_PER_1000_NODE_DAYS: Final = "6.50"
META_RSC_GPUS_PER_NODE: Final = 8

# Job interruptions measured on Meta's research clusters (issue #10's job-MTBF calibration; the `rsc-jobs`
# failure profile). Kokolis et al., "Revisiting Reliability in Large-Scale Machine Learning Research
# Clusters" (HPCA 2025, arXiv 2410.21680), 11 months of RSC-1 and RSC-2, 4 million jobs, >150 million
# A100 GPU-hours. The paper reports job MTTF 47.7 days at 8 GPUs and 7.9 hours at 1,024 GPUs (measured on
# the clusters' jobs), and projects 1.8 h at 16,384 GPUs and 0.23 h at 131,072 GPUs from its model
# MTTF = 1 / (N_nodes x r_f) at RSC-1's r_f (1,000 / (6.50 x 16,384) days = 0.225 h); r_f for RSC-2 is
# 2.34 per 1,000 node-days. REFERENCE.md rounds the same figures (≈47 d, ≈8 h, ≈1.8 h). The figures are
# as quoted by secondary sources that cite the paper (its body was not readable here; docs/health.md,
# "Calibration"): which failure categories the measured MTTFs count could not be checked.
META_RSC_JOB_MTTF_MEASURED_HOURS: Final[dict[int, float]] = {8: 47.7 * 24, 1_024: 7.9}
META_RSC_JOB_MTTF_PROJECTED_HOURS: Final[dict[int, float]] = {16_384: 1.8, 131_072: 0.23}
META_RSC2_FAILURES_PER_1000_NODE_DAYS: Final = "2.34"
