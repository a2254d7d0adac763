import csv
import io
from decimal import Decimal

from neocloud.billing.adapters.invoice_render import invoice_csv, invoice_html
from neocloud.billing.app.views import invoice_view
from neocloud.billing.domain.invoices import Credit, InvoiceState, credit_note, draft_invoice
from neocloud.billing.domain.metering import meter
from neocloud.billing.domain.pricing import RESERVED_TERMS_MONTHS, PriceCatalog, PriceKey
from neocloud.kernel.ids import InvoiceId, TenantId
from neocloud.kernel.money import Money
from neocloud.kernel.periods import Period
from tests.builders import at, run

OCTOBER = Period.month(2026, 10)
CAT = PriceCatalog("EUR", Decimal("0.20")).with_price(
    PriceKey.of("H100", "on-demand"), "2.00", "EUR", at(days=-1)
)


def invoice(tenant: str = "acme", credits=()):
    entries = meter(
        run("a", at(), at(hours=10), tenant=tenant), {}, at(days=40), terms=RESERVED_TERMS_MONTHS
    ).entries
    return draft_invoice(
        InvoiceId("INV-1"), TenantId(tenant), OCTOBER, entries, CAT, credits, at=at(days=31)
    ).to(InvoiceState.FINALIZED, at=at(days=31))


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_a_row_per_line_then_the_totals():
    table = rows(invoice_csv(invoice()))
    assert [(r["row"], r["gpu_hours"], r["amount"]) for r in table] == [
        ("line", "80.000", "160.00"),
        ("subtotal", "", "160.00"),
        ("tax", "", "32.00"),
        ("total", "", "192.00"),
    ]


def test_csv_shows_credits_as_negative_rows():
    credit = Credit("c1", TenantId("acme"), Money.of("10.00", "EUR"), "node failure", at(days=1))
    table = rows(invoice_csv(invoice(credits=[credit])))
    assert [r["amount"] for r in table if r["row"] == "credit"] == ["-10.00"]


def test_html_shows_the_lines_and_total():
    page = invoice_html(invoice())
    assert "192.00" in page and "80.000" in page and "Invoice" in page


def test_html_escapes_what_tenants_typed():
    page = invoice_html(invoice(tenant="<script>x</script>"))
    assert "<script>x" not in page and "&lt;script&gt;" in page


def test_a_credit_note_is_titled_as_one():
    note = credit_note(invoice(), InvoiceId("CN-1"), at=at(days=32), reason="wrong price")
    page = invoice_html(note)
    assert "<title>Credit note CN-1</title>" in page and "INV-1" in page


def test_wire_shape_gives_amounts_as_decimal_strings():
    wire = invoice_view(invoice())
    assert (wire["subtotal"], wire["tax"], wire["total"], wire["lines"][0]["unit_price"]) == (
        "160.00",
        "32.00",
        "192.00",
        "2.00",
    )
