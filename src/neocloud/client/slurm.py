"""Slurm calls of the API: `SlurmClient(NeocloudClient(url, token))`: the tenant's Slurm users, how to
run in an allocation, and usage by job. Errors raise the client's `ApiError`."""

from __future__ import annotations

from datetime import datetime

from neocloud.client.http import NeocloudClient, _iso
from neocloud.wire.slurm import JobUsageOut, SlurmAccessOut, SlurmUsersOut


class SlurmClient:
    def __init__(self, client: NeocloudClient) -> None:
        self._client = client

    def users(self, *, tenant: str | None = None) -> SlurmUsersOut:
        return SlurmUsersOut.model_validate(self._client._get("/v1/slurm/users", tenant=tenant))

    def add_user(self, user: str, *, tenant: str | None = None) -> SlurmUsersOut:
        return SlurmUsersOut.model_validate(
            self._client._request("POST", "/v1/slurm/users", json={"user": user}, params={"tenant": tenant})
        )

    def remove_user(self, user: str, *, tenant: str | None = None) -> SlurmUsersOut:
        return SlurmUsersOut.model_validate(
            self._client._request("DELETE", "/v1/slurm/users", params={"user": user, "tenant": tenant})
        )

    def access(self, allocation_id: str) -> SlurmAccessOut:
        return SlurmAccessOut.model_validate(self._client._get(f"/v1/slurm/access/{allocation_id}"))

    def job_usage(
        self, *, start: datetime | None = None, end: datetime | None = None, tenant: str | None = None
    ) -> JobUsageOut:
        params = {"from": _iso(start), "to": _iso(end), "by": "job", "tenant": tenant}
        return JobUsageOut.model_validate(self._client._get("/v1/usage", **params))
