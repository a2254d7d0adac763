"""One parser for every date flag (`--start`, `--from`, `--to`): the forms it takes and the one error it gives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from neocloud.cli.dates import BadInstant, instant, parse_instant
from neocloud.cli.main import _register, app


def test_a_plain_date_is_midnight_utc() -> None:
    assert parse_instant("2030-12-01") == datetime(2030, 12, 1, tzinfo=UTC)


def test_a_date_time_with_z_is_utc() -> None:
    assert parse_instant("2030-12-01T09:30:00Z") == datetime(2030, 12, 1, 9, 30, tzinfo=UTC)


def test_a_date_time_with_an_offset_is_converted_to_utc() -> None:
    assert parse_instant("2030-12-01T09:30:00+02:00") == datetime(2030, 12, 1, 7, 30, tzinfo=UTC)
    assert parse_instant("2030-12-01T20:00:00-05:00") == datetime(2030, 12, 2, 1, 0, tzinfo=UTC)


def test_a_naive_date_time_is_utc() -> None:
    assert parse_instant("2030-12-01T09:30:00") == datetime(2030, 12, 1, 9, 30, tzinfo=UTC)
    assert parse_instant("2030-12-01 09:30") == datetime(2030, 12, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "1999-12-31",
        "2201-01-01",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:00:00-05:00",
        "2200-12-31T23:00:00-05:00",
    ],
)
def test_years_outside_2000_to_2200_are_refused(text: str) -> None:
    with pytest.raises(BadInstant, match="between 2000 and 2200"):
        parse_instant(text)


@pytest.mark.parametrize(
    "text", ["tomorrow", "+2w", "-2h", "2030-13-01", "", "01/12/2030", "2030-12-01T25:00"]
)
def test_what_is_not_a_date_is_refused(text: str) -> None:
    with pytest.raises(BadInstant, match="is not a date or an ISO 8601 date-time"):
        parse_instant(text)


def test_a_fraction_of_a_second_is_refused() -> None:
    with pytest.raises(BadInstant, match="whole seconds"):
        parse_instant("2030-12-01T09:30:00.5Z")


def test_no_text_is_no_instant() -> None:
    assert instant(None, "--from") is None


def _run(*args: str) -> tuple[int, str]:
    _register()
    result = CliRunner().invoke(app, ["--url", "http://127.0.0.1:9", "--token", "nc_x", *args])
    return result.exit_code, " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (("usage", "--from", "someday"), "--from"),
        (("usage", "--from", "2030-01-01", "--to", "someday"), "--to"),
        (("reserve", "--model", "H100", "--gpus", "8", "--hours", "1", "--start", "someday"), "--start"),
    ],
)
def test_every_flag_gives_one_error_naming_the_flag_once_with_an_example(
    args: tuple[str, ...], flag: str
) -> None:
    code, err = _run(*args)
    assert code == 1
    assert (
        err == f"error: {flag}: 'someday' is not a date or an ISO 8601 date-time "
        "(e.g. +2h, 2030-01-01 or 2030-01-01T09:00:00Z)"
    )
    assert err.count(flag) == 1


def test_from_takes_the_plain_date_start_takes() -> None:
    """Both go through the one parser: a plain date is accepted by --from as by --start (the command then
    fails only because no server listens on the test's URL)."""
    code, err = _run("usage", "--from", "2030-12-01", "--to", "2031-01-01")
    assert code == 1 and "--from" not in err and "--to" not in err


NOW = datetime(2030, 3, 2, 9, 30, 15, 500_000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", datetime(2030, 3, 2, 9, 30, 15, tzinfo=UTC)),
        ("+30m", datetime(2030, 3, 2, 10, 0, 15, tzinfo=UTC)),
        ("+2h", datetime(2030, 3, 2, 11, 30, 15, tzinfo=UTC)),
        ("+3d", datetime(2030, 3, 5, 9, 30, 15, tzinfo=UTC)),
    ],
)
def test_relative_forms_count_whole_seconds_from_now(text: str, expected: datetime) -> None:
    assert parse_instant(text, now=NOW) == expected


def test_a_relative_form_past_2200_is_refused() -> None:
    with pytest.raises(BadInstant, match="between 2000 and 2200"):
        parse_instant("+999999d", now=NOW)
