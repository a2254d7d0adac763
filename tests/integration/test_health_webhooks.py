# ruff: noqa: F811  (pytest fixtures imported from tests.control_builders)
"""Webhooks to a real receiver on 127.0.0.1: signed deliveries, retries with backoff after a failure,
delivery status visible to the tenant and to no other; and /metrics."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from neocloud.control.app.views import ReservationRequest
from neocloud.health.adapters.webhook_sender import HttpWebhookSender
from neocloud.health.domain.webhooks import SIGNATURE_HEADER, DeliveryStatus, verify
from neocloud.kernel.errors import Forbidden, InvalidInput, NotFound
from tests.control_builders import database  # noqa: F401  (fixture)
from tests.health_builders import health_world, observation


class Receiver:
    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.got.append((dict(self.headers), body))
            code = 500 if state.fail_next > 0 else 204
            state.fail_next -= 1
            self.send_response(code)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def test_a_replacement_is_delivered_signed_after_a_retry(
    receiver: tuple[Receiver, str], database: str
) -> None:
    state, url = receiver
    w, health = health_world(database, nvl72_spares=2)
    acme, globex = w.tenant("acme"), w.tenant("globex")
    hook = health.webhooks.subscribe(acme, url, ["replaced", "degraded"])
    health.webhooks.subscribe(globex, url, ["replaced"])
    rsv = w.control.reservations.reserve(acme, ReservationRequest("GB200", 64, 24, shape="one-nvl72"))
    w.control.reconcile()
    state.fail_next = 1
    health.observe(observation(rsv.nodes[0], w.clock.now()))

    first = health.webhooks.dispatch()
    assert [(d.status, d.attempts, d.last_code) for d in first] == [(DeliveryStatus.PENDING, 1, 500)]
    assert health.webhooks.dispatch() == []  # not due yet: backoff
    w.clock.advance(timedelta(seconds=30))
    second = health.webhooks.dispatch()
    assert [(d.status, d.attempts, d.last_code) for d in second] == [(DeliveryStatus.DELIVERED, 2, 204)]

    headers, body = state.got[-1]
    assert verify(hook.secret, headers[SIGNATURE_HEADER], body)
    assert not verify(hook.secret, headers[SIGNATURE_HEADER], body + b" ")
    assert b'"kind":"replaced"' in body and rsv.id.encode() in body and len(state.got) == 2
    assert [d.status for d in health.webhooks.deliveries(acme, hook.id)] == [DeliveryStatus.DELIVERED]
    assert health.webhooks.deliveries(globex) == []  # globex's allocation was not touched
    with pytest.raises(NotFound):
        health.webhooks.deliveries(globex, hook.id)


def test_deliveries_give_up_after_the_last_attempt_and_only_tenant_admins_subscribe(
    receiver: tuple[Receiver, str],
) -> None:
    state, url = receiver
    w, health = health_world(nvl72_spares=2)
    acme = w.tenant("acme")
    with pytest.raises(Forbidden):
        health.webhooks.subscribe(w.token("acme", "tenant-member"), url, ["replaced"])
    health.webhooks.subscribe(acme, url, ["replaced"])
    rsv = w.control.reservations.reserve(acme, ReservationRequest("GB200", 64, 24, shape="one-nvl72"))
    w.control.reconcile()
    state.fail_next = 100
    health.observe(observation(rsv.nodes[0], w.clock.now()))
    final = None
    for _ in range(20):
        w.clock.advance(timedelta(hours=1))
        for d in health.webhooks.dispatch():
            final = d
    assert final is not None and final.status is DeliveryStatus.FAILED and final.attempts == 8


def test_the_sender_refuses_private_addresses_unless_allowed() -> None:
    code, why = HttpWebhookSender().post("http://127.0.0.1:9/x", b"{}", {})
    assert code is None and "non-public" in why


class FlippingResolver:
    """A DNS stub whose answer the test changes between subscription and delivery (DNS rebinding)."""

    def __init__(self, answer: list[str]) -> None:
        self.answer = answer
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        return list(self.answer)


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/", 1)[0])


def test_a_host_that_rebinds_to_loopback_after_subscribing_gets_no_delivery(
    receiver: tuple[Receiver, str],
) -> None:
    state, url = receiver
    w, health = health_world(nvl72_spares=2)
    dns = FlippingResolver(["93.184.216.34"])  # public when the tenant subscribes
    sender = HttpWebhookSender(resolver=dns)  # the operator does not allow private addresses
    health.webhooks._sender = sender
    acme = w.tenant("acme")
    hook_url = f"http://hooks.acme.test:{_port(url)}/hook"
    health.webhooks.subscribe(acme, hook_url, ["replaced"])
    rsv = w.control.reservations.reserve(acme, ReservationRequest("GB200", 64, 24, shape="one-nvl72"))
    w.control.reconcile()
    health.observe(observation(rsv.nodes[0], w.clock.now()))
    dns.answer = ["93.184.216.34", "127.0.0.1"]  # rebinds: one answer of several is loopback
    dns.calls.clear()
    [attempt] = health.webhooks.dispatch()
    assert attempt.status is DeliveryStatus.PENDING and attempt.last_code is None
    assert "non-public address" in attempt.last_error and "127.0.0.1" not in attempt.last_error
    assert dns.calls == ["hooks.acme.test"]  # resolved once for the attempt
    dns.answer = ["169.254.169.254"]  # the cloud metadata address
    w.clock.advance(timedelta(minutes=1))
    [again] = health.webhooks.dispatch()
    assert again.last_code is None and "non-public address" in again.last_error
    assert "169.254" not in again.last_error  # the tenant is not told where its name points inside
    assert state.got == []  # nothing reached the receiver on 127.0.0.1
    with pytest.raises(InvalidInput) as refused:  # subscribing while it points inside is refused
        health.webhooks.subscribe(acme, hook_url, ["replaced"])
    assert "non-public" in refused.value.message and "169.254" not in refused.value.message


def test_a_delivery_connects_to_the_address_it_checked_with_the_original_host(
    receiver: tuple[Receiver, str],
) -> None:
    state, url = receiver
    w, health = health_world(nvl72_spares=2)
    dns = FlippingResolver(["127.0.0.1"])  # a name the system's resolver does not know
    health.webhooks._sender = HttpWebhookSender(allow_private=True, resolver=dns)  # the tests' setting
    acme = w.tenant("acme")
    hook_url = f"http://hooks.acme.test:{_port(url)}/hook?x=1"
    hook = health.webhooks.subscribe(acme, hook_url, ["replaced"])
    rsv = w.control.reservations.reserve(acme, ReservationRequest("GB200", 64, 24, shape="one-nvl72"))
    w.control.reconcile()
    health.observe(observation(rsv.nodes[0], w.clock.now()))
    dns.calls.clear()
    [sent] = health.webhooks.dispatch()
    assert (sent.status, sent.last_code) == (DeliveryStatus.DELIVERED, 204)
    assert dns.calls == ["hooks.acme.test"]
    headers, body = state.got[-1]
    assert headers["Host"] == f"hooks.acme.test:{_port(url)}"  # the name, not the address it went to
    assert verify(hook.secret, headers[SIGNATURE_HEADER], body)


def test_the_pinned_address_rules_cover_mapped_numeric_and_unresolvable_hosts() -> None:
    sender = HttpWebhookSender()
    for target in (
        "http://[::1]:9/x",
        "http://[::ffff:127.0.0.1]:9/x",
        "http://2130706433:9/x",  # 127.0.0.1 as one number
        "http://0.0.0.0:9/x",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/x",
    ):
        code, why = sender.post(target, b"{}", {})
        assert code is None and "non-public" in why, target
    code, why = HttpWebhookSender(resolver=FlippingResolver([])).post("http://nowhere.test/x", b"{}", {})
    assert code is None and "cannot resolve" in why


TLS = Path(__file__).parent / "webhook_tls"


@pytest.fixture
def tls_receiver() -> Iterator[tuple[Receiver, list[str | None], int]]:
    """An https receiver on 127.0.0.1 whose certificate names hooks.acme.test only, recording the SNI."""
    state, names = Receiver(), []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.got.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS / "hook.pem", TLS / "hook.key")
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment]
    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, names, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_an_https_delivery_pinned_to_the_address_verifies_the_certificate_of_the_name(
    tls_receiver: tuple[Receiver, list[str | None], int],
) -> None:
    state, names, port = tls_receiver
    trust = ssl.create_default_context(cafile=str(TLS / "ca.pem"))
    dns = FlippingResolver(["127.0.0.1"])
    sender = HttpWebhookSender(allow_private=True, resolver=dns, verify=trust)
    code, why = sender.post(
        f"https://hooks.acme.test:{port}/hook", b"{}", {"Content-Type": "application/json"}
    )
    assert (code, why) == (204, "")
    assert names == ["hooks.acme.test"]  # SNI is the name, though the connection went to 127.0.0.1
    assert state.got[-1][0]["Host"] == f"hooks.acme.test:{port}"
    # the certificate names hooks.acme.test only: a name it does not carry fails verification
    other = HttpWebhookSender(allow_private=True, resolver=FlippingResolver(["127.0.0.1"]), verify=trust)
    code, why = other.post(f"https://other.acme.test:{port}/hook", b"{}", {})
    assert code is None and "CERTIFICATE_VERIFY_FAILED" in why
