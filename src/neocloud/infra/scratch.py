"""Throwaway migrated databases for benchmarks: a SQLite file in a temporary directory, or a temporary
schema (dropped afterwards) in a PostgreSQL server."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, text

from neocloud.infra.engine import make_engine
from neocloud.infra.schema import upgrade


@contextmanager
def scratch_engine(kind: str, postgres_url: str | None = None) -> Iterator[Engine]:
    """A fresh engine at the current schema: `kind` is "sqlite" or "postgres" (which needs
    `postgres_url`). Everything it created is removed on exit."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="neocloud-bench-") as tmp:
            engine = make_engine(f"sqlite:///{tmp}/bench.db")
            try:
                upgrade(engine)
                yield engine
            finally:
                engine.dispose()
        return
    if kind != "postgres" or not postgres_url:
        raise ValueError("the store must be memory, sqlite, or postgres with --database-url postgresql+psycopg://…")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(postgres_url, connect_args={"options": f"-csearch_path={schema},public"})
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
