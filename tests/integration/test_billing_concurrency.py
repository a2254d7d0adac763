"""Billing services on one database at once: price changes serialise (none is lost), metering the same
events twice in parallel writes each ledger entry once, credits and credit notes get distinct ids, and
threads sharing one store never share a transaction (one thread's failure never undoes another's write)."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime
from functools import partial

import pytest
from sqlalchemy import event

from neocloud.billing.adapters.memory import MemoryBillingStore, MemoryEventLog
from neocloud.billing.adapters.sql.store import SqlBillingStore
from neocloud.billing.app.service import BillingService
from neocloud.billing.app.settings import BillingSettings
from neocloud.billing.domain.pricing import PriceKey
from neocloud.infra.clock import ManualClock
from neocloud.kernel.ids import TenantId
from neocloud.kernel.periods import Period
from tests.builders import at, run
from tests.control_builders import engine  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(120)
NOW = datetime(2026, 12, 1, tzinfo=UTC)
OCTOBER = Period.month(2026, 10)
ACME = TenantId("acme")


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


def wait_after(store: object, name: str, barrier: threading.Barrier) -> None:
    """Make each call of `store.name` wait at `barrier` once it has returned, so that every thread has
    read before any writes: the interleaving a read outside the write transaction allows. (A broken
    barrier lets the threads on: where the read never happens, nothing waits for long.)"""
    original = getattr(store, name)

    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = original(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return result

    setattr(store, name, wrapper)


def test_a_failure_in_one_thread_never_rolls_back_another_threads_write(engine) -> None:  # noqa: F811
    """One service and store shared by the server's threads, as bootstrap wires them: thread A's
    transaction fails while thread B's credit is in flight; B's credit, issued without error, stays."""
    shared = service(engine)
    a_in_transaction, b_in_flight, b_returned = threading.Event(), threading.Event(), threading.Event()
    b_thread: list[int] = []
    issued = []

    @event.listens_for(engine, "before_cursor_execute")
    def spot_b(*_args):  # type: ignore[no-untyped-def]
        if threading.get_ident() in b_thread:
            b_in_flight.set()

    def a() -> None:
        with pytest.raises(RuntimeError, match="unrelated"), shared.store.atomic():
            a_in_transaction.set()
            assert b_in_flight.wait(10)
            b_returned.wait(2)  # on SQLite B waits for A's write lock instead: A fails while B waits
            raise RuntimeError("unrelated failure")

    def b() -> None:
        b_thread.append(threading.get_ident())
        assert a_in_transaction.wait(10)
        issued.append(shared.issue_credit(ACME, "5.00", "goodwill"))
        b_returned.set()

    in_parallel(a, b)
    event.remove(engine, "before_cursor_execute", spot_b)
    assert service(engine).store.credits(tenant=ACME) == issued


def test_concurrent_credits_get_distinct_ids(engine) -> None:  # noqa: F811
    issuers = [service(engine) for _ in range(6)]
    counted = threading.Barrier(len(issuers), timeout=5)
    for issuer in issuers:
        wait_after(issuer.store, "credits", counted)
    in_parallel(*(partial(s.issue_credit, ACME, "1.00", f"goodwill {n}") for n, s in enumerate(issuers)))
    ids = [c.id for c in service(engine).store.credits(tenant=ACME)]
    assert len(ids) == len(set(ids)) == len(issuers)


def test_concurrent_credit_notes_get_distinct_ids(engine) -> None:  # noqa: F811
    log = MemoryEventLog()
    log.extend(run("a", at(), at(hours=1)))  # 8 GPU-hours of H100: 49.28
    (invoice,) = service(engine, log).finalize(OCTOBER)
    issuers = [service(engine, log) for _ in range(4)]
    counted = threading.Barrier(len(issuers), timeout=5)
    for issuer in issuers:
        wait_after(issuer.store, "invoices", counted)
    in_parallel(
        *(
            partial(s.credit_note, invoice.id, reason=f"goodwill {n}", amount="1.00")
            for n, s in enumerate(issuers)
        )
    )
    notes = [i for i in service(engine).store.invoices(tenant=ACME) if i.refers_to == invoice.id]
    assert len(notes) == len({n.id for n in notes}) == len(issuers)
