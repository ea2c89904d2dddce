"""The HTTP layer (with :mod:`imgsdk.streaming`, its download drivers, the only code that touches httpx2):
wire requests out, wire responses in, and the two drivers.

A driver runs one engine generator (:mod:`imgsdk.engine`) to completion: it performs each ``Send`` with the
httpx2 client (or the adapter's in-process ``serve`` for offline adapters) and each ``Sleep`` with the
injected sleep function. Credentials are logged never: only method, host and path are. The async driver runs
``serve`` in a worker thread: the offline renderer takes tens of milliseconds of CPU, which must not stall
the event loop (and every other provider's calls on it).
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar

from .adapter import Adapter, WireRequest, WireResponse
from .engine import Send, Sleep, TransportFailure

if TYPE_CHECKING:
    import httpx2

    from .ratelimit import Pacer

__all__ = ["drive_async", "drive_sync", "to_httpx", "to_wire"]

log = logging.getLogger("imgsdk.http")
T = TypeVar("T")
_CAP_SLACK = 1.0  # seconds: a deadline cap closer than this to the configured timeouts is not worth setting
_NO_DEADLINE = float("inf")  # timeout=math.inf: no deadline, the client's own timeouts apply
_PRESIZE_FROM = 1 << 20  # bytes: a body this big is read into one buffer of its announced size


def _parsed_url(url: str) -> httpx2.URL | str:
    """``url`` parsed once: httpx2 parses a URL string in Python on every request (about 13 µs, a third of
    building a request), and a client posts to the same few endpoint URLs again and again. ``httpx2.URL`` is
    immutable, so one parsed object serves every request to it. A URL with a query string (a signed image
    URL, a job's poll URL) is used once: it is left to httpx2, and not kept in memory after its request."""
    return url if "?" in url else _parsed_endpoint(url)


@functools.lru_cache(maxsize=256)
def _parsed_endpoint(url: str) -> httpx2.URL:
    import httpx2

    return httpx2.URL(url)


def to_httpx(client: httpx2.Client | httpx2.AsyncClient, request: WireRequest,
             timeout: float | None = None, *, extend: bool = False) -> httpx2.Request:
    """Build the httpx2 request for a wire request; ``timeout`` (the time left before the call's deadline)
    caps the client's connect/read/write/pool timeouts for this one request. With ``extend`` (imgsdk's own
    httpx2 client, whose timeouts are only its defaults) a shorter configured read/write/pool timeout is raised
    to the time left too: a call's own ``timeout`` (``with_options(timeout=...)``, ``generate(timeout=...)``)
    then governs each of its requests. A client the user passed in keeps its own timeouts as caps.

    A per-request timeout costs httpx2 about 10 µs a request, so it is set only where it changes something:
    when some configured timeout is unset or more than :data:`_CAP_SLACK` seconds away from the time left (the
    first attempt of a call, with 599.99 s left of a 600 s deadline, keeps the client's own timeouts).
    """
    kwargs: dict[str, Any] = {"headers": request.headers, "params": request.params or None}
    if timeout == _NO_DEADLINE:  # no deadline: only the client's connect timeout, or all of its own
        configured = client.timeout
        if extend and (configured.read, configured.write, configured.pool) != (None, None, None):
            import httpx2

            kwargs["timeout"] = httpx2.Timeout(None, connect=configured.connect)
    elif timeout is not None:
        configured = client.timeout
        phases = (configured.connect, configured.read, configured.write, configured.pool)
        longer = extend and any(phase is not None and phase < timeout - _CAP_SLACK for phase in phases[1:])
        if longer or any(not phase or phase > timeout + _CAP_SLACK for phase in phases):
            import httpx2

            def bounded(phase: float | None) -> float:
                return timeout if extend or not phase else min(timeout, phase)

            kwargs["timeout"] = httpx2.Timeout(
                connect=min(timeout, configured.connect or timeout), read=bounded(configured.read),
                write=bounded(configured.write), pool=bounded(configured.pool))
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
    return client.build_request(request.method, _parsed_url(request.url), **kwargs)


def _header_dict(headers: httpx2.Headers) -> dict[str, str]:
    """The headers as a plain dict with lower-case keys, repeated headers joined with ``", "`` (as httpx2's
    ``items()`` does), read in one pass: httpx2 re-encodes and re-scans its list on every lookup."""
    out: dict[str, str] = {}
    try:
        for key, value in headers.raw:
            name, text = key.decode("ascii").lower(), value.decode("ascii")
            out[name] = f"{out[name]}, {text}" if name in out else text
    except UnicodeDecodeError:  # a non-ASCII value: httpx2 knows which encoding it is in
        return dict(headers.items())
    return out


def to_wire(response: httpx2.Response, url: str, content: bytes | None = None) -> WireResponse:
    return WireResponse(status=response.status_code, headers=_header_dict(response.headers),
                        content=response.content if content is None else content, url=url)


def _presized(response: httpx2.Response, headers: dict[str, str]) -> io.BytesIO | None:
    """A buffer of the announced size for a big body, or None to let httpx2 read it (small, or compressed).

    httpx2 reads a body as a list of chunks, then joins them: at the peak it holds the body twice, 10.6 MiB
    for one 4 MiB image as base64. A body of :data:`_PRESIZE_FROM` bytes or more with a ``Content-Length``
    and no content coding is written chunk by chunk into one buffer of that size instead; ``getvalue()``
    then hands the buffer itself over, without a copy. (A recorder such as vcrpy may have read the body
    already: then it is taken as read.)
    """
    length = headers.get("content-length", "")
    if not length.isdigit() or int(length) < _PRESIZE_FROM or response.is_stream_consumed or \
            headers.get("content-encoding", "identity").lower() != "identity":
        return None
    buffer = io.BytesIO()
    buffer.seek(int(length) - 1)
    buffer.write(b"\0")  # one allocation of the final size
    buffer.seek(0)
    return buffer


def _filled(buffer: io.BytesIO) -> bytes:
    buffer.truncate(buffer.tell())  # a body shorter than announced (h11 refuses longer ones)
    return buffer.getvalue()


def _receive(http: httpx2.Client, request: httpx2.Request, url: str) -> WireResponse:
    response = http.send(request, stream=True)
    try:
        headers = _header_dict(response.headers)
        buffer = _presized(response, headers)
        if buffer is None:
            content = response.read()
        else:
            for chunk in response.iter_raw():
                buffer.write(chunk)
            content = _filled(buffer)
        return WireResponse(status=response.status_code, headers=headers, content=content, url=url)
    finally:
        response.close()


async def _areceive(http: httpx2.AsyncClient, request: httpx2.Request, url: str) -> WireResponse:
    response = await http.send(request, stream=True)
    try:
        headers = _header_dict(response.headers)
        buffer = _presized(response, headers)
        if buffer is None:
            content = await response.aread()
        else:
            async for chunk in response.aiter_raw():
                buffer.write(chunk)
            content = _filled(buffer)
        return WireResponse(status=response.status_code, headers=headers, content=content, url=url)
    finally:
        await response.aclose()


def _serves(adapter: Adapter | None) -> bool:
    """Whether the adapter answers in-process (overrides ``serve``): only those are worth a thread."""
    return adapter is not None and type(adapter).serve is not Adapter.serve


def _failure(error: Exception) -> TransportFailure:
    import httpx2

    connected = not isinstance(error, httpx2.ConnectError | httpx2.ConnectTimeout)
    return TransportFailure(error, connected, timeout=isinstance(error, httpx2.TimeoutException))


def _transport_failure(error: Exception) -> TransportFailure:
    """What the engine gets back for an httpx2 transport error; any other error is raised as it is (httpx2 is
    imported only where a request is sent, so the drivers catch broadly and sort here)."""
    import httpx2

    if not isinstance(error, httpx2.TransportError):
        raise error
    return _failure(error)


def _log(action: Send) -> None:
    if log.isEnabledFor(logging.DEBUG):
        from urllib.parse import urlsplit

        parts = urlsplit(action.request.url)
        log.debug("%s %s %s://%s%s", action.purpose, action.request.method, parts.scheme, parts.netloc, parts.path)


def _paced(pacer: Pacer, ticket: int | None, reply: Any) -> int | None:
    """Tell the profile's pacer about an answer: a 429 keeps (or takes) the call's place in its queue of
    refused calls; any other answer takes the call out of it."""
    if isinstance(reply, WireResponse) and reply.status == 429:
        return pacer.refused(ticket)
    if ticket is not None:
        pacer.done(ticket)
    return None


def drive_sync(operation: Generator[Send | Sleep, Any, T], adapter: Adapter | None,
               client: Callable[[], httpx2.Client], sleep: Callable[[float], None],
               pacer: Pacer | None = None, *, extend: bool = False) -> T:
    """Run an engine operation with blocking I/O.

    ``pacer``: the profile's :class:`~imgsdk.ratelimit.Pacer` (when it has no bucket): it is told of every
    answer, and lengthens the wait before the retry of a refused call by the call's place among the
    refused ones, so they retry oldest first.
    """
    serves = _serves(adapter)
    debug = log.isEnabledFor(logging.DEBUG)
    reply: Any = None
    ticket: int | None = None  # this call's place in the pacer's queue, after a 429
    try:
        while True:
            try:
                action = operation.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            if isinstance(action, Sleep):
                sleep(action.seconds if pacer is None or ticket is None else pacer.wait(ticket, action.seconds))
                reply = None
                continue
            if debug:
                _log(action)
            request = action.request
            reply = adapter.serve(request) if serves and adapter is not None else None
            if reply is None:
                http = client()
                try:
                    reply = _receive(http, to_httpx(http, request, action.timeout, extend=extend), request.url)
                except Exception as error:
                    reply = _transport_failure(error)
            if pacer is not None:
                ticket = _paced(pacer, ticket, reply)
    finally:
        if pacer is not None and ticket is not None:
            pacer.done(ticket)


async def drive_async(operation: Generator[Send | Sleep, Any, T], adapter: Adapter | None,
                      client: Callable[[], httpx2.AsyncClient], sleep: Callable[[float], Awaitable[None]],
                      pacer: Pacer | None = None, *, extend: bool = False) -> T:
    """Run an engine operation with asyncio I/O (the same generator and pacer as :func:`drive_sync`).
    An offline adapter's ``serve`` runs in a worker thread, off the event loop."""
    serves = _serves(adapter)
    debug = log.isEnabledFor(logging.DEBUG)
    reply: Any = None
    ticket: int | None = None
    try:
        while True:
            try:
                action = operation.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            if isinstance(action, Sleep):
                await sleep(action.seconds if pacer is None or ticket is None else pacer.wait(ticket, action.seconds))
                reply = None
                continue
            if debug:
                _log(action)
            request = action.request
            reply = await asyncio.to_thread(adapter.serve, request) if serves and adapter is not None else None
            if reply is None:
                http = client()
                try:
                    reply = await _areceive(http, to_httpx(http, request, action.timeout, extend=extend),
                                            request.url)
                except Exception as error:
                    reply = _transport_failure(error)
            if pacer is not None:
                ticket = _paced(pacer, ticket, reply)
    finally:
        if pacer is not None and ticket is not None:
            pacer.done(ticket)
