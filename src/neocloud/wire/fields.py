"""The building blocks of every wire model: constrained ids and names, aware UTC datetimes, and the two
base classes (requests and responses).

Inputs are constrained at the edge (ids, names, bounded integers, aware UTC datetimes in a sane range)
so that fuzzed input becomes a 422 here instead of surprising the database. Responses mirror the app's
views (control/app/views.py) field by field and are built from those frozen dataclasses by attribute.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, StringConstraints, WithJsonSchema

from neocloud.kernel.gpus import CATALOG
from neocloud.kernel.periods import EARLIEST_YEAR, LATEST_YEAR

IDENT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"

Ident = Annotated[str, StringConstraints(pattern=IDENT_PATTERN)]
GpuModelName = Annotated[
    str,
    StringConstraints(pattern=IDENT_PATTERN),
    WithJsonSchema({"type": "string", "enum": sorted(CATALOG), "description": "a GPU model of the catalog"}),
]
"""A catalog GPU model. The schema lists the catalog's names (so a schema-valid request names a model the
server knows); the server also accepts them in any case."""
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]


def _utc_in_range(value: datetime) -> datetime:
    try:
        value = value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before datetime.min in UTC
        raise ValueError(f"must be between years {EARLIEST_YEAR} and {LATEST_YEAR}") from None
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be between years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc_in_range)]
"""An aware datetime between EARLIEST_YEAR and LATEST_YEAR, converted to UTC."""


class In(BaseModel):
    """A request body: unknown fields are a 422 (a typo must not be silently ignored). Counts and flags
    are strict (`Field(strict=True)`): `"8"`, `8.0` and `true` are not integers, `1` is not a boolean."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Out(BaseModel):
    """A response body. Unknown fields are ignored when parsing, so an older client reads a newer
    server's answers; `from_view` builds one from an app view (a frozen dataclass) by attribute."""

    model_config = ConfigDict(from_attributes=True, frozen=True)

    @classmethod
    def from_view(cls, view: Any) -> Any:
        return cls.model_validate(view, from_attributes=True)
