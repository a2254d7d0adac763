# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""Migrations and the schema check: the server refuses an un-migrated or newer database, saying what
to run."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from neocloud.bootstrap import Settings, build_services
from neocloud.infra.engine import make_engine
from neocloud.infra.schema import SchemaMismatch, check_schema, current_revision, head_revision, upgrade
from neocloud.kernel.errors import NotReady
from tests.control_builders import engine  # noqa: F401


def test_a_migrated_database_passes_the_check(engine):
    check_schema(engine)
    assert current_revision(engine) == head_revision()


def test_migrations_create_every_table(engine):
    names = set(inspect(engine).get_table_names())
    assert {
        "tenants",
        "projects",
        "tokens",
        "quotas",
        "nodes",
        "allocations",
        "allocation_gpus",
        "allocation_events",
    } <= names
    assert "capacity_locks" not in names  # dropped by 0008: admission locks node rows


def test_a_newer_database_is_refused_telling_to_upgrade_neocloud(engine):
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaMismatch) as err:
        check_schema(engine)
    assert "newer than this neocloud" in err.value.message and err.value.code == "not-migrated"


def test_upgrading_twice_changes_nothing(engine):
    before, after = upgrade(engine)
    assert before == after == head_revision()


def test_an_empty_database_is_refused_telling_to_run_db_upgrade(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(SchemaMismatch) as err:
        check_schema(engine)
    assert "run `neocloud db upgrade`" in err.value.message


def test_build_services_refuses_an_unmigrated_database(tmp_path):
    with pytest.raises(SchemaMismatch):
        build_services(Settings(data_dir=tmp_path))


def test_an_unreachable_database_is_not_ready():
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
    with pytest.raises(NotReady) as err:
        check_schema(engine)
    assert "unreachable" in err.value.message


def test_sqlite_runs_in_wal_mode(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_settings_prefer_arguments_then_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NEOCLOUD_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("NEOCLOUD_DATABASE_URL", "postgresql+psycopg://x@h/db")
    assert Settings.from_env().data_dir == tmp_path / "env"
    assert Settings.from_env().resolved_database_url == "postgresql+psycopg://x@h/db"
    assert Settings.from_env(tmp_path / "arg", "sqlite:///x.db").resolved_database_url == "sqlite:///x.db"
    monkeypatch.delenv("NEOCLOUD_DATABASE_URL")
    assert Settings.from_env().resolved_database_url == f"sqlite:///{tmp_path / 'env' / 'neocloud.db'}"


def test_migrated_sqlite_serves_the_control_plane(tmp_path):
    settings = Settings(data_dir=tmp_path)
    from neocloud.bootstrap import upgrade_database

    upgrade_database(settings)
    services = build_services(settings)
    assert services.control.tenancy.create_tenant("acme").name == "acme"


def test_postgres_itself_refuses_a_gpu_booked_twice_at_one_instant(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's (SQLite relies on its single writer)")
    from dataclasses import replace

    from neocloud.control.app.views import ReservationRequest
    from neocloud.kernel.errors import Conflict
    from tests.control_builders import world

    w = world(engine)
    r = w.control.reservations.reserve(w.tenant("acme"), ReservationRequest("H100", 1, 2))
    with w.control.deps.uow() as uow:
        held = uow.bookings_of(r.id)[0]
        with pytest.raises(Conflict):
            # bookings are sent with the unit of work's events at commit (one statement on PostgreSQL):
            # the exclusion constraint refuses them there, and nothing of the unit of work is kept
            uow.add_bookings([replace(held, start=held.start + (held.end - held.start) / 2, end=None)])
            uow.commit()
    with w.control.deps.uow(read_only=True) as uow:
        assert uow.bookings_of(r.id) == [held]


def test_an_older_schema_is_refused_and_db_upgrade_brings_it_current(engine):
    from alembic import command

    from neocloud.infra.schema import alembic_config

    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    with pytest.raises(SchemaMismatch) as err:
        check_schema(engine)
    assert "at schema 0001" in err.value.message and "run `neocloud db upgrade`" in err.value.message
    assert upgrade(engine) == ("0001", head_revision())
    check_schema(engine)
