"""The control plane's use cases: tenancy, fleet, reservations, instances, calendar, reconcile.

Tenancy is enforced here, in the app layer, so every interface (API, CLI, console) inherits it: a tenant
principal never sees, counts or touches another tenant's objects, and another tenant's id answers
NotFound exactly like a missing one. Each use case is load → decide (pure domain) → persist; calls to
the provisioner happen only in `reconcile`, outside any transaction. The use cases live by concept in
app/tenancy.py, app/fleet.py and app/products.py; ControlPlane wires them.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from neocloud.control.app.context import DEFAULT_SPOT_NOTICE, Context
from neocloud.control.app.fleet import FleetUseCases
from neocloud.control.app.ports import Clock, IdSource, PriceBook, Provisioner, UnitOfWorkFactory
from neocloud.control.app.products import ProductUseCases
from neocloud.control.app.reconciler import reconcile
from neocloud.control.app.tenancy import TenancyUseCases
from neocloud.control.app.views import (
    ReconcileReport,
)
from neocloud.placement.engine import placer

__all__ = ["DEFAULT_SPOT_NOTICE", "ControlPlane", "SecretIds"]


class SecretIds:
    """Ids and token secrets from the operating system's CSPRNG."""

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(8)}"

    def secret(self) -> str:
        return secrets.token_urlsafe(32)


class ControlPlane(TenancyUseCases, FleetUseCases, ProductUseCases, Context):
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        provisioner: Provisioner,
        prices: PriceBook,
        policy_name: str = "default",
        *,
        ids: IdSource | None = None,
        spot_notice: timedelta = DEFAULT_SPOT_NOTICE,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._provisioner = provisioner
        self._prices = prices
        self._placer = placer(policy_name)
        self._ids: IdSource = ids or SecretIds()
        self._spot_notice = spot_notice
        self._fleets: dict[str, Any] = {}

    def reconcile(self, max_items: int = 500) -> ReconcileReport:
        """One pass: start what is due, finish provisioning, end what is over, preempt spot whose notice
        elapsed. Safe to run in several processes at once."""
        return reconcile(self._uow, self._clock, self._provisioner, max_items)
