"""Console sessions in the control plane's database (control.app.sessions.SessionRecords): table
`console_sessions` (migration 0009_sessions). Each call is one short transaction of its own."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, or_, select, update

from neocloud.control.adapters.sql import tables as t
from neocloud.control.app.session_records import SessionRecord
from neocloud.infra.engine import read_only

S = t.console_sessions


class SqlSessionRecords:
    def __init__(self, engine: Any) -> None:
        self._engine = engine

    def add(self, record: SessionRecord) -> None:
        with self._engine.begin() as c:
            c.execute(
                insert(S).values(
                    key=record.key,
                    token_id=record.token_id,
                    role=record.role,
                    tenant_id=record.tenant_id,
                    csrf=record.csrf,
                    created_at=record.created_at,
                    seen_at=record.seen_at,
                    expires_at=record.expires_at,
                    flash=json.dumps(list(record.flash)),
                )
            )

    def get(self, key: str) -> SessionRecord | None:
        with self._engine.connect() as c:
            read_only(c)  # every console request looks its session up: never behind SQLite's writers
            row = c.execute(select(S).where(S.c.key == key)).first()
            c.rollback()
        if row is None:
            return None
        return SessionRecord(
            row.key,
            row.token_id,
            row.role,
            row.tenant_id,
            row.csrf,
            row.created_at,
            row.seen_at,
            row.expires_at,
            tuple(str(m) for m in json.loads(row.flash or "[]")),
        )

    def touch(self, key: str, seen_at: datetime) -> None:
        with self._engine.begin() as c:
            c.execute(update(S).where(S.c.key == key).values(seen_at=seen_at))

    def set_flash(self, key: str, flash: tuple[str, ...]) -> None:
        with self._engine.begin() as c:
            c.execute(update(S).where(S.c.key == key).values(flash=json.dumps(list(flash))))

    def delete(self, key: str) -> None:
        with self._engine.begin() as c:
            c.execute(delete(S).where(S.c.key == key))

    def delete_token(self, token_id: str) -> int:
        with self._engine.begin() as c:
            return int(c.execute(delete(S).where(S.c.token_id == token_id)).rowcount or 0)

    def purge(self, now: datetime, idle: timedelta) -> int:
        with self._engine.begin() as c:
            gone = c.execute(delete(S).where(or_(S.c.expires_at <= now, S.c.seen_at < now - idle)))
            return int(gone.rowcount or 0)
