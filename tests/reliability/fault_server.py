"""A loopback HTTP/1.1 server that misbehaves on cue, for the fault-injection tests.

Real sockets on 127.0.0.1 and an ephemeral port; one background thread runs an asyncio loop, so the same server
serves the sync client (blocking the test's thread) and the async client (on the test's own loop) alike, and
starting or stopping it is one call (the fixtures in ``conftest.py`` do it). Everything is bounded: a stalled
answer ends when the server stops (or after ``stall_cap`` seconds), requests larger than 8 MB are refused.

A test scripts what each route answers, in order; the last answer repeats::

    server.on("POST", "/v1/images/generations", Respond(503, json=ERROR), Respond(200, json=OK))
    server.on("GET", "/poll/*", Respond(200, json={"status": "Pending"}))   # "*" ends a prefix
    server.fallback(Respond(401, json=...))                                  # any other request

Answers (each one a small frozen dataclass):

- :class:`Respond`: status, headers, and a body (bytes, text, or ``json=``); any of them may be a callable
  taking the :class:`Recorded` request, so an answer can echo what it received (a key, an id).
- :class:`Reset`: read the request line and headers (and up to ``read_body`` bytes of the body), then reset
  the connection (``SO_LINGER`` 0: an RST, not a polite FIN).
- :class:`StallHeaders`: read the whole request, then send nothing.
- :class:`StallBody`: send the status line, the headers (``Content-Length`` of the whole body) and the first
  ``sent`` bytes of the body, then send nothing more.
- :class:`Truncate`: announce ``Content-Length`` of the whole body, send ``sent`` bytes, close.

Every answer carries ``x-request-id: req-<server name>-<n>`` (n counts requests from 1) and a ``Date`` header,
unless the script sets them. Every request is recorded (:attr:`FaultServer.requests`) before it is answered,
with its headers, so a test can count attempts and check which credentials reached which origin.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import io
import json
import socket
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = ["FaultServer", "Recorded", "Reset", "Respond", "StallBody", "StallHeaders", "Truncate", "b64png",
           "closed_port", "http_date", "png"]

_MAX_BODY = 8 * 1024 * 1024
_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 302: "Found", 307: "Temporary Redirect", 400: "Bad Request",
            401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found", 422: "Unprocessable",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout"}


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it. ``headers`` keys are lower-case."""

    number: int
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    connection: int

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Dynamic = Callable[[Recorded], Any]


@dataclass(frozen=True)
class Respond:
    """An ordinary answer. ``json`` (a value or a callable) wins over ``body``; ``content_type`` defaults to
    ``application/json`` for ``json`` and to nothing for ``body``."""

    status: int = 200
    json: Any = None
    body: bytes | str | Dynamic = b""
    headers: Mapping[str, str] | Dynamic = field(default_factory=dict)
    content_type: str | None = None


@dataclass(frozen=True)
class Reset:
    """Reset the connection after reading the headers and ``read_body`` bytes of the body (mid-request)."""

    read_body: int = 0


@dataclass(frozen=True)
class StallHeaders:
    """Read the request, then answer nothing (the client's read timeout must fire)."""


@dataclass(frozen=True)
class StallBody:
    """Send the headers and ``sent`` bytes of ``body`` (Content-Length: all of it), then nothing more."""

    body: bytes
    sent: int
    status: int = 200
    content_type: str = "application/json"


@dataclass(frozen=True)
class Truncate:
    """Announce ``Content-Length: len(body)``, send ``sent`` bytes, close the connection."""

    body: bytes
    sent: int
    status: int = 200
    content_type: str = "application/json"


Answer = Respond | Reset | StallHeaders | StallBody | Truncate


def http_date(timestamp: float | None = None) -> str:
    """An RFC 7231 date (``Sun, 29 Nov 2026 12:00:00 GMT``); now by default."""
    return email.utils.formatdate(timestamp, usegmt=True)


