"""The composition root: the one place that picks concrete adapters from settings and wires them."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neocloud.billing.app.ports import LifecycleEventSource
from neocloud.billing.app.service import BillingService
from neocloud.billing.app.settings import BillingSettings
from neocloud.control.app.control import DEFAULT_SPOT_NOTICE, ControlPlane, Deps
from neocloud.control.app.ports import IdSource, Provisioner, UnitOfWorkFactory
from neocloud.health.app.deps import HealthSettings, SpareSettings
from neocloud.health.app.service import HealthService
from neocloud.kernel.audit import AuditTrail
from neocloud.kernel.clock import Clock
from neocloud.placement.engine import placer

if TYPE_CHECKING:
    from neocloud.billing.adapters.memory import MemoryEventLog
    from neocloud.fleet.fleet import Fleet
    from neocloud.infra.clock import ManualClock
    from neocloud.infra.counters import Counters
    from neocloud.infra.engine import PostgresTimeouts

DEFAULT_DATA_DIR = Path("~/.local/share/neocloud")
MEMORY = "memory"
DEFAULT_QUOTA_GPUS = 512  # a new tenant's quota per GPU model (README, operator section)


@dataclass(frozen=True)
class SlurmSettings:
    """The Slurm cluster neocloud provisions on (NEOCLOUD_PROVISIONER=slurm): `conf` its slurm.conf (None:
    Slurm's default, /etc/slurm/slurm.conf or SLURM_CONF), `bin_dir` where its commands are (None: PATH),
    `lease` how long an open-ended instance's reservation runs before converge renews it, `horizon` how
    far ahead reservations are made in Slurm, `timeout_s` per Slurm command, `refresh` how often converge
    re-reads every reservation from Slurm (so a change made by hand is repaired within it)."""

    conf: Path | None = None
    bin_dir: Path | None = None
    lease: timedelta = timedelta(hours=1)
    horizon: timedelta = timedelta(days=7)
    timeout_s: float = 20.0
    refresh: timedelta = timedelta(seconds=5)

    @staticmethod
    def from_env(env: Mapping[str, str]) -> SlurmSettings | None:
        """From NEOCLOUD_PROVISIONER (fake | slurm; default fake → None), NEOCLOUD_SLURM_CONF,
        NEOCLOUD_SLURM_BIN_DIR, NEOCLOUD_SLURM_LEASE_S, NEOCLOUD_SLURM_HORIZON_S, NEOCLOUD_SLURM_TIMEOUT_S,
        NEOCLOUD_SLURM_REFRESH_S.
        ValueError for another provisioner name."""
        kind = env.get("NEOCLOUD_PROVISIONER", "fake").strip().lower() or "fake"
        if kind == "fake":
            return None
        if kind != "slurm":
            raise ValueError(f"NEOCLOUD_PROVISIONER={kind!r}: expected fake or slurm")
        conf, bin_dir = env.get("NEOCLOUD_SLURM_CONF"), env.get("NEOCLOUD_SLURM_BIN_DIR")
        return SlurmSettings(
            conf=Path(conf) if conf else None,
            bin_dir=Path(bin_dir) if bin_dir else None,
            lease=timedelta(seconds=float(env.get("NEOCLOUD_SLURM_LEASE_S", 3600))),
            horizon=timedelta(seconds=float(env.get("NEOCLOUD_SLURM_HORIZON_S", 7 * 86400))),
            timeout_s=float(env.get("NEOCLOUD_SLURM_TIMEOUT_S", 20)),
            refresh=timedelta(seconds=float(env.get("NEOCLOUD_SLURM_REFRESH_S", 5))),
        )


@dataclass(frozen=True)
class Settings:
    """Where state lives and how the control plane behaves.

    `database_url` None means the embedded SQLite file `neocloud.db` in `data_dir` (WAL mode);
    postgresql+psycopg://… selects PostgreSQL; "memory" selects the in-memory store (tests, demo).
    `pool_size` and `max_overflow` size the SQL connection pool (None: infra.engine's POOL_SIZE and MAX_OVERFLOW).
    `billing` is how billing meters and invoices (currency, grid, settle delay).
    `postgres_timeouts` None means infra.engine's defaults (lock, statement, idle-in-transaction).
    `default_quota_gpus` is written as every new tenant's quotas: GPUs per model of the catalog
    (default DEFAULT_QUOTA_GPUS), or a mapping model → GPUs (those models only); None gives new
    tenants no quota at all (unlimited), which must be asked for explicitly.
    """

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    policy_name: str = "default"
    provision_delay: timedelta = timedelta(seconds=0)
    spot_notice: timedelta = DEFAULT_SPOT_NOTICE
    pool_size: int | None = None
    max_overflow: int | None = None
    billing: BillingSettings = field(default_factory=BillingSettings)
    postgres_timeouts: PostgresTimeouts | None = None
    default_quota_gpus: dict[str, int] | int | None = DEFAULT_QUOTA_GPUS
    health: HealthSettings = field(default_factory=HealthSettings)
    webhooks_allow_private: bool = False  # deliver to private/loopback addresses (tests, labs)
    metrics_public: bool = False  # /metrics without an operator token
    slurm: SlurmSettings | None = None  # None: the fake provisioner (make run); docs/slurm.md

    @staticmethod
    def from_env(data_dir: str | Path | None = None, database_url: str | None = None) -> Settings:
        """Explicit arguments win over NEOCLOUD_DATA_DIR / NEOCLOUD_DATABASE_URL, which win over defaults;
        PostgreSQL time limits come from NEOCLOUD_PG_*_TIMEOUT_MS (see infra.engine.PostgresTimeouts)."""
        from neocloud.infra.engine import PostgresTimeouts

        raw_dir = data_dir or os.environ.get("NEOCLOUD_DATA_DIR") or DEFAULT_DATA_DIR
        url = database_url or os.environ.get("NEOCLOUD_DATABASE_URL") or None
        return Settings(
            data_dir=Path(raw_dir).expanduser(),
            database_url=url,
            postgres_timeouts=PostgresTimeouts.from_env(os.environ),
            slurm=SlurmSettings.from_env(os.environ),
            health=HealthSettings(spares=SpareSettings.from_env(os.environ)),
        )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'neocloud.db'}"


@dataclass
class Services:
    control: ControlPlane
    settings: Settings
    engine: Any = None  # the SQLAlchemy engine (None for the memory store)
    billing: BillingService | None = None
    health: HealthService | None = None
    health_sources: list[Any] = field(default_factory=list)  # HealthSource: polled by the worker
    # around a read-only request's work: its counters read together, once (infra.counters)
    read_scope: Callable[[], AbstractContextManager[None]] | None = None

    @property
    def admission_slots(self) -> int:
        """How many capacity decisions for one model a server process starts at once: several on
        PostgreSQL, where decisions on different nodes run in parallel; one on SQLite and in memory,
        where they are serialised anyway (api/fairness.py)."""
        return 4 if self.engine is not None and self.engine.dialect.name == "postgresql" else 1

    @property
    def read_slots(self) -> int | None:
        """How many hot-path reads (quote, list and show reservations) a server process runs at once: two
        on SQLite, so that the one writer holding its write lock competes for the interpreter with few
        reader threads (api/fairness.ReadPool); unbounded elsewhere."""
        return 2 if self.engine is not None and self.engine.dialect.name == "sqlite" else None

    def check_ready(self) -> None:
        """Raise unless the database answers and is at the code's schema (the API's /readyz)."""
        if self.engine is None:
            return
        from neocloud.infra.schema import check_schema

        check_schema(self.engine)

    def close(self) -> None:
        """Release the database connections (nothing to do for the memory store)."""
        if self.engine is not None:
            self.engine.dispose()


def build_services(
    settings: Settings,
    *,
    check: bool = True,
    clock: Clock | None = None,
    provisioner: Provisioner | None = None,
    ids: IdSource | None = None,
    events: LifecycleEventSource | None = None,
) -> Services:
    """Wire the control plane and billing. With `check`, refuse an un-migrated or newer database
    (SchemaMismatch, whose message says to run `neocloud db upgrade`). `clock` and `provisioner` default
    to the system clock and the fake provisioner (ready after `settings.provision_delay`); `ids` to the
    operating system's CSPRNG; `events`, what billing meters, to the control plane's own events."""
    from neocloud.billing.adapters.price_book import CatalogPriceBook
    from neocloud.control.adapters.ids import SecretIds
    from neocloud.control.adapters.memory import MemoryStore
    from neocloud.control.adapters.provisioners import FakeProvisioner
    from neocloud.infra.clock import SystemClock

    clock = clock or SystemClock()
    cluster: dict[str, Any] = {}
    commands: Any = None
    if settings.slurm is not None:
        from neocloud.control.adapters.slurm.accounts import SlurmAccounts

        commands = slurm_commands(settings.slurm)
        accounts = SlurmAccounts(commands)
        cluster = slurm_cluster(settings.slurm, commands, accounts)
        provisioner = provisioner or slurm_provisioner(settings.slurm, clock, commands, accounts)
    provisioner = provisioner or FakeProvisioner(clock, settings.provision_delay)
    engine = None
    node_table = None
    counters: Counters | None = None
    uow: UnitOfWorkFactory
    if settings.database_url == MEMORY:
        from neocloud.control.adapters.memory_sessions import MemorySessionRecords

        uow = MemoryStore()
        sessions: Any = MemorySessionRecords()
    else:
        from neocloud.control.adapters.sql.store import SqlStore
        from neocloud.infra.engine import make_engine
        from neocloud.infra.schema import check_schema

        pool = {"pool_size": settings.pool_size, "max_overflow": settings.max_overflow}
        engine = make_engine(
            settings.resolved_database_url,
            timeouts=settings.postgres_timeouts,
            **{k: v for k, v in pool.items() if v is not None},
        )
        if check:
            check_schema(engine)
        uow = SqlStore(engine)
        from neocloud.infra.counters import Counters as SqlCounters

        counters = SqlCounters(engine)  # the auth epoch and the catalog version, read together
        from neocloud.control.adapters.sql.node_table import SqlNodeTable

        node_table = SqlNodeTable(engine)
        from neocloud.control.adapters.sql.sessions import SqlSessionRecords

        sessions = SqlSessionRecords(engine)
    from neocloud.control.app.audit import StoreAuditTrail

    audit = StoreAuditTrail(uow)  # the control plane's store keeps the trail; billing writes through it
    billing = build_billing(settings, uow, engine, clock, events, audit=audit, counters=counters)
    control = ControlPlane(
        Deps(
            uow,
            clock,
            provisioner,
            CatalogPriceBook(billing),
            placer(settings.policy_name),
            ids or SecretIds(),
            spot_notice=settings.spot_notice,
            default_quota_gpus=settings.default_quota_gpus,
            node_table=node_table,
            sessions=sessions,
            auth_epoch=None if counters is None else _sql_auth_epoch(counters),
            **cluster,
        )
    )
    sources: list[Any] = []
    if settings.slurm is not None:
        from neocloud.health.adapters.sources import StateSource

        sources.append(StateSource(slurm_health_source(settings.slurm, commands)))
    health = build_health(settings, control, engine, clock, billing)
    return Services(
        control, settings, engine, billing, health, sources, None if counters is None else counters.scope
    )


def _sql_auth_epoch(counters: Counters) -> Callable[[], int]:
    from neocloud.control.adapters.sql.tenancy import SqlAuthEpoch

    return SqlAuthEpoch(counters)


def build_health(
    settings: Settings, control: ControlPlane, engine: Any, clock: Clock, billing: BillingService | None
) -> HealthService:
    """The health context over the same database, driving the control plane through its node use cases
    and issuing SLA credits through billing's port."""
    from neocloud.health.adapters.memory import MemoryHealthStore
    from neocloud.health.app.deps import HealthDeps
    from neocloud.health.app.ports import HealthStore

    store: HealthStore
    if engine is None:
        store = MemoryHealthStore()
    else:
        from neocloud.health.adapters.sql.store import SqlHealthStore

        store = SqlHealthStore(engine)
    from neocloud.health.adapters.webhook_sender import HttpWebhookSender

    sender = HttpWebhookSender(allow_private=settings.webhooks_allow_private)
    deps = HealthDeps(
        store, control.nodes, clock, settings.health, billing, ids=control.deps.ids, sender=sender
    )
    return HealthService(deps)


def slurm_commands(slurm: SlurmSettings) -> Any:
    """The one command runner for the cluster `slurm` describes; build_services shares it (and one
    SlurmAccounts) between the provisioner, accounting, accounts and the health source, so they share
    one view of the controller and one account cache."""
    from neocloud.control.adapters.slurm import SlurmCommands

    return SlurmCommands(slurm.conf, slurm.bin_dir, slurm.timeout_s)


def slurm_provisioner(
    slurm: SlurmSettings, clock: Clock, commands: Any = None, accounts: Any = None
) -> Provisioner:
    """The Slurm provisioner for the cluster `slurm` describes (control/adapters/slurm)."""
    from neocloud.control.adapters.slurm import SlurmProvisioner

    return SlurmProvisioner(
        commands or slurm_commands(slurm),
        clock,
        lease=slurm.lease,
        horizon=slurm.horizon,
        refresh=slurm.refresh,
        accounts=accounts,
    )


def slurm_cluster(slurm: SlurmSettings, commands: Any = None, accounts: Any = None) -> dict[str, Any]:
    """The Slurm cluster's other ports, as `Deps` fields: job accounting (sacct), accounts (sacctmgr)
    and the access guide (how tenants run in their reservations)."""
    from neocloud.control.adapters.slurm.accounting import SacctJobs
    from neocloud.control.adapters.slurm.accounts import SlurmAccounts
    from neocloud.control.adapters.slurm.provisioner import SlurmAccess

    commands = commands or slurm_commands(slurm)
    return {
        "jobs": SacctJobs(commands),
        "cluster_accounts": accounts or SlurmAccounts(commands),
        "access": SlurmAccess(),
    }


def slurm_health_source(slurm: SlurmSettings, commands: Any = None) -> Any:
    """Node health from the Slurm cluster: an object with `observe(now) -> list[HealthObservation]` (the
    health context's source port; control/adapters/slurm/health.py)."""
    from neocloud.control.adapters.slurm import SlurmHealthSource

    return SlurmHealthSource(commands or slurm_commands(slurm))


def build_billing(
    settings: Settings,
    uow: UnitOfWorkFactory,
    engine: Any,
    clock: Clock,
    events: LifecycleEventSource | None = None,
    *,
    audit: AuditTrail | None = None,
    counters: Counters | None = None,
) -> BillingService:
    """Billing over the same database as the control plane, configured by `settings.billing`, metering
    `events` (default: the control plane's events), recording price changes in `audit`, naming tenants
    and projects through the control plane's units of work `uow` (billing never reads its tables)."""
    from neocloud.billing.adapters.control_events import ControlEventFeed
    from neocloud.billing.adapters.invoice_render import InvoiceDocuments
    from neocloud.billing.adapters.memory import MemoryBillingStore
    from neocloud.billing.adapters.tenant_directory import ControlTenantDirectory

    store: Any
    feed: LifecycleEventSource
    if engine is None:
        store, feed = MemoryBillingStore(), ControlEventFeed(uow)
    else:
        from neocloud.billing.adapters.sql.feed import SqlEventFeed
        from neocloud.billing.adapters.sql.store import SqlBillingStore

        store, feed = SqlBillingStore(engine, counters), SqlEventFeed(engine)
    return BillingService(
        store,
        feed if events is None else events,
        clock,
        settings.billing,
        InvoiceDocuments(),
        audit,
        ControlTenantDirectory(uow),
    )


def event_log() -> MemoryEventLog:
    """An empty in-memory log of lifecycle events, for `build_services(events=…)` when billing should
    meter synthetic events (benchmarks, simulations) instead of the control plane's."""
    from neocloud.billing.adapters.memory import MemoryEventLog

    return MemoryEventLog()


def manual_clock(start: datetime) -> ManualClock:
    """A clock that moves only when told, from `start` (tz-aware UTC), for `build_services(clock=…)` when
    the calendar is the caller's: the demo's past month, simulations."""
    from neocloud.infra.clock import ManualClock

    return ManualClock(start)


@contextmanager
def scratch_settings(kind: str, postgres_url: str | None = None) -> Iterator[Settings]:
    """Settings over a throwaway database at the current schema, for benchmarks: "memory", "sqlite"
    (a file in a temporary directory) or "postgres" (a temporary schema in the server at `postgres_url`).
    The database is removed on exit: close the Services built on it first. ValueError for another kind."""
    if kind == MEMORY:
        yield Settings(database_url=MEMORY)
        return
    from neocloud.infra.scratch import scratch_database

    with scratch_database(kind, postgres_url) as url:
        yield Settings(database_url=url)


def upgrade_database(settings: Settings) -> tuple[str | None, str]:
    """Migrate the configured database to the code's schema; returns (revision before, after). A migration
    may run long statements (index builds), so it has no statement time limit; it still gives up waiting
    for a lock."""
    from dataclasses import replace

    from neocloud.infra.engine import PostgresTimeouts, make_engine
    from neocloud.infra.schema import upgrade

    if settings.database_url == MEMORY:
        return None, "memory"
    timeouts = replace(
        settings.postgres_timeouts or PostgresTimeouts(), statement_ms=0, idle_in_transaction_ms=0
    )
    engine = make_engine(settings.resolved_database_url, timeouts=timeouts)
    try:
        return upgrade(engine)
    finally:
        engine.dispose()


def slurm_config(fleet: Fleet, form: str = "tree", *, cluster: str | None = None, part: str = "all") -> str:
    """The Slurm configuration neocloud generates for `fleet` (control/adapters/slurm/config.py): `form`
    tree | block | yaml; `part` all (slurm.conf lines, then the topology, per cluster) | slurm | gres |
    topology (that file only, of every cluster). ValueError for an unknown form or part."""
    from neocloud.control.adapters.slurm.config import TopologyForm, generate, render

    configs = generate(fleet, TopologyForm(form), cluster)
    if part == "all":
        return render(configs)
    pick = {"slurm": lambda c: c.slurm_conf, "gres": lambda c: c.gres_conf, "topology": lambda c: c.topology}
    if part not in pick:
        raise ValueError(f"unknown part {part!r}")
    return "".join(pick[part](c) for c in configs)
