"""The health context's settings and the ports its use cases run on, built once by bootstrap."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from neocloud.control.app.ports import IdSource
from neocloud.health.app.ports import CreditIssuer, HealthStore, NodeControl, WebhookSender
from neocloud.health.domain.injector import RepairTime, repair_times
from neocloud.health.domain.remediation import RemediationPolicy
from neocloud.health.domain.sla import SlaTerms
from neocloud.kernel import reference as ref
from neocloud.kernel.clock import Clock
from neocloud.kernel.errors import InvalidInput
from neocloud.kernel.health import RecommendedAction

# Actions the platform carries out itself; the others (replace a part, RMA) wait for an operator's
# `nodes repair` and `nodes return`.
AUTO_REPAIR: frozenset[RecommendedAction] = frozenset(
    {RecommendedAction.COMPONENT_RESET, RecommendedAction.REBOOT}
)


@dataclass(frozen=True, slots=True)
class SpareSettings:
    """`nvl72_trays`: spare trays per NVLink domain of rack-scale models (GB200; default 2, the "sell 64
    of 72" practice: `neocloud bench health` shows every NVL72 reservation ≥ 99.9 % with it and 6 of 29
    below with 0); `hgx_per_su`: spare nodes per scalable unit of the others (default 0); `swap`: how
    long a swap to a spare takes (REFERENCE.md: "minutes with hot spares")."""

    nvl72_trays: int = ref.NVL72_SPARE_TRAYS_DEFAULT
    hgx_per_su: int = 0
    swap: timedelta = timedelta(seconds=ref.HOT_SPARE_SWAP_SECONDS)

    def __post_init__(self) -> None:
        if self.nvl72_trays < 0 or self.hgx_per_su < 0:
            raise InvalidInput("spares per domain must be 0 or more")

    @staticmethod
    def from_env(env: Mapping[str, str]) -> SpareSettings:
        """NEOCLOUD_SPARE_TRAYS_PER_NVL72 and NEOCLOUD_SPARE_NODES_PER_SU (unset: the defaults)."""
        out: dict[str, int] = {}
        for var, name in (
            ("NEOCLOUD_SPARE_TRAYS_PER_NVL72", "nvl72_trays"),
            ("NEOCLOUD_SPARE_NODES_PER_SU", "hgx_per_su"),
        ):
            raw = env.get(var, "").strip()
            if raw:
                if not raw.isdigit():
                    raise InvalidInput(f"{var}={raw!r}: expected a whole number 0 or more")
                out[name] = int(raw)
        return SpareSettings(**out)  # type: ignore[arg-type]


@dataclass(frozen=True)
class HealthSettings:
    spares: SpareSettings = field(default_factory=SpareSettings)
    policy: RemediationPolicy = field(default_factory=RemediationPolicy)
    sla: SlaTerms = field(default_factory=SlaTerms.default)
    auto_repair: frozenset[RecommendedAction] = AUTO_REPAIR


@dataclass(frozen=True)
class HealthDeps:
    store: HealthStore
    control: NodeControl
    clock: Clock
    settings: HealthSettings = field(default_factory=HealthSettings)
    credits: CreditIssuer | None = None
    repairs: dict[RecommendedAction, RepairTime] = field(default_factory=repair_times)
    ids: IdSource | None = None
    sender: WebhookSender | None = None
