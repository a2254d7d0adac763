"""Domain errors. Each carries a stable machine-readable code; api/errors.py maps them to HTTP once."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code: str = "domain-error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}


class InvalidInput(DomainError):
    """The caller asked for something malformed (a 4xx at the edge)."""

    code = "invalid-input"


class NotFound(DomainError):
    code = "not-found"


class Conflict(DomainError):
    """The request is well formed but cannot be honoured in the current state (capacity, duplicates)."""

    code = "conflict"


class InvalidTransition(DomainError):
    """A lifecycle move that the transition table does not allow."""

    code = "invalid-transition"


class QuotaExceeded(DomainError):
    code = "quota-exceeded"


class Forbidden(DomainError):
    code = "forbidden"


class Unauthenticated(DomainError):
    """No credentials, or credentials that match no live token (401 at the edge)."""

    code = "unauthenticated"


class IdempotencyConflict(Conflict):
    """An idempotency key reused with a different request."""

    code = "idempotency-conflict"


class NotReady(DomainError):
    """The service cannot serve yet: its database is unreachable or not at the code's schema."""

    code = "not-ready"


class Unavailable(NotReady):
    """The database cannot be reached right now (down, restarting, connections dropped); retry shortly."""

    code = "unavailable"


class Busy(DomainError):
    """The database gave up waiting (a lock held too long, a statement over its time limit, a deadlock
    or serialization failure); nothing was applied, retry shortly."""

    code = "busy"
