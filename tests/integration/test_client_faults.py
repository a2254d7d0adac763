"""What the client tells its user when the server does not answer well (hardening #2: a 5xx or a slow
answer was reported as 'cannot reach … (unreachable)')."""

from __future__ import annotations

import httpx
import pytest

from neocloud.client import ApiError, NeocloudClient


def _client(handler, **kw) -> NeocloudClient:
    return NeocloudClient(
        "http://neocloud.test",
        "nc_x",
        http=httpx.Client(base_url="http://neocloud.test", transport=httpx.MockTransport(handler)),
        **kw,
    )


def test_a_server_error_is_reported_as_the_servers_error_not_unreachability() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            500, json={"error": "internal", "message": "internal error; the server logged it", "details": {}}
        )

    with pytest.raises(ApiError) as err:
        _client(handler).whoami()
    assert (err.value.status, err.value.code) == (500, "internal")
    assert "cannot reach" not in str(err.value)


def test_a_503_is_retried_after_the_servers_retry_after() -> None:
    answers = iter(
        [
            httpx.Response(
                503,
                headers={"Retry-After": "0"},
                json={"error": "unavailable", "message": "down", "details": {}},
            ),
            httpx.Response(200, json={"token_id": "tok_1", "role": "viewer", "tenant_id": None}),
        ]
    )
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return next(answers)

    who = _client(handler).whoami()
    assert who.role == "viewer" and seen == ["/v1/whoami", "/v1/whoami"]


def test_a_503_that_persists_is_reported_with_its_code() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            503, headers={"Retry-After": "0"}, json={"error": "busy", "message": "busy", "details": {}}
        )

    with pytest.raises(ApiError) as err:
        _client(handler, retries=1).whoami()
    assert (err.value.status, err.value.code) == (503, "busy")


def test_a_timeout_says_the_request_may_have_been_applied() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(ApiError) as err:
        _client(handler, retries=0).whoami()
    assert err.value.code == "timeout" and "may still have been applied" in err.value.message
