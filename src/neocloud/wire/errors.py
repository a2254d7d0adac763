"""The one error body every non-2xx answer carries (api/errors.py maps every failure to it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """What every error response carries."""

    error: str = Field(description="stable machine-readable code, e.g. not-found, conflict, invalid-input")
    message: str = Field(description="what went wrong, for people")
    details: dict[str, Any] = Field(default_factory=dict, description="structured context, code-specific")
