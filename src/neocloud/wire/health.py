"""What the liveness and readiness probes answer: /healthz "ok"; /readyz "ready", or an ErrorBody with
503 when it is not."""

from __future__ import annotations

from pydantic import BaseModel


class Health(BaseModel):
    status: str
