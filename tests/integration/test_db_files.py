"""The embedded database and its data dir are private to their owner (hardening #7)."""

from __future__ import annotations

import stat

from sqlalchemy import text

from neocloud.infra.engine import make_engine


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_file_and_data_dir_are_0600_and_0700(tmp_path) -> None:
    data = tmp_path / "data"
    engine = make_engine(f"sqlite:///{data / 'neocloud.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    assert _mode(data) == 0o700
    assert _mode(data / "neocloud.db") == 0o600
    for extra in ("neocloud.db-wal", "neocloud.db-shm"):
        if (data / extra).exists():
            assert _mode(data / extra) & 0o077 == 0, extra
    engine.dispose()


def test_an_existing_data_dir_keeps_the_mode_its_operator_gave_it(tmp_path) -> None:
    data = tmp_path / "shared"
    data.mkdir(mode=0o750)
    data.chmod(0o750)
    make_engine(f"sqlite:///{data / 'neocloud.db'}").dispose()
    assert _mode(data) == 0o750 and _mode(data / "neocloud.db") == 0o600
