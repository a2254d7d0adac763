"""A short-lived cache of authenticated principals, so a busy client does not cost a token lookup per request.

Only successful lookups are cached, keyed by the secret's sha256 (the secret itself is never kept), for
`ttl` seconds: a token deleted or re-scoped in the database is honoured by every server within `ttl`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from neocloud.control.domain.tenancy import Principal

DEFAULT_TTL_S = 5.0
DEFAULT_MAX_ENTRIES = 10_000


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
        self._entries: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def principal(self, secret: str, authenticate: Callable[[str], Principal]) -> Principal:
        """The cached principal for `secret`, else `authenticate(secret)` (whose errors pass through)."""
        if self._ttl <= 0:
            return authenticate(secret)
        key = hashlib.sha256(secret.encode()).hexdigest()
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[1] > now:
                return hit[0]
        found = authenticate(secret)
        with self._lock:
            self._entries[key] = (found, now + self._ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return found
