"""`neocloud bench console` measures every main page of both roles, each answering 200, beside the demo."""

from __future__ import annotations

from neocloud.bench.console import OPERATOR_PAGES, TENANT_PAGES, run


def test_the_console_bench_times_every_page_of_both_worlds() -> None:
    figures = run(preset="demo", tenants=3, requests=2, history_days=3, fleet_map=False)
    for world in ("baseline", "measured"):
        pages = {row["page"]: row for row in figures[world]["pages"]}
        assert set(pages) == set(TENANT_PAGES) | set(OPERATOR_PAGES), world
        for row in pages.values():
            assert row["status"] == 200, (world, row)
            assert 0 < row["p50_ms"] <= row["p95_ms"], (world, row)
    assert figures["measured"]["tenants"] == 3
