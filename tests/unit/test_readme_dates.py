"""The README's examples never name a date in the past.

A reader copies `--start 2026-12-01T00:00:00Z` on 2026-12-01 and gets a refusal (a reservation cannot
start in the past, a price change cannot rewrite it): examples rot silently as the calendar moves. So
every date in the README's code (fenced blocks and inline code spans) must be accepted by the CLI's one
date parser and be at least a year after the day the test runs. The examples use 2030 so that this holds
for years; when it fails, move them further ahead, use a relative form (`+1d`: a reservation starts at
most 366 days ahead, so its example must be relative), or write a placeholder such as YYYY-MM where the
command needs a month that is over.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from neocloud.cli.dates import RELATIVE, parse_instant

README = Path(__file__).resolve().parents[2] / "README.md"
MARGIN = timedelta(days=365)
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
INLINE = re.compile(r"`[^`\n]+`")
DATE = re.compile(
    r"(?<![\w-])\d{4}-\d{2}(?:-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?)?(?![\w:-])"
)

FLAG = re.compile(r"--(?:start|from|to)[ =]([^\s\]]+)")


def _code(text: str) -> list[str]:
    blocks = FENCE.findall(text)
    prose = FENCE.sub("", text)
    return blocks + INLINE.findall(prose)


def _dates(text: str) -> list[str]:
    return [d for chunk in _code(text) for d in DATE.findall(chunk)]


def _instant(text: str) -> datetime:
    """A month (YYYY-MM, as `--period` takes) is its first instant; anything else goes through the CLI's parser."""
    return parse_instant(f"{text}-01" if re.fullmatch(r"\d{4}-\d{2}", text) else text)


def test_the_date_pattern_finds_the_forms_the_cli_takes() -> None:
    sample = "```\nx --start 2031-01-02T03:04:05Z --from 2031-01-02 --period 2031-02 --to 2031-01-02T03:04+02:00\n```"
    assert _dates(sample) == ["2031-01-02T03:04:05Z", "2031-01-02", "2031-02", "2031-01-02T03:04+02:00"]
    assert _dates("`--seeds 42-51` and `h100-su` and `1 GW`") == []


def test_every_date_flag_in_the_readme_code_is_a_relative_form_or_a_date_the_cli_takes() -> None:
    values = [v for chunk in _code(README.read_text()) for v in FLAG.findall(chunk) if v != "…"]
    assert values, "the README shows no date flag: has the pattern gone stale?"
    for value in values:
        assert RELATIVE.fullmatch(value) or DATE.fullmatch(value), value
        parse_instant(value)


def test_every_date_in_the_readme_code_is_at_least_a_year_ahead() -> None:
    soon = datetime.now(UTC) + MARGIN
    stale = [d for d in _dates(README.read_text()) if _instant(d) < soon]
    assert not stale, (
        f"README examples name dates less than a year ahead: {stale} (use later ones, e.g. 2030+)"
    )
