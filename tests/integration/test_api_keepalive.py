"""An error answer never costs the client its keep-alive connection: after a 500 (a bug) or a 503 (the
database out of reach) the next request on the same connection is answered, not reset."""

from __future__ import annotations

import http.client
import json
from types import SimpleNamespace

import pytest

from neocloud.api.app import create_app
from neocloud.kernel.errors import Unavailable
from tests.integration.api_world import LiveServer


class _Failing:
    """A tenancy service whose token lookup (and auth-epoch read) fails with `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def authenticate(self, secret: str) -> None:
        raise self.error

    def auth_epoch(self) -> int:
        raise self.error

    def now(self) -> None:
        raise self.error


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (RuntimeError("a bug"), 500, "internal"),
        (Unavailable("the database is unavailable"), 503, "unavailable"),
    ],
)
def test_the_next_request_on_the_connection_is_answered_after_an_error(
    error: Exception, status: int, code: str
) -> None:
    app = create_app(SimpleNamespace(control=SimpleNamespace(tenancy=_Failing(error))))
    with LiveServer(app) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        answers, sockets = [], []
        for _ in range(3):
            conn.request("GET", "/v1/reservations", headers={"Authorization": "Bearer nc_x"})
            r = conn.getresponse()
            answers.append((r.status, json.loads(r.read())["error"], r.getheader("Retry-After")))
            sockets.append(conn.sock)
        conn.close()
    assert [(s, c) for s, c, _ in answers] == [(status, code)] * 3
    assert all(retry for _, _, retry in answers) if status == 503 else True
    assert sockets[0] is not None and all(s is sockets[0] for s in sockets)
