"""The only place that touches httpx2: wire requests out, wire responses in, and the two drivers.

A driver runs one engine generator (:mod:`imgsdk.engine`) to completion: it performs each ``Send`` with the
httpx2 client (or the adapter's in-process ``serve`` for offline adapters) and each ``Sleep`` with the
injected sleep function. Credentials are logged never: only method, host and path are.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar

from .adapter import Adapter, WireRequest, WireResponse
from .engine import Send, Sleep, TransportFailure

if TYPE_CHECKING:
    import httpx2

__all__ = ["drive_async", "drive_sync", "to_httpx", "to_wire"]

log = logging.getLogger("imgsdk.http")
T = TypeVar("T")


def to_httpx(client: httpx2.Client | httpx2.AsyncClient, request: WireRequest,
             timeout: float | None = None) -> httpx2.Request:
    """Build the httpx2 request for a wire request; ``timeout`` (the time left before the call's deadline)
    caps the client's connect/read/write/pool timeouts for this one request."""
    kwargs: dict[str, Any] = {"headers": request.headers, "params": request.params or None}
    if timeout is not None:
        import httpx2

        configured = client.timeout
        kwargs["timeout"] = httpx2.Timeout(
            connect=min(timeout, configured.connect or timeout), read=min(timeout, configured.read or timeout),
            write=min(timeout, configured.write or timeout), pool=min(timeout, configured.pool or timeout))
    if request.json is not None:
        kwargs["json"] = request.json
    elif request.form is not None or request.files:
        kwargs["data"] = request.form or {}
        files: dict[str, Any] = dict(request.files or {})
        if request.multipart and not files:
            # httpx2 only switches to multipart when a file part exists: an empty-named dummy would change
            # the body, so build the multipart body ourselves via the files API with no file parts.
            files = {name: (None, value) for name, value in (request.form or {}).items()}
            kwargs.pop("data")
        kwargs["files"] = files
    elif request.content is not None:
        kwargs["content"] = request.content
    return client.build_request(request.method, request.url, **kwargs)


def to_wire(response: httpx2.Response, url: str) -> WireResponse:
    headers = {key.lower(): value for key, value in response.headers.items()}
    return WireResponse(status=response.status_code, headers=headers, content=response.content, url=url)


def _failure(error: Exception) -> TransportFailure:
    import httpx2

    connected = not isinstance(error, httpx2.ConnectError | httpx2.ConnectTimeout)
    return TransportFailure(error, connected, timeout=isinstance(error, httpx2.TimeoutException))


def _log(action: Send) -> None:
    if log.isEnabledFor(logging.DEBUG):
        from urllib.parse import urlsplit

        parts = urlsplit(action.request.url)
        log.debug("%s %s %s://%s%s", action.purpose, action.request.method, parts.scheme, parts.netloc, parts.path)


def drive_sync(operation: Generator[Send | Sleep, Any, T], adapter: Adapter | None,
               client: Callable[[], httpx2.Client], sleep: Callable[[float], None]) -> T:
    """Run an engine operation with blocking I/O."""
    reply: Any = None
    while True:
        try:
            action = operation.send(reply)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if isinstance(action, Sleep):
            sleep(action.seconds)
            reply = None
            continue
        _log(action)
        served = adapter.serve(action.request) if adapter is not None else None
        if served is not None:
            reply = served
            continue
        import httpx2  # only here: offline adapters never pay for importing the HTTP stack

        http = client()
        try:
            reply = to_wire(http.send(to_httpx(http, action.request, action.timeout)), action.request.url)
        except httpx2.TransportError as error:
            reply = _failure(error)


async def drive_async(operation: Generator[Send | Sleep, Any, T], adapter: Adapter | None,
                      client: Callable[[], httpx2.AsyncClient], sleep: Callable[[float], Awaitable[None]]) -> T:
    """Run an engine operation with asyncio I/O (the same generator as :func:`drive_sync`)."""
    reply: Any = None
    while True:
        try:
            action = operation.send(reply)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        if isinstance(action, Sleep):
            await sleep(action.seconds)
            reply = None
            continue
        _log(action)
        served = adapter.serve(action.request) if adapter is not None else None
        if served is not None:
            reply = served
            continue
        import httpx2

        http = client()
        try:
            response = await http.send(to_httpx(http, action.request, action.timeout))
            reply = to_wire(response, action.request.url)
        except httpx2.TransportError as error:
            reply = _failure(error)
