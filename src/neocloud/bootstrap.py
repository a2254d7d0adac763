"""The composition root: the one place that picks concrete adapters from settings and wires them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from neocloud.app.control import DEFAULT_SPOT_NOTICE, ControlPlane

DEFAULT_DATA_DIR = Path("~/.local/share/neocloud")


@dataclass(frozen=True)
class Settings:
    """Where state lives and how the control plane behaves.

    `database_url` None means the embedded SQLite file `neocloud.db` in `data_dir` (WAL mode);
    postgresql+psycopg://… selects PostgreSQL; "memory" selects the in-memory store (tests, demo).
    """

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    policy_name: str = "default"
    provision_delay: timedelta = timedelta(seconds=0)
    spot_notice: timedelta = DEFAULT_SPOT_NOTICE
    extra: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def from_env(data_dir: str | Path | None = None, database_url: str | None = None) -> Settings:
        """Explicit arguments win over NEOCLOUD_DATA_DIR / NEOCLOUD_DATABASE_URL, which win over defaults."""
        raw_dir = data_dir or os.environ.get("NEOCLOUD_DATA_DIR") or DEFAULT_DATA_DIR
        url = database_url or os.environ.get("NEOCLOUD_DATABASE_URL") or None
        return Settings(data_dir=Path(raw_dir).expanduser(), database_url=url)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'neocloud.db'}"


@dataclass
class Services:
    control: ControlPlane
    settings: Settings
    engine: Any = None  # the SQLAlchemy engine (None for the memory store)


def build_services(settings: Settings, *, check: bool = True) -> Services:
    """Wire the control plane. With `check`, refuse an un-migrated or newer database (SchemaMismatch,
    saying to run `neocloud db upgrade`)."""
    raise NotImplementedError
