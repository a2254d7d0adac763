"""The typed HTTP client of the neocloud API: `NeocloudClient(url, token)`, raising `ApiError`."""

from neocloud.client.http import ApiError, NeocloudClient

__all__ = ["ApiError", "NeocloudClient"]
