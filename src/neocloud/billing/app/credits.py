"""Credits and credit notes: the billing use cases that give money back, each decided in one unit of
work with what it depends on locked (the original invoice, or the tenant's credits), so concurrent
issuers serialise and a credit is never issued twice."""

from __future__ import annotations

from datetime import datetime

from neocloud.billing.app.ports import BillingStore
from neocloud.billing.domain.invoices import Credit, Invoice, InvoiceState
from neocloud.billing.domain.invoices import credit_note as make_credit_note
from neocloud.kernel.errors import Conflict, InvalidInput, NotFound
from neocloud.kernel.ids import InvoiceId, TenantId
from neocloud.kernel.money import Money


def credit_note(
    store: BillingStore, now: datetime, invoice_id: str, *, reason: str, amount: str | None = None
) -> Invoice:
    """Correct a finalized invoice: a full reversal (no `amount`) or an adjustment of `amount`
    before tax. Credit notes never take back more than the invoice billed. The note's number and
    that check are decided with the original locked, so concurrent credit notes serialise."""
    with store.atomic() as unit:
        original = required_invoice(invoice_id, unit.lock_invoice(InvoiceId(invoice_id)))
        notes = [i for i in unit.invoices(tenant=original.tenant_id) if i.refers_to == original.id]
        credited = sum(-n.subtotal.minor for n in notes if n.state is not InvoiceState.VOID)
        money = Money.of(amount, original.currency) if amount is not None else None
        wanted = money.minor if money is not None else original.subtotal.minor
        if credited + wanted > original.subtotal.minor or (money is None and credited):
            raise Conflict(
                f"invoice {original.id}: credit notes would exceed what it billed",
                details={"id": original.id, "already_credited_minor": credited},
            )
        note = make_credit_note(
            original,
            InvoiceId(f"CN-{original.id}-{len(notes) + 1}"),
            at=now,
            reason=reason,
            amount=money,
        )
        unit.save_invoice(note)
    return note


def issue_credit(
    store: BillingStore,
    currency: str,
    now: datetime,
    tenant: TenantId,
    amount: str,
    reason: str,
    incident_id: str | None = None,
) -> Credit:
    """A credit for the tenant's next invoice; at most one per incident. Its id (the incident's, or
    the tenant's next credit number) and those checks are decided with the tenant's credits locked,
    so concurrent issuers never collide."""
    with store.atomic() as unit:
        number = unit.next_credit_number(tenant)
        if incident_id is not None:
            if incident_id not in {i.id for i in unit.incidents()}:
                raise NotFound(f"incident {incident_id!r} not found", details={"field": "incident_id"})
            if any(c.incident_id == incident_id for c in unit.credits(tenant=tenant)):
                raise Conflict(
                    f"incident {incident_id!r} is already credited", details={"field": "incident_id"}
                )
        money = Money.of(amount, currency)
        credit = Credit(f"CR-{tenant}-{incident_id or number}", tenant, money, reason, now, incident_id)
        unit.add_credit(credit)
    return credit


def issue_sla_credit(
    store: BillingStore, currency: str, now: datetime, tenant: TenantId, amount: str, reason: str, key: str
) -> str:
    """An SLA credit for the tenant's next invoice, exactly once per `key` (the health context's
    allocation and period): the same key again returns the first credit's id and issues nothing.
    Decided with the tenant's credits locked, so concurrent or repeated issuers never double it."""
    if not 0 < len(key) <= 120:
        raise InvalidInput("an SLA credit key has 1..120 characters", details={"field": "key"})
    credit_id = f"CR-{tenant}-{key}"
    with store.atomic() as unit:
        unit.next_credit_number(tenant)  # takes the tenant's credit lock
        if any(c.id == credit_id for c in unit.credits(tenant=tenant)):
            return credit_id
        unit.add_credit(Credit(credit_id, tenant, Money.of(amount, currency), reason, now))
    return credit_id


def required_invoice(invoice_id: str, found: Invoice | None) -> Invoice:
    if found is None:
        raise NotFound(f"invoice {invoice_id!r} not found", details={"id": invoice_id})
    return found
