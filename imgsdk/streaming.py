"""The drivers of :func:`imgsdk.download.download`: httpx2 streaming, blocking or asyncio.

They perform the download generator's actions — resolve a host, open a response without reading its body,
read the next chunk, close, sleep — so the download rules exist once, in :mod:`imgsdk.download`. (They are
the streaming siblings of :mod:`imgsdk.transport`'s drivers, which read whole bodies; the two modules together
are the HTTP layer, split only to keep each under the size limit.) Every response opened is closed when the
download ends, however it ends.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .download import Close, Head, Open, Read, Resolve, Resolver
from .engine import Sleep, TransportFailure

if TYPE_CHECKING:
    import httpx2

__all__ = ["CHUNK_SIZE", "drive_async", "drive_sync"]

T = TypeVar("T")
CHUNK_SIZE = 64 * 1024  # bytes read at a time


def _addresses(infos: Sequence[Any]) -> list[str]:
    """The addresses of getaddrinfo's answer, once each, in its order (the system's preference: the first one is
    the one connected to)."""
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _request(http: httpx2.Client | httpx2.AsyncClient, action: Open,
             address: str | None) -> tuple[httpx2.Request, bool]:
    """The httpx2 request for ``action``, pinned to ``address`` (one the download checked) where it can be;
    and whether it was.

    The URL's host becomes the address, so the connection goes where the check looked, and no second lookup
    can send it elsewhere (DNS rebinding). The ``Host`` header keeps the name (httpx2 set it from the URL
    before the swap), and for https the ``sni_hostname`` extension makes httpcore2 send the name as SNI and
    verify the certificate against it, as without the pin. ``Connection: close`` keeps the connection out of
    the pool: the pool knows connections by address, so another name on the same address would otherwise
    reuse one whose certificate was checked for this name only.

    Not pinned when a proxy or a mounted transport routes the URL (``HTTPS_PROXY``, ``mounts=``): they choose
    by host name (``NO_PROXY``, allow-lists), and a proxy resolves the name itself. Nor when httpx2 does not
    let us see its routing (it is a private method): then the URL goes as it is, as before pinning.
    """
    from .transport import to_httpx

    request = to_httpx(http, action.request)
    if address is None or "%" in address:  # an IPv6 zone (allowed private only) is left unpinned
        return request, False
    pinned = request.url.copy_with(host=address)
    routing = getattr(http, "_transport_for_url", None)
    direct = getattr(http, "_transport", None)
    if routing is None or direct is None or routing(request.url) is not direct or routing(pinned) is not direct:
        return request, False
    host = request.url.raw_host.decode("ascii")  # the IDNA form (xn--...), as it goes in SNI and Host
    request.url = pinned
    request.headers["connection"] = "close"
    if pinned.scheme == "https":
        request.extensions = {**request.extensions, "sni_hostname": host}
    return request, True


def drive_sync(operation: Generator[Any, Any, T], client: Callable[[], httpx2.Client],
               sleep: Callable[[float], None], resolver: Resolver | None = None) -> T:
    """Run a download with blocking I/O (httpx2 streaming); every response opened is closed at the end."""
    import httpx2

    from .transport import _failure

    opened: list[httpx2.Response] = []
    reply: Any = None
    try:
        while True:
            try:
                action = operation.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            reply = None
            if isinstance(action, Sleep):
                sleep(action.seconds)
            elif isinstance(action, Resolve):
                try:
                    reply = (list(resolver(action.host, action.port)) if resolver else
                             _addresses(socket.getaddrinfo(action.host, action.port, type=socket.SOCK_STREAM)))
                except OSError:
                    reply = []
            elif isinstance(action, Open):
                http = client()
                response = None
                for address in action.addresses or (None,):
                    request, pinned = _request(http, action, address)
                    try:
                        response = http.send(request, stream=True)
                        break
                    except httpx2.TransportError as error:
                        reply = _failure(error)
                        if not pinned or reply.connected:  # only an unmade pinned connection tries the next
                            break
                if response is None:
                    continue
                opened.append(response)
                headers = {key.lower(): value for key, value in response.headers.items()}
                reply = Head(response.status_code, headers, response, response.iter_bytes(CHUNK_SIZE))
            elif isinstance(action, Read):
                try:
                    reply = next(action.head.chunks, b"")
                except httpx2.RequestError as error:
                    reply = TransportFailure(error, connected=True)
            elif isinstance(action, Close):
                action.head.stream.close()
    finally:
        for response in opened:
            response.close()


async def drive_async(operation: Generator[Any, Any, T], client: Callable[[], httpx2.AsyncClient],
                      sleep: Callable[[float], Awaitable[None]], resolver: Resolver | None = None) -> T:
    """Run a download with asyncio I/O: the same generator as :func:`drive_sync`."""
    import asyncio

    import httpx2

    from .transport import _failure

    opened: list[httpx2.Response] = []
    reply: Any = None
    try:
        while True:
            try:
                action = operation.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            reply = None
            if isinstance(action, Sleep):
                await sleep(action.seconds)
            elif isinstance(action, Resolve):
                try:
                    reply = (list(resolver(action.host, action.port)) if resolver else _addresses(
                        await asyncio.get_running_loop().getaddrinfo(action.host, action.port,
                                                                     type=socket.SOCK_STREAM)))
                except OSError:
                    reply = []
            elif isinstance(action, Open):
                http = client()
                response = None
                for address in action.addresses or (None,):
                    request, pinned = _request(http, action, address)
                    try:
                        response = await http.send(request, stream=True)
                        break
                    except httpx2.TransportError as error:
                        reply = _failure(error)
                        if not pinned or reply.connected:
                            break
                if response is None:
                    continue
                opened.append(response)
                headers = {key.lower(): value for key, value in response.headers.items()}
                reply = Head(response.status_code, headers, response, response.aiter_bytes(CHUNK_SIZE))
            elif isinstance(action, Read):
                try:
                    reply = await anext(action.head.chunks, b"")
                except httpx2.RequestError as error:
                    reply = TransportFailure(error, connected=True)
            elif isinstance(action, Close):
                await action.head.stream.aclose()
    finally:
        for response in opened:
            await response.aclose()
