"""Webhooks: a tenant-admin subscribes URLs to notices (degraded, replaced, restored, credit issued);
deliveries are HMAC-signed, retried with backoff, and listed here with their status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from neocloud.api.deps import Caller, Health
from neocloud.health.domain.webhooks import Delivery, Webhook
from neocloud.wire.fields import IDENT_PATTERN
from neocloud.wire.node_health import DeliveryOut, WebhookCreate, WebhookOut

router = APIRouter(tags=["webhooks"])
WebhookPath = Annotated[str, Path(pattern=IDENT_PATTERN)]


def _out(w: Webhook, *, secret: bool = False) -> dict[str, Any]:
    return {
        "id": w.id,
        "url": w.url,
        "events": sorted(k.value for k in w.kinds),
        "secret": w.secret if secret else None,
        "created_at": w.created_at,
        "active": w.active,
    }


@router.post(
    "/webhooks",
    status_code=201,
    response_model=WebhookOut,
    summary="Subscribe a URL to notices (tenant-admin); the signing secret is shown once",
)
def subscribe(hs: Health, caller: Caller, body: WebhookCreate) -> dict[str, Any]:
    return _out(hs.webhooks.subscribe(caller, body.url, list(body.events)), secret=True)


@router.get("/webhooks", response_model=list[WebhookOut], summary="Your webhook subscriptions")
def list_webhooks(hs: Health, caller: Caller) -> list[dict[str, Any]]:
    return [_out(w) for w in hs.webhooks.webhooks(caller)]


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Stop a subscription")
def unsubscribe(hs: Health, caller: Caller, webhook_id: WebhookPath) -> None:
    hs.webhooks.unsubscribe(caller, webhook_id)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=list[DeliveryOut],
    summary="Deliveries of one subscription with their status (pending, delivered, failed)",
)
def deliveries(
    hs: Health, caller: Caller, webhook_id: WebhookPath, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[Delivery]:
    return hs.webhooks.deliveries(caller, webhook_id, limit)
