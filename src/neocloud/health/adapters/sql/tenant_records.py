"""The SQL HealthStore's tenant-facing records: notices, SLA credits issued, webhooks and their
deliveries (each method one short transaction, as in store.py)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from neocloud.health.adapters.sql import tables as t
from neocloud.health.app.ports import IssuedCredit
from neocloud.health.domain.notices import Notice, NoticeKind
from neocloud.health.domain.webhooks import Delivery, DeliveryStatus, Webhook
from neocloud.infra.engine import read_only
from neocloud.kernel.ids import AllocationId, TenantId


def _notice(r: Any) -> Notice:
    return Notice(
        TenantId(r.tenant_id),
        NoticeKind(r.kind),
        r.at,
        r.message,
        AllocationId(r.allocation_id) if r.allocation_id else None,
        json.loads(r.data),
        int(r.id),
    )


class SqlTenantRecords:
    """Notices, credits, webhooks and deliveries; SqlHealthStore adds the nodes' records."""

    engine: Engine

    def _read(self) -> Any:
        return read_only(self.engine.connect())

    def add_notice(self, notice: Notice) -> Notice:
        with self.engine.begin() as c:
            done = c.execute(
                insert(t.health_notices).values(
                    tenant_id=notice.tenant,
                    kind=notice.kind.value,
                    at=notice.at,
                    message=notice.message,
                    allocation_id=notice.allocation,
                    data=json.dumps(notice.data, sort_keys=True),
                )
            )
            pk = done.inserted_primary_key
            assert pk is not None
            new_id = int(pk[0])
            w = t.health_webhooks.c
            for r in c.execute(
                select(t.health_webhooks).where(w.tenant_id == notice.tenant, w.active.is_(True))
            ):
                if notice.kind.value in json.loads(r.kinds):
                    c.execute(
                        insert(t.health_deliveries).values(
                            webhook_id=r.id,
                            notice_id=new_id,
                            tenant_id=notice.tenant,
                            status=DeliveryStatus.PENDING.value,
                            attempts=0,
                            next_at=notice.at,
                            last_code=None,
                            last_error="",
                            delivered_at=None,
                        )
                    )
        return Notice(
            notice.tenant, notice.kind, notice.at, notice.message, notice.allocation, notice.data, new_id
        )

    def notices(self, tenant: TenantId | None, after: int | None = None, limit: int = 100) -> list[Notice]:
        n = t.health_notices.c
        q = select(t.health_notices)
        if tenant is not None:
            q = q.where(n.tenant_id == tenant)
        if after is not None:
            q = q.where(n.id > after)
        with self._read() as c, c.begin():
            return [_notice(r) for r in c.execute(q.order_by(n.id).limit(limit))]

    def add_credit(self, credit: IssuedCredit) -> bool:
        try:
            with self.engine.begin() as c:
                c.execute(
                    insert(t.health_sla_credits).values(
                        key=credit.key,
                        tenant_id=credit.tenant,
                        allocation_id=credit.allocation,
                        period_start=credit.period_start,
                        availability_pct=credit.availability_pct,
                        amount_minor=credit.amount_minor,
                        currency=credit.currency,
                        credit_id=credit.credit_id,
                        at=credit.at,
                    )
                )
        except IntegrityError:
            return False
        return True

    def credits(self) -> list[IssuedCredit]:
        with self._read() as c, c.begin():
            rows = c.execute(select(t.health_sla_credits).order_by(t.health_sla_credits.c.key))
            return [
                IssuedCredit(
                    r.key,
                    TenantId(r.tenant_id),
                    AllocationId(r.allocation_id),
                    r.period_start,
                    r.availability_pct,
                    int(r.amount_minor),
                    r.currency,
                    r.credit_id,
                    r.at,
                )
                for r in rows
            ]

    def notice(self, notice_id: int) -> Notice | None:
        with self._read() as c, c.begin():
            r = c.execute(select(t.health_notices).where(t.health_notices.c.id == notice_id)).first()
        return _notice(r) if r else None

    def add_webhook(self, webhook: Webhook) -> None:
        with self.engine.begin() as c:
            c.execute(
                insert(t.health_webhooks).values(
                    id=webhook.id,
                    tenant_id=webhook.tenant,
                    url=webhook.url,
                    secret=webhook.secret,
                    kinds=json.dumps(sorted(k.value for k in webhook.kinds)),
                    created_at=webhook.created_at,
                    active=webhook.active,
                )
            )

    def webhooks(self, tenant: TenantId | None) -> list[Webhook]:
        w = t.health_webhooks.c
        q = select(t.health_webhooks).order_by(w.id)
        if tenant is not None:
            q = q.where(w.tenant_id == tenant)
        with self._read() as c, c.begin():
            return [
                Webhook(
                    r.id,
                    TenantId(r.tenant_id),
                    r.url,
                    r.secret,
                    frozenset(NoticeKind(k) for k in json.loads(r.kinds)),
                    r.created_at,
                    bool(r.active),
                )
                for r in c.execute(q)
            ]

    def set_webhook_active(self, webhook_id: str, active: bool) -> bool:
        with self.engine.begin() as c:
            done = c.execute(
                update(t.health_webhooks).where(t.health_webhooks.c.id == webhook_id).values(active=active)
            )
            return bool(done.rowcount)

    def deliveries(
        self, tenant: TenantId | None, webhook_id: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        d = t.health_deliveries.c
        q = select(t.health_deliveries)
        if tenant is not None:
            q = q.where(d.tenant_id == tenant)
        if webhook_id is not None:
            q = q.where(d.webhook_id == webhook_id)
        with self._read() as c, c.begin():
            rows = list(c.execute(q.order_by(d.id.desc()).limit(limit)))
        return [_delivery(r) for r in reversed(rows)]

    def due_deliveries(self, now: datetime, limit: int) -> list[Delivery]:
        d = t.health_deliveries.c
        q = select(t.health_deliveries).where(d.status == DeliveryStatus.PENDING.value, d.next_at <= now)
        with self._read() as c, c.begin():
            return [_delivery(r) for r in c.execute(q.order_by(d.next_at, d.id).limit(limit))]

    def save_delivery(self, delivery: Delivery) -> None:
        with self.engine.begin() as c:
            c.execute(
                update(t.health_deliveries)
                .where(t.health_deliveries.c.id == delivery.id)
                .values(
                    status=delivery.status.value,
                    attempts=delivery.attempts,
                    next_at=delivery.next_at,
                    last_code=delivery.last_code,
                    last_error=delivery.last_error,
                    delivered_at=delivery.delivered_at,
                )
            )


def _delivery(r: Any) -> Delivery:
    return Delivery(
        int(r.id),
        r.webhook_id,
        int(r.notice_id),
        TenantId(r.tenant_id),
        DeliveryStatus(r.status),
        int(r.attempts),
        r.next_at,
        r.last_code,
        r.last_error,
        r.delivered_at,
    )