def png(width: int = 8, height: int = 8, colour: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    """A small valid PNG of the given size."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def b64png(width: int = 8, height: int = 8) -> str:
    return base64.b64encode(png(width, height)).decode("ascii")


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released): connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Route:
    def __init__(self, answers: tuple[Answer, ...]) -> None:
        if not answers:
            raise ValueError("a route needs at least one answer")
        self.answers = list(answers)
        self.served = 0

    def next(self) -> Answer:
        answer = self.answers[min(self.served, len(self.answers) - 1)]
        self.served += 1
        return answer


class FaultServer:
    """See the module docstring. Use as a context manager, or ``start()`` / ``stop()``."""

    def __init__(self, name: str = "a", *, stall_cap: float = 30.0) -> None:
        self.name = name
        self.stall_cap = stall_cap
        self.port = 0
        self._routes: dict[tuple[str, str], _Route] = {}
        self._fallback: _Route | None = None
        self._requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._connections = 0
        self._error: BaseException | None = None

    # -- scripting ------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def on(self, method: str, path: str, *answers: Answer) -> FaultServer:
        """Answer ``method path`` (a trailing ``*`` makes ``path`` a prefix) with ``answers`` in order; the
        last one repeats. Replaces an earlier script for the same route."""
        with self._lock:
            self._routes[(method.upper(), path)] = _Route(answers)
        return self

    def fallback(self, *answers: Answer) -> FaultServer:
        """Answer every request no route matches (default: a 404 naming the request)."""
        with self._lock:
            self._fallback = _Route(answers)
        return self

    def reset(self) -> None:
        """Forget the scripts and the recorded requests."""
        with self._lock:
            self._routes.clear()
            self._fallback = None
            self._requests.clear()

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Requests received, optionally only those of one method and/or path (``*`` suffix: a prefix)."""
        return sum(1 for r in self.requests if (method is None or r.method == method.upper())
                   and (path is None or _matches(path, r.path)))

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> FaultServer:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(ready,), name=f"fault-server-{self.name}",
                                        daemon=True)
        self._thread.start()
        if not ready.wait(10) or self._error is not None:
            raise RuntimeError(f"the fault server did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)
        if self._thread.is_alive():
            raise RuntimeError("the fault server thread did not stop within 10 s")
        self._loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, ready: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve(ready))
        except BaseException as error:  # surfaced by start()
            self._error = error
            ready.set()
        finally:
            # Drain anything the cancellations scheduled, then release the loop's resources.
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())

    async def _serve(self, ready: threading.Event) -> None:
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0, limit=_MAX_BODY)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await server.wait_closed()

    # -- serving ----------------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        with self._lock:
            self._connections += 1
            connection = self._connections
        try:
            while await self._one(reader, writer, connection):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass  # the client went away (it timed out, or was told to by a reset): nothing to answer
        except asyncio.CancelledError:
            pass  # the server is stopping: end quietly (asyncio's stream callback reports a cancelled handler)
        finally:
            with contextlib.suppress(Exception):
                writer.close()
            self._handlers.discard(task)

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, connection: int) -> bool:
        """Serve one request; False when the connection must end."""
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        parts = urlsplit(target)
        answer = self._answer_for(method, parts.path)
        if isinstance(answer, Reset):
            body = await reader.readexactly(min(answer.read_body, int(headers.get("content-length", 0))))
            self._record(method, parts, headers, body, connection)
            _reset(writer)
            return False
        body = await _read_body(reader, headers)
        request = self._record(method, parts, headers, body, connection)
        if isinstance(answer, StallHeaders):
            await self._stall()
            return False
        if isinstance(answer, StallBody | Truncate):
            head_bytes = _head(answer.status, {"content-type": answer.content_type}, len(answer.body), request,
                               self.name)
            writer.write(head_bytes + answer.body[:answer.sent])
            await writer.drain()
            if isinstance(answer, StallBody):
                await self._stall()
            return False
        status, out_headers, payload = _render(answer, request)
        writer.write(_head(status, out_headers, len(payload), request, self.name) + payload)
        await writer.drain()
        return headers.get("connection", "").lower() != "close"

    def _answer_for(self, method: str, path: str) -> Answer:
        with self._lock:
            route = self._routes.get((method.upper(), path))
            if route is None:
                candidates = [(len(p), r) for (m, p), r in self._routes.items()
                              if m == method.upper() and p.endswith("*") and path.startswith(p[:-1])]
                route = max(candidates, key=lambda c: c[0])[1] if candidates else self._fallback
            if route is None:
                return Respond(404, json={"error": {"message": f"fault server {self.name}: no route for "
                                                               f"{method} {path}", "code": "no_route"}})
            return route.next()

    def _record(self, method: str, parts: Any, headers: dict[str, str], body: bytes, connection: int) -> Recorded:
        with self._lock:
            request = Recorded(len(self._requests) + 1, method.upper(), parts.path, parts.query, dict(headers),
                               body, connection)
            self._requests.append(request)
        return request

    async def _stall(self) -> None:
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self.stall_cap)


def _matches(pattern: str, path: str) -> bool:
    return path.startswith(pattern[:-1]) if pattern.endswith("*") else path == pattern


async def _read_body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return b"".join(chunks)
            chunks.append(chunk[:-2])
    length = int(headers.get("content-length") or 0)
    if length > _MAX_BODY:
        raise ConnectionError("request body too large for the fault server")
    return await reader.readexactly(length) if length else b""


def _render(answer: Respond, request: Recorded) -> tuple[int, dict[str, str], bytes]:
    headers = dict(answer.headers(request) if callable(answer.headers) else answer.headers)
    content_type = answer.content_type
    if answer.json is not None:
        value = answer.json(request) if callable(answer.json) else answer.json
        payload = json.dumps(value).encode()
        content_type = content_type or "application/json"
    else:
        raw = answer.body(request) if callable(answer.body) else answer.body
        payload = raw.encode() if isinstance(raw, str) else bytes(raw)
    if content_type and not any(k.lower() == "content-type" for k in headers):
        headers["content-type"] = content_type
    return answer.status, headers, payload


def _head(status: int, headers: Mapping[str, str], length: int, request: Recorded, name: str) -> bytes:
    out = {k.lower(): v for k, v in headers.items()}
    out.setdefault("x-request-id", f"req-{name}-{request.number}")
    out.setdefault("date", http_date())
    out["content-length"] = str(length)
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"] + [f"{k}: {v}" for k, v in out.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
