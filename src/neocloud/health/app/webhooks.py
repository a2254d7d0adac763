"""Webhook use cases: a tenant-admin subscribes URLs to notice kinds; `dispatch` sends what is due.

Deliveries are queued with their notice (the store does it in the same transaction), and sent by
`dispatch` outside any transaction through the `WebhookSender` port: signed (HMAC-SHA256), retried
with backoff, their status visible to the tenant. A tenant never sees another tenant's webhooks or
deliveries (another's id answers NotFound)."""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlsplit

from neocloud.control.domain.tenancy import Principal, Role
from neocloud.health.app.deps import HealthDeps
from neocloud.health.app.ports import WebhookSender
from neocloud.health.domain.notices import Notice, NoticeKind
from neocloud.health.domain.webhooks import SIGNATURE_HEADER, Delivery, Webhook, sign
from neocloud.kernel.errors import Forbidden, InvalidInput, NotFound
from neocloud.kernel.ids import TenantId

MAX_WEBHOOKS_PER_TENANT = 20


def body_of(notice: Notice) -> bytes:
    """The JSON a delivery POSTs: the notice as the tenant's API shows it."""
    doc = {
        "id": notice.id,
        "kind": notice.kind.value,
        "at": notice.at.isoformat(),
        "allocation": notice.allocation,
        "message": notice.message,
        "data": notice.data,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


class WebhookService:
    def __init__(self, deps: HealthDeps, sender: WebhookSender | None) -> None:
        self._d = deps
        self._sender = sender

    def subscribe(self, principal: Principal, url: str, kinds: list[str]) -> Webhook:
        """A new subscription of the caller's tenant; its secret is in the answer, only this once."""
        if principal.tenant_id is None or principal.role is not Role.TENANT_ADMIN:
            raise Forbidden("subscribing webhooks needs a tenant-admin token")
        principal.require_active("subscribing webhooks")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            raise InvalidInput(
                "a webhook URL is http(s)://host/… without credentials", details={"field": "url"}
            )
        if self._sender is not None and (why := self._sender.refused(url)) is not None:
            raise InvalidInput(f"webhook URL refused: {why}", details={"field": "url"})
        try:
            wanted = frozenset(NoticeKind(k) for k in kinds)
        except ValueError:
            raise InvalidInput(
                "unknown notice kind", details={"known": [k.value for k in NoticeKind]}
            ) from None
        if not wanted:
            raise InvalidInput("subscribe to at least one kind of notice")
        if len(self._d.store.webhooks(principal.tenant_id)) >= MAX_WEBHOOKS_PER_TENANT:
            raise InvalidInput(f"a tenant has at most {MAX_WEBHOOKS_PER_TENANT} webhooks")
        ident = self._d.ids.new_id("whk") if self._d.ids is not None else f"whk_{secrets.token_hex(8)}"
        hook = Webhook(ident, principal.tenant_id, url, secrets.token_hex(32), wanted, self._d.clock.now())
        self._d.store.add_webhook(hook)
        return hook

    def webhooks(self, principal: Principal) -> list[Webhook]:
        return self._d.store.webhooks(None if principal.sees_everything else self._tenant(principal))

    def unsubscribe(self, principal: Principal, webhook_id: str) -> None:
        """A tenant-admin removes its tenant's subscription (an operator, any)."""
        if not principal.is_operator and principal.role is not Role.TENANT_ADMIN:
            raise Forbidden("removing webhooks needs a tenant-admin token")
        self._own(principal, webhook_id)
        principal.require_active("removing webhooks")
        self._d.store.set_webhook_active(webhook_id, False)

    def deliveries(
        self, principal: Principal, webhook_id: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit must be in 1..1000")
        if webhook_id is not None:
            self._own(principal, webhook_id)
        tenant = None if principal.sees_everything else self._tenant(principal)
        return self._d.store.deliveries(tenant, webhook_id, limit)

    def dispatch(self, limit: int = 100) -> list[Delivery]:
        """Send the deliveries due now (each once per call); their new states."""
        if self._sender is None:
            return []
        now = self._d.clock.now()
        hooks = {w.id: w for w in self._d.store.webhooks(None)}
        out = []
        for d in self._d.store.due_deliveries(now, limit):
            hook, notice = hooks.get(d.webhook_id), self._d.store.notice(d.notice_id)
            if hook is None or notice is None or not hook.active:
                moved = d.after(now, None, "subscription removed")
                moved = Delivery(
                    moved.id,
                    moved.webhook_id,
                    moved.notice_id,
                    moved.tenant,
                    moved.status.FAILED,
                    moved.attempts,
                    None,
                    None,
                    "subscription removed",
                )
            else:
                body = body_of(notice)
                headers = {
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign(hook.secret, int(now.timestamp()), body),
                    "Neocloud-Delivery": str(d.id),
                    "Neocloud-Event": notice.kind.value,
                }
                code, error = self._sender.post(hook.url, body, headers)
                moved = d.after(self._d.clock.now(), code, error or (f"HTTP {code}" if code else "no answer"))
            self._d.store.save_delivery(moved)
            out.append(moved)
        return out

    def _tenant(self, principal: Principal) -> TenantId:
        if principal.tenant_id is None:
            raise Forbidden("webhooks belong to a tenant")
        return principal.tenant_id

    def _own(self, principal: Principal, webhook_id: str) -> Webhook:
        found = next((w for w in self._d.store.webhooks(None) if w.id == webhook_id), None)
        if found is None or not principal.can_see(found.tenant):
            raise NotFound(f"webhook {webhook_id!r} not found")
        return found
