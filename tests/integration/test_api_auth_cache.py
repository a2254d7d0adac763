"""The API's principal cache: a token is looked up once per TTL, failures are never cached."""

from __future__ import annotations

import pytest

from neocloud.api.auth import PrincipalCache
from neocloud.control.domain.tenancy import Principal, Role
from neocloud.kernel.errors import Unauthenticated

ALICE = Principal("tok_a", Role.TENANT_ADMIN)


class Lookups:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, secret: str) -> Principal:
        self.calls += 1
        if secret != "nc_good":
            raise Unauthenticated("unknown API token")
        return ALICE


def test_a_token_is_looked_up_once_within_the_ttl() -> None:
    now = [0.0]
    cache, lookups = PrincipalCache(5.0, clock=lambda: now[0]), Lookups()
    now[0] = 4.9
    assert [cache.principal("nc_good", lookups) for _ in range(3)] == [ALICE] * 3
    assert lookups.calls == 1


def test_a_token_is_looked_up_again_after_the_ttl() -> None:
    now = [0.0]
    cache, lookups = PrincipalCache(5.0, clock=lambda: now[0]), Lookups()
    cache.principal("nc_good", lookups)
    now[0] = 5.0
    cache.principal("nc_good", lookups)
    assert lookups.calls == 2


def test_failed_lookups_are_not_cached() -> None:
    cache, lookups = PrincipalCache(5.0), Lookups()
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            cache.principal("nc_bad", lookups)
    assert lookups.calls == 2


def test_zero_ttl_looks_up_every_time() -> None:
    cache, lookups = PrincipalCache(0.0), Lookups()
    cache.principal("nc_good", lookups)
    cache.principal("nc_good", lookups)
    assert lookups.calls == 2


def test_the_oldest_entry_is_evicted_beyond_the_size_limit() -> None:
    cache = PrincipalCache(60.0, max_entries=2)
    seen: list[str] = []

    def lookup(secret: str) -> Principal:
        seen.append(secret)
        return ALICE

    for secret in ("nc_1", "nc_2", "nc_3", "nc_1"):
        cache.principal(secret, lookup)
    assert seen == ["nc_1", "nc_2", "nc_3", "nc_1"]
