"""The node table read as columns (control.app.fleetmap.NodeTable) in one query, straight from the
driver's cursor: no SQLAlchemy row or Node object per node (the fleet map's cold path on 100k nodes)."""

from __future__ import annotations

from typing import Any

from neocloud.control.adapters.sql import tables as t
from neocloud.control.app.nodetable import NodeColumns

COLUMNS = ("id", "model", "gpus", "nvlink", "rack", "leaf", "su", "fabric", "hall", "site")


class SqlNodeTable:
    def __init__(self, engine: Any) -> None:
        self._engine = engine

    def node_columns(self) -> NodeColumns:
        query = f"SELECT {', '.join(COLUMNS)} FROM {t.nodes.name} ORDER BY ordinal"
        with self._engine.connect() as conn:
            cursor = conn.connection.dbapi_connection.cursor()
            try:
                cursor.execute(query)
                rows = cursor.fetchall()
            finally:
                cursor.close()
            conn.rollback()
        if not rows:
            return NodeColumns(*([] for _ in COLUMNS))
        return NodeColumns(*zip(*rows, strict=True))  # one tuple per column
