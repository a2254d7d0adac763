"""Ids and token secrets from the operating system's CSPRNG (the production `IdSource`)."""

from __future__ import annotations

import secrets


class SecretIds:
    """Ids and token secrets from the operating system's CSPRNG."""

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(8)}"

    def secret(self) -> str:
        return secrets.token_urlsafe(32)
