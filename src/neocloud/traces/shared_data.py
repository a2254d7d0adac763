"""Where the public traces live: `../shared/data/<name>` beside the checkout, never in it.

The data is not committed (its licences and size keep it out of the repository); code takes a path, an
environment variable overrides the default, and the default is looked for from the working directory
and from this package's location upwards, so both `make run` in a checkout and an installed package
used from beside `shared/` find it."""

from __future__ import annotations

import os
from pathlib import Path


def shared_data(relative: str, env: str) -> Path | None:
    """`$env` if set, else the first existing `<dir>/../shared/data/<relative>` for `<dir>` the working
    directory or one of this file's parents; None when there is none."""
    given = os.environ.get(env)
    if given:
        return Path(given)
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        candidate = base.parent / "shared" / "data" / relative
        if candidate.exists():
            return candidate
    return None
