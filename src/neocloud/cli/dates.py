"""Instants given on the command line (`--from`, `--to`, …)."""

from __future__ import annotations

from datetime import datetime

from neocloud.cli.output import fail


def instant(text: str | None, option: str) -> datetime | None:
    """The ISO 8601 instant `text` names (None for None); a CLI error naming `option` otherwise."""
    if text is None:
        return None
    from neocloud.kernel.errors import InvalidInput
    from neocloud.kernel.periods import parse_instant

    try:
        return parse_instant(text.replace("Z", "+00:00"), option)
    except InvalidInput as err:
        raise fail(f"{option}: {err.message}") from None
