"""Schema version: migrate with Alembic (`neocloud db upgrade`), and refuse to run on a database that
is not exactly at the code's head revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from neocloud.kernel.errors import NotReady, Unavailable

HERE = Path(__file__).resolve().parent


class SchemaMismatch(NotReady):
    """The database is not at the schema this code expects; the message says what to run."""

    code = "not-migrated"


def alembic_config() -> Config:
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE / "migrations"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision (None: never migrated); NotReady when it cannot be reached."""
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except (
        OperationalError,
        Unavailable,
    ) as err:  # Unavailable: the engine's translation of the driver error
        where = engine.url.render_as_string(hide_password=True)
        cause = err.__cause__ if isinstance(err, Unavailable) else err
        raise Unavailable(f"the database {where} is unreachable: {getattr(cause, 'orig', cause)}") from err


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Migrate to `revision`; returns (revision before, revision after)."""
    before = current_revision(engine)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return before, current_revision(engine) or ""


def check_schema(engine: Engine) -> None:
    """SchemaMismatch unless the database is at the head revision, saying what to run."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    where = engine.url.render_as_string(hide_password=True)
    if current is None:
        raise SchemaMismatch(f"the database {where} has no neocloud schema: run `neocloud db upgrade`")
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current in known:
        raise SchemaMismatch(
            f"the database {where} is at schema {current}, this neocloud needs {head}: "
            "run `neocloud db upgrade`"
        )
    raise SchemaMismatch(
        f"the database {where} is at schema {current}, newer than this neocloud (head {head}): "
        "upgrade neocloud before starting it against this database"
    )
