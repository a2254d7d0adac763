import json

from typer.testing import CliRunner

from neocloud.bench.billing import run
from neocloud.cli.main import _register, app


def test_a_small_bench_month_reconciles_cleanly():
    figures = run(allocations=150, nodes=1_000, seed=3)
    assert figures["differences"] == 0 and figures["ledger_entries"] > 0 and figures["invoices"] > 0


def test_the_bench_is_reproducible_for_a_seed():
    first, second = run(allocations=60, nodes=500, seed=5), run(allocations=60, nodes=500, seed=5)
    assert (first["revenue_usd"], first["ledger_entries"]) == (
        second["revenue_usd"],
        second["ledger_entries"],
    )


def test_bench_billing_json_prints_one_document():
    _register()
    result = CliRunner().invoke(app, ["bench", "billing", "--allocations", "40", "--nodes", "400", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["allocations"] == 40
