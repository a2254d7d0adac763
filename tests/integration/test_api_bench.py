"""The API benchmark's measuring parts, against an in-process server (no timing thresholds)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neocloud.bench.api import percentile, run, run_phase
from tests.builders import fleet, node
from tests.integration.api_world import ApiWorld, LiveServer


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=200), st.floats(0, 100))
def test_percentile_is_one_of_the_values_and_monotonic(values: list[float], q: float) -> None:
    p = percentile(values, q)
    assert p in values
    assert percentile(values, 0) <= p <= percentile(values, 100) == max(values)


def test_percentile_of_nothing_is_zero() -> None:
    assert percentile([], 99) == 0.0


@pytest.fixture(scope="module")
def server():  # type: ignore[no-untyped-def]
    world = ApiWorld.build(fleet(*(node(f"n{i}") for i in range(8))), tenants=("bench",))
    with LiveServer(world.app) as live:
        yield world, live.url


def test_reserve_phase_counts_every_request_and_creates_that_many(server) -> None:  # type: ignore[no-untyped-def]
    world, url = server
    (result,) = run_phase([url], [world.tokens["bench"]], "reserve", clients=3, duration=30, max_requests=12)
    assert (result.requests, result.errors, result.statuses) == (12, 0, {"201": 12})
    operator = world.control.tenancy.authenticate(world.operator)
    assert world.control.reservations.list_reservations(operator).total >= 12


def test_errors_are_counted_not_timed(server) -> None:  # type: ignore[no-untyped-def]
    _, url = server
    (result,) = run_phase([url], ["nc_" + "x" * 43], "list", clients=2, duration=30, max_requests=6)
    assert (result.requests, result.errors, result.statuses, result.p99_ms) == (6, 6, {"401": 6}, 0.0)


def test_run_reports_every_phase_and_its_targets(server) -> None:  # type: ignore[no-untyped-def]
    world, url = server
    result = run([url], [world.tokens["bench"]], clients=2, duration=0.3, database="memory")
    assert [p.operation for p in result.phases] == ["list", "quote", "reserve", "mixed-read", "mixed-write"]
    assert set(result.to_json()["targets"]) == {
        "list >= 300/s",
        "reserve >= 50/s",
        "p99 < 500 ms",
        "read p99 under writes <= 100 ms",
    }


def test_the_mixed_phase_reads_and_writes_at_once(server) -> None:  # type: ignore[no-untyped-def]
    world, url = server
    read, write = run_phase([url], [world.tokens["bench"]], "mixed", clients=4, duration=30, max_requests=12)
    assert (read.operation, write.operation) == ("mixed-read", "mixed-write")
    assert read.requests + write.requests == 12 and read.requests and write.requests
    assert set(read.statuses) == {"200"}
    assert set(write.statuses) <= {"201", "409"}  # the module's small fleet may be full by now


def test_unknown_operation_is_refused(server) -> None:  # type: ignore[no-untyped-def]
    world, url = server
    with pytest.raises(ValueError, match="unknown operation"):
        run_phase([url], [world.tokens["bench"]], "delete-everything", clients=1, duration=1)


def test_bench_command_against_a_given_url_prints_one_json_document(server) -> None:  # type: ignore[no-untyped-def]
    import json

    from typer.testing import CliRunner

    from neocloud.cli.main import _register, app

    _register()
    world, url = server
    args = [
        "bench",
        "api",
        "--url",
        url,
        "--token",
        world.tokens["bench"],
        "--clients",
        "2",
        "--duration",
        "0.5",
        "--json",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["database"], [p["operation"] for p in body["phases"]]) == (
        "external",
        ["list", "quote", "reserve", "mixed-read", "mixed-write"],
    )


def test_bench_falls_back_to_sqlite_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from neocloud.cli import bench as bench_cli
    from neocloud.cli.main import _register, app

    _register()
    monkeypatch.delenv("NEOCLOUD_TEST_POSTGRES_URL", raising=False)
    monkeypatch.setattr(bench_cli, "_start_postgres", lambda: None)
    result = CliRunner().invoke(
        app, ["bench", "api", "--clients", "1", "--duration", "0.5", "--nodes", "4", "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["database"] == "sqlite"
    assert "falling back to SQLite" in result.stderr
    # the servers it started were measured: CPU time per request of every phase that sent requests
    sent = [p for p in body["phases"] if p["requests"]]
    assert sent and all(p["server_cpu_ms"] >= 0 for p in sent)
    assert sum(p["server_cpu_ms"] for p in sent) > 0


def test_process_cpu_seconds_grows_with_work() -> None:
    import os

    from neocloud.bench.api import process_cpu_seconds

    before = process_cpu_seconds(os.getpid())
    spent = time.process_time()
    while time.process_time() - spent < 0.05:
        pass
    assert process_cpu_seconds(os.getpid()) > before
