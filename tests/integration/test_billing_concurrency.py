"""Two billing services on one database at once: price changes serialise (none is lost) and metering
the same events twice in parallel writes each ledger entry once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from neocloud.billing.adapters.memory import MemoryBillingStore, MemoryEventLog
from neocloud.billing.adapters.sql.store import SqlBillingStore
from neocloud.billing.app.service import BillingService, BillingSettings
from neocloud.billing.domain.pricing import PriceKey
from neocloud.infra.clock import ManualClock
from tests.builders import at, run
from tests.control_builders import engine  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(120)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def service(db, log=None):  # type: ignore[no-untyped-def]
    return BillingService(SqlBillingStore(db), log or MemoryEventLog(), ManualClock(NOW), BillingSettings())


def in_parallel(*jobs) -> None:  # type: ignore[no-untyped-def]
    errors: list[BaseException] = []

    def wrap(job):  # type: ignore[no-untyped-def]
        try:
            job()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_concurrent_price_changes_are_all_kept(engine) -> None:  # noqa: F811
    service(engine).set_price(
        model="H100", product="spot", price="2.00", currency="USD"
    )  # the catalog row exists
    models = ("H100", "H200", "B200", "GB200")

    def setter(model: str):  # type: ignore[no-untyped-def]
        return lambda: [
            service(engine).set_price(
                model=model,
                product="on-demand",
                price=f"{n}.00",
                currency="USD",
                effective_from=NOW.replace(day=2 + n),
            )
            for n in range(5)
        ]

    in_parallel(*(setter(m) for m in models))
    catalog = service(engine).catalog()
    for model in models:
        assert catalog.price_at(PriceKey.of(model, "on-demand"), NOW.replace(day=6)) == 4


def test_parallel_metering_writes_each_entry_once(engine) -> None:  # noqa: F811
    log = MemoryEventLog()
    log.extend([e for i in range(40) for e in run(f"a{i}", at(hours=i), at(days=3, hours=i))])
    in_parallel(lambda: service(engine, log).meter(), lambda: service(engine, log).meter())
    alone = BillingService(MemoryBillingStore(), log, ManualClock(NOW))
    alone.meter()
    entries = SqlBillingStore(engine).usage()
    assert len(entries) == len({e.id for e in entries})
    assert sorted(entries, key=lambda e: e.id) == sorted(alone.store.usage(), key=lambda e: e.id)
