"""Helpers for the delivery tests: real loopback HTTP servers, a transport that records every request it makes,
and small image bytes. Servers bind 127.0.0.1 on an ephemeral port and are stopped by their context manager."""

from __future__ import annotations

import email.parser
import email.policy
import io
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2

Reply = tuple[int, dict[str, str], bytes]


def png_bytes(width: int = 8, height: int = 8, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes(width: int = 8, height: int = 8) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 10)).save(out, format="JPEG")
    return out.getvalue()


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Loopback:
    """A real HTTP server on 127.0.0.1: ``routes[path](seen) -> (status, headers, body)``."""

    routes: dict[str, Callable[[Seen], Reply]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    tls: ssl.SSLContext | None = None  # serve https with this server context
    keep_alive: bool = False  # HTTP/1.1 persistent connections (default: HTTP/1.0, one request per connection)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def __enter__(self) -> Loopback:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if self.keep_alive else "HTTP/1.0"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                owner.seen.append(seen)
                route = owner.routes.get(path)
                status, headers, content = route(seen) if route else (404, {}, b"not found")
                self.send_response(status)
                for name, value in headers.items():
                    if value != "":  # an empty value means "do not send it" (no length: the body ends at close)
                        self.send_header(name, value)
                if "content-length" not in {name.lower() for name in headers}:
                    self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def count(self, path: str) -> int:
        return sum(1 for seen in self.seen if seen.path.split("?")[0] == path)


class RecordingTransport(httpx2.BaseTransport):
    """A real network transport that records the URL of every request before it is sent."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self._inner = httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self.urls.append(str(request.url))
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class AsyncRecordingTransport(httpx2.AsyncBaseTransport):
    def __init__(self) -> None:
        self.urls: list[str] = []
        self._inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self.urls.append(str(request.url))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def multipart_fields(request: httpx2.Request) -> dict[str, str]:
    """The text fields of a multipart/form-data request, as a dict."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.read())
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        fields[str(name)] = part.get_payload(decode=True).decode()
    return fields


def no_sleep(seconds: float) -> None:
    return None


async def no_sleep_async(seconds: float) -> None:
    return None
