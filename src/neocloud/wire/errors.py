"""The one error body every non-2xx answer carries (api/errors.py maps every failure to it), and the one
table of HTTP statuses by domain error code, which the API and the console (web/) both answer with."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from neocloud.kernel.errors import DomainError

# By error code, so an error class added later with a known code maps without touching this table.
STATUS_BY_CODE: dict[str, int] = {
    "invalid-input": 422,
    "bad-request": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not-found": 404,
    "method-not-allowed": 405,
    "conflict": 409,
    "invalid-transition": 409,
    "quota-exceeded": 409,
    "idempotency-conflict": 409,
    "not-ready": 503,
    "not-migrated": 503,
    "unavailable": 503,
    "busy": 503,
}


def status_for(exc: DomainError) -> int:
    """The HTTP status of a domain error: by the first class in its MRO whose code is known; 400 otherwise."""
    for cls in type(exc).__mro__:
        code = getattr(cls, "code", None)
        if isinstance(code, str) and code in STATUS_BY_CODE:
            return STATUS_BY_CODE[code]
    return 400


class ErrorBody(BaseModel):
    """What every error response carries."""

    error: str = Field(description="stable machine-readable code, e.g. not-found, conflict, invalid-input")
    message: str = Field(description="what went wrong, for people")
    details: dict[str, Any] = Field(default_factory=dict, description="structured context, code-specific")
