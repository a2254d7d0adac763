"""The shared vocabulary of node health: what a health source observes and what it recommends.

A health source (an external monitor posting to the API, Slurm's DOWN/DRAIN node states, the in-package
fault injector) turns what it sees into `HealthObservation`s; the health context decides what to do. The
recommended actions follow NVIDIA NVSentinel / DCGM (../shared/REFERENCE.md, "SLAs and health")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from neocloud.kernel.ids import NodeId


class Component(StrEnum):
    """The part of a node an observation is about (the Llama 3 breakdown's categories, REFERENCE.md)."""

    GPU = "gpu"
    HBM = "hbm"
    NVLINK = "nvlink"
    NETWORK = "network"
    HOST = "host"
    SOFTWARE = "software"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class RecommendedAction(StrEnum):
    """What the source recommends (NVSentinel's vocabulary, reduced to what neocloud acts on)."""

    NONE = "none"
    COMPONENT_RESET = "component-reset"
    REBOOT = "reboot"
    REPLACE = "replace"
    CONTACT_SUPPORT = "contact-support"


@dataclass(frozen=True, slots=True)
class HealthObservation:
    """One thing a source saw on one node at one time. `code` is the source's own (an XID such as "79",
    a Slurm reason such as "Not responding"); `source` names the source ("api", "slurm", "injector")."""

    node: NodeId
    component: Component
    severity: Severity
    code: str
    action: RecommendedAction
    at: datetime
    source: str
    message: str = ""
