"""A parsed answer back as the JSON document the server sent, for printing (`neocloud … --json`).

Fields come in the wire model's order; only the fields the document carried are kept (a usage item
has just the key of its grouping); datetimes are ISO 8601 with an explicit offset (`+00:00`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


def to_json(obj: Any) -> Any:
    """A wire model (or a list, page or dict of them) as plain JSON-ready data."""
    if isinstance(obj, BaseModel):
        sent = obj.model_fields_set
        return {name: to_json(getattr(obj, name)) for name in type(obj).model_fields if name in sent}
    if isinstance(obj, list | tuple):
        return [to_json(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_json(v) for k, v in obj.items()}
    if isinstance(obj, datetime):
        return obj.isoformat()
    return obj
