"""Request bodies are checked before anything parses them: a body over `limit` bytes is a 413 (by its
Content-Length, or while it streams in), and a JSON object with a key given twice is a 422 — two
parsers that keep different duplicates must never see different requests.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

DEFAULT_LIMIT = 1 << 20  # 1 MiB: the largest legitimate body (a fleet import goes through the CLI) is ~1 kB

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise DuplicateKey(key)
        out[key] = value
    return out


def duplicate_key(body: bytes) -> str | None:
    """The first key some JSON object in `body` repeats; None when there is none or it is not JSON
    (malformed JSON is left to the request parser, which says where it breaks)."""
    try:
        json.loads(body, object_pairs_hook=_refuse_duplicates)
    except DuplicateKey as dup:
        return dup.key
    except ValueError:
        return None
    return None


class BodyGuard:
    """ASGI middleware: size limit and duplicate JSON keys, answered with the API's error body."""

    def __init__(self, app: App, limit: int = DEFAULT_LIMIT) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self._error(send, 413, "payload-too-large", f"request body over {self.limit} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._error(send, 413, "payload-too-large", f"request body over {self.limit} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and "json" in headers.get("content-type", "") and (key := duplicate_key(body)) is not None:
            await self._error(send, 422, "invalid-input", f"duplicate JSON key {key!r}", {"field": key})
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _error(
        self, send: Send, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        payload = json.dumps(
            {"error": code, "message": message, "details": details or {"limit_bytes": self.limit}}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
