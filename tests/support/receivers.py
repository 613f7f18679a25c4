"""Real HTTP receivers on 127.0.0.1 standing in for a unit's webhook and the work-chat platforms: they answer
what a script says (status, JSON body, headers) and keep every request as it arrived (raw body bytes)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.target).query).items()}

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """``answers``: what to answer, in order, the last one repeated: ``(status, body, headers)``."""

    answers: list[tuple[int, Any, dict[str, str]]] = field(
        default_factory=lambda: [(200, {"errcode": 0}, {})]
    )
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: asyncio.base_events.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in lines[1:] if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.received.append(Received(method, target, headers, body))
            status, answer, extra = self.answers[min(len(self.received) - 1, len(self.answers) - 1)]
            payload = json.dumps(answer).encode() if not isinstance(answer, bytes) else answer
            reply = [
                f"HTTP/1.1 {status} X",
                "content-type: application/json",
                f"content-length: {len(payload)}",
                "connection: close",
                *(f"{k}: {v}" for k, v in extra.items()),
            ]
            writer.write(("\r\n".join(reply) + "\r\n\r\n").encode() + payload)
            await writer.drain()
        finally:
            writer.close()

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
