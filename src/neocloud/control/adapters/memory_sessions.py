"""Console sessions in this process's memory (control.app.sessions.SessionRecords): the memory store's,
and tests'. Bounded: past `max_sessions` the oldest is dropped."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace
from datetime import datetime, timedelta

from neocloud.control.app.session_records import SessionRecord

DEFAULT_MAX_SESSIONS = 10_000


class MemorySessionRecords:
    def __init__(self, max_sessions: int = DEFAULT_MAX_SESSIONS) -> None:
        self._max = max_sessions
        self._lock = threading.Lock()
        self._rows: OrderedDict[str, SessionRecord] = OrderedDict()

    def add(self, record: SessionRecord) -> None:
        with self._lock:
            self._rows[record.key] = record
            while len(self._rows) > self._max:
                self._rows.popitem(last=False)

    def get(self, key: str) -> SessionRecord | None:
        with self._lock:
            return self._rows.get(key)

    def touch(self, key: str, seen_at: datetime) -> None:
        with self._lock:
            if key in self._rows:
                self._rows[key] = replace(self._rows[key], seen_at=seen_at)

    def set_flash(self, key: str, flash: tuple[str, ...]) -> None:
        with self._lock:
            if key in self._rows:
                self._rows[key] = replace(self._rows[key], flash=flash)

    def delete(self, key: str) -> None:
        with self._lock:
            self._rows.pop(key, None)

    def delete_token(self, token_id: str) -> int:
        with self._lock:
            gone = [k for k, r in self._rows.items() if r.token_id == token_id]
            for k in gone:
                del self._rows[k]
        return len(gone)

    def purge(self, now: datetime, idle: timedelta) -> int:
        with self._lock:
            gone = [k for k, r in self._rows.items() if now >= r.expires_at or now - r.seen_at > idle]
            for k in gone:
                del self._rows[k]
        return len(gone)

    def __len__(self) -> int:
        return len(self._rows)
