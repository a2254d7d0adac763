"""Throwaway migrated databases for benchmarks: a SQLite file in a temporary directory, or a temporary
schema (dropped afterwards) in a PostgreSQL server."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text

from neocloud.infra.engine import make_engine
from neocloud.infra.schema import upgrade


@contextmanager
def scratch_database(kind: str, postgres_url: str | None = None) -> Iterator[str]:
    """The URL of a fresh database at the current schema: `kind` is "sqlite" or "postgres" (which needs
    `postgres_url`; the URL selects the temporary schema through the connection's search_path).
    Everything it created is removed on exit, so engines opened on the URL must be disposed first."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="neocloud-bench-") as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            _migrate(url)
            yield url
        return
    if kind != "postgres" or not postgres_url:
        raise ValueError(
            "the store must be memory, sqlite, or postgres with --database-url postgresql+psycopg://…"
        )
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    options = {"options": f"-csearch_path={schema},public"}
    url = make_url(postgres_url).update_query_dict(options).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
