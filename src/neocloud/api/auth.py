"""A cache of authenticated principals, so a busy client does not cost a token lookup per request, that
never keeps a revoked token (or a suspended tenant's write rights) alive, on any server.

Only successful lookups are cached, keyed by the secret's sha256 (the secret itself is never kept), for
at most `ttl` seconds. Correctness does not rest on the TTL: each entry is tagged with the store's auth
epoch read *before* its lookup, and every request reads the current epoch (one single-row read, see
UnitOfWork.auth_epoch; on SQL a counter of infra/counters.py: one statement outside any transaction,
which within a read-only request also reads the price catalog's version); an entry is used only
while the epoch is unchanged. Revoking a token and
suspending or resuming a tenant bump the epoch in the transaction that makes the change, so once that
commits, the next request on every server process sees a new epoch and looks the token up again: the
cross-process bound is zero (a request that began before the commit may still pass, as it would have
without a cache). An entry whose principal has expired (`expires_at`) is never used either.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from neocloud.control.domain.tenancy import Principal

DEFAULT_TTL_S = 5.0
DEFAULT_MAX_ENTRIES = 10_000


class Authenticator(Protocol):
    """What the cache needs of the control plane's tenancy service."""

    def authenticate(self, secret: str) -> Principal: ...
    def auth_epoch(self) -> int: ...
    def now(self) -> datetime: ...


class PrincipalCache:
    def __init__(
        self,
        ttl: float = DEFAULT_TTL_S,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._epoch: int | None = None
        self._entries: OrderedDict[str, tuple[Principal, float, int | None]] = OrderedDict()

    def principal(
        self,
        secret: str,
        authenticate: Callable[[str], Principal],
        epoch: Callable[[], int] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> Principal:
        """The cached principal for `secret`, else `authenticate(secret)` (whose errors pass through).
        `epoch` reads the store's auth epoch (None: trust entries for the whole TTL); `now` is the
        control plane's clock, against which cached principals' `expires_at` is checked."""
        if self._ttl <= 0:
            return authenticate(secret)
        current = epoch() if epoch is not None else None
        key = hashlib.sha256(secret.encode()).hexdigest()
        at = self._clock()
        with self._lock:
            if current is not None and (self._epoch is None or current > self._epoch):
                self._entries.clear()  # every entry is from an older epoch (epochs only grow)
                self._epoch = current
            hit = self._entries.get(key)
            if hit is not None and hit[1] > at and hit[2] == current and not _expired(hit[0], now):
                return hit[0]
            self._entries.pop(key, None)
        found = authenticate(secret)
        with self._lock:
            self._entries[key] = (found, at + self._ttl, current)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return found

    def principal_for(self, secret: str, tenancy: Authenticator) -> Principal:
        """`principal(secret, …)` with the epoch and clock of `tenancy`: what every route uses."""
        return self.principal(secret, tenancy.authenticate, tenancy.auth_epoch, tenancy.now)


def _expired(principal: Principal, now: Callable[[], datetime] | None) -> bool:
    return principal.expires_at is not None and now is not None and now() >= principal.expires_at
