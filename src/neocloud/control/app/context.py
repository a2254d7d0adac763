"""What every control-plane use case shares: its ports and settings, and paging."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from neocloud.control.app.ports import Clock, IdSource, PriceBook, Provisioner, UnitOfWorkFactory
from neocloud.control.app.views import (
    MAX_PAGE,
    PageRequest,
)
from neocloud.control.domain.shapes import Placer
from neocloud.kernel.errors import (
    InvalidInput,
)

DEFAULT_SPOT_NOTICE = timedelta(minutes=2)
QUOTE_HORIZON = timedelta(days=366)
KEY_MAX = 200
CURSOR_MAX = 200
CALENDAR_DAYS = 7


class Context:
    """The wiring the use-case classes (tenancy, fleet, products) read; ControlPlane sets it up."""

    _uow: UnitOfWorkFactory
    _clock: Clock
    _provisioner: Provisioner
    _prices: PriceBook
    _placer: Placer
    _ids: IdSource
    _spot_notice: timedelta
    _fleets: dict[str, Any]  # model -> (node version, Fleet): see admission.load_fleet


def checked_page(page: PageRequest | None) -> PageRequest:
    page = page or PageRequest()
    if not 1 <= page.limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be in 1..{MAX_PAGE}", details={"limit": page.limit})
    if page.cursor is not None and not 0 < len(page.cursor) <= CURSOR_MAX:
        raise InvalidInput(
            "malformed cursor: pass back the next_cursor of the previous page", details={"field": "cursor"}
        )
    return page


def next_cursor(items: list[Any], limit: int, total_after: int) -> str | None:
    return str(items[-1].id) if items and len(items) == limit and total_after > limit else None
