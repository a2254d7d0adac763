"""Where the tenant commands find the API: --url/--token, else NEOCLOUD_URL/NEOCLOUD_TOKEN, else the file
`neocloud login` writes (~/.config/neocloud/credentials.json, mode 0600)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Endpoint:
    url: str | None = None
    token: str | None = None


def credentials_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "neocloud" / "credentials.json"


def load(path: Path | None = None) -> Endpoint:
    """The stored endpoint (empty when there is no file or it is unreadable)."""
    path = path or credentials_path()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return Endpoint()
    if not isinstance(data, dict):
        return Endpoint()
    url, token = data.get("url"), data.get("token")
    return Endpoint(url if isinstance(url, str) else None, token if isinstance(token, str) else None)


def save(endpoint: Endpoint, path: Path | None = None) -> Path:
    """Write the endpoint readable by the owner only (0600), replacing any previous file atomically."""
    path = path or credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"url": endpoint.url, "token": endpoint.token}, f)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def resolve(given: Endpoint, path: Path | None = None) -> Endpoint:
    """Options and environment (already merged by Typer into `given`) win over the stored file."""
    stored = load(path)
    return Endpoint(given.url or stored.url or DEFAULT_URL, given.token or stored.token)
