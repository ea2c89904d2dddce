"""Safe downloads of provider image URLs: checked, capped, streamed, retried — written once for sync and async.

A provider hands back a URL and imgsdk fetches it, so a URL is untrusted input: a hostile or compromised
endpoint could point it at ``http://169.254.169.254/`` (cloud metadata) or a service on the user's network.
The rules, each applied to the first URL *and to every redirect* (redirects are followed here, by hand):

- ``https`` only; ``http`` only for hosts the user allows (``allowed_hosts``), the profile's own API origin
  (a ComfyUI on ``http://127.0.0.1:8188``), or loopback when private addresses are allowed.
- The host is resolved and *every* address checked: loopback, private, link-local, multicast, reserved and
  unspecified addresses are refused unless allowed (``allow_private``, ``allowed_hosts``) — before any
  connection is made, so nothing is sent there. The connection then goes to an address that was checked (the
  next one when a connection cannot be made), not to a second lookup: a name that answers a public address to
  the check and a private one to the connection (DNS rebinding) still reaches only an address that was
  checked. TLS is verified against the host name (SNI and certificate), and the ``Host`` header is the URL's.
  (A host that does not resolve here is left to the transport, which resolves with the same resolver and fails
  the same way.)
- A size cap (``Content-Length`` and the bytes actually read), a content type that may be an image, and the
  magic bytes of a known image format.
- Credentials only for URLs under the profile's own ``base_url`` (``headers_for``); never to another origin.
- Retries (with the engine's backoff) on connection failures, 408, 429 and 5xx.
- 403/404/410 after the image's ``expires_at`` → :class:`~imgsdk.errors.ImageExpiredError` saying when.

The bytes go to a *sink* (a file opened by :mod:`imgsdk.storage`, or a ``BytesIO``), chunk by chunk, so a
large image is never held in memory on its way to disk. :func:`download` is a generator of actions like the
engine's; :mod:`imgsdk.streaming` performs them with httpx2 streaming, for sync and async.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import urljoin, urlsplit

from . import media
from .adapter import WireRequest
from .engine import RetrySettings, Sleep, TransportFailure, _backoff
from .errors import DownloadRefusedError, ImageExpiredError, ProviderError, ServiceUnavailableError

__all__ = ["Close", "DownloadPolicy", "DownloadRefusedError", "Downloaded", "Head", "Open", "Read", "Resolve",
           "check_url", "download", "origin", "shown"]

Resolver = Callable[[str, int], Sequence[str]]
_REDIRECTS = (301, 302, 303, 307, 308)
_TYPES_OK = ("application/octet-stream", "binary/octet-stream")
_SNIFF_BYTES = 32


@dataclass(frozen=True, slots=True)
class DownloadPolicy:
    """What a download may do.

    - ``allowed_hosts``: host names or IP literals trusted over http and on private addresses.
    - ``allow_private``: allow loopback/private/link-local addresses (and http to loopback) for every host.
    - ``trusted_origins``: ``scheme://host:port`` of the profiles' own API endpoints (configured by the user).
    - ``max_bytes``: the largest image accepted; ``max_redirects``: redirects followed at most.
    - ``resolver``: ``(host, port) -> addresses``; None uses the system resolver (tests inject one).
    """

    allowed_hosts: frozenset[str] = frozenset()
    allow_private: bool = False
    trusted_origins: frozenset[str] = frozenset()
    max_bytes: int = 64 * 1024 * 1024
    max_redirects: int = 5
    resolver: Resolver | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Downloaded:
    """What was written to the sink: ``size`` bytes of ``media_type``, from ``url`` (after redirects)."""

    media_type: str
    size: int
    url: str


@dataclass(frozen=True, slots=True)
class Resolve:
    """Action: the addresses of ``host`` (reply: a list of strings, empty when it does not resolve)."""

    host: str
    port: int


@dataclass(frozen=True, slots=True)
class Open:
    """Action: send ``request`` and return the response head, body unread (reply: Head | TransportFailure).

    ``addresses``: connect to these addresses (the ones :func:`check_url` checked), in order, instead of
    resolving the URL's host again; the driver goes on to the next when a connection to one cannot be made,
    as a transport's own connect does. Empty: the transport resolves the name (allowed hosts, trusted origins,
    IP literals).
    """

    request: WireRequest
    addresses: tuple[str, ...] = ()


@dataclass(slots=True)
class Head:
    """A response whose body is still to be read; ``stream`` is the driver's own object."""

    status: int
    headers: dict[str, str]
    stream: Any = None
    chunks: Any = None


@dataclass(frozen=True, slots=True)
class Read:
    """Action: the next chunk of ``head``'s body (reply: bytes, ``b""`` at the end, or TransportFailure)."""

    head: Head


@dataclass(frozen=True, slots=True)
class Close:
    """Action: release ``head``'s connection (a redirect, a refused body)."""

    head: Head


def origin(url: str) -> str:
    """``scheme://host:port`` with the default port filled in, for comparing origins."""
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower(), 0)
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


def shown(url: str) -> str:
    """A URL fit for a message: no query string (signed URLs carry signatures) and no user info."""
    parts = urlsplit(url)
    path = parts.path if len(parts.path) <= 60 else parts.path[:57] + "..."
    return f"{parts.scheme}://{parts.hostname or ''}{path}"


def _blocked(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return (mapped or ip).is_loopback


def check_url(url: str, policy: DownloadPolicy) -> Generator[Resolve, Sequence[str], Sequence[str]]:
    """Refuse ``url`` unless the policy allows it (resolving the host when its addresses matter); return the
    addresses the host name resolved to and that were checked (empty when nothing was resolved)."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    fix = ("add the host to allowed_hosts in the profile (or allow_private = true) if you trust it")
    if scheme not in ("https", "http") or not host:
        raise DownloadRefusedError(f"refused to download {shown(url)}: only https URLs are fetched")
    if host in policy.allowed_hosts or origin(url) in policy.trusted_origins:
        return ()
    resolved: Sequence[str] = ()
    try:
        addresses: Sequence[str] = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        addresses = resolved = yield Resolve(host, parts.port or (443 if scheme == "https" else 80))
    blocked = [address for address in addresses if _blocked(address)]
    if blocked and not policy.allow_private:
        raise DownloadRefusedError(
            f"refused to download {shown(url)}: {host} is at {blocked[0]}, a loopback, private or link-local "
            f"address (provider URLs must point at the public internet); {fix}")
    if scheme == "http" and not (policy.allow_private and addresses and all(map(_is_loopback, addresses))):
        raise DownloadRefusedError(f"refused to download {shown(url)}: plain http is not allowed (use https); {fix}")
    return resolved


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class _Transient:
    reason: str
    status: int | None = None


@contextmanager
def name_errors(adapter: str, model: str) -> Iterator[None]:
    """Name whose image it is on a download error (download() raises them without adapter and model)."""
    try:
        yield
    except ProviderError as error:
        if error.adapter is None:
            error.adapter, error.model = adapter, error.model or model
            error.args = (error._format(),)
        raise


def download(url: str, sink: BinaryIO, policy: DownloadPolicy, settings: RetrySettings, *,
             expires_at: dt.datetime | None = None, headers_for: Callable[[str], dict[str, str]] | None = None,
             now: Callable[[], dt.datetime] = _utcnow) -> Generator[Any, Any, Downloaded]:
    """Download ``url`` into ``sink`` under ``policy``; retry transient failures (the sink is rewound)."""
    attempt = 0
    while True:
        attempt += 1
        outcome = yield from _attempt(url, sink, policy, expires_at, headers_for, now, attempt)
        if isinstance(outcome, Downloaded):
            return outcome
        if attempt > settings.max_retries:
            raise ServiceUnavailableError(f"could not download the image from {shown(url)} ({outcome.reason}) "
                                          f"after {attempt} attempts", status=outcome.status)
        yield Sleep(_backoff(attempt, settings))


def _attempt(url: str, sink: BinaryIO, policy: DownloadPolicy, expires_at: dt.datetime | None,
             headers_for: Callable[[str], dict[str, str]] | None, now: Callable[[], dt.datetime],
             attempt: int = 1) -> Generator[Any, Any, Downloaded | _Transient]:
    """One try; attempt *k* starts at the *k*-th address checked (the driver goes on to the others)."""
    sink.seek(0)
    sink.truncate()
    current = url
    for _ in range(policy.max_redirects + 1):
        addresses = yield from check_url(current, policy)
        start = (attempt - 1) % len(addresses) if addresses else 0
        head = yield Open(WireRequest("GET", current, headers=dict(headers_for(current) if headers_for else {})),
                          addresses=tuple(addresses[start:]) + tuple(addresses[:start]))
        if isinstance(head, TransportFailure):
            return _Transient(f"{type(head.error).__name__}: {head.error}")
        location = head.headers.get("location")
        if head.status in _REDIRECTS and location:
            yield Close(head)
            current = urljoin(current, location)
            continue
        if head.status >= 400:
            yield Close(head)
            return _failed(head.status, current, expires_at, now, head.headers.get("x-request-id"))
        return (yield from _body(head, current, sink, policy))
    raise DownloadRefusedError(f"refused to download {shown(url)}: more than {policy.max_redirects} redirects")


def _failed(status: int, url: str, expires_at: dt.datetime | None, now: Callable[[], dt.datetime],
            request_id: str | None = None) -> _Transient:
    if status in (403, 404, 410) and expires_at is not None and now() >= expires_at:
        ago = int((now() - expires_at).total_seconds() // 60)
        raise ImageExpiredError(
            f"the image URL expired at {expires_at.isoformat()} ({ago} min ago; providers delete images after a "
            "while): save images as soon as they arrive (result.save() or persist_to)",
            expired_at=expires_at.isoformat(), status=status, request_id=request_id)
    if status in (408, 429) or status >= 500:
        return _Transient(f"HTTP {status}", status)
    raise ProviderError(f"could not download the image from {shown(url)}: HTTP {status}", status=status,
                        request_id=request_id)


def _body(head: Head, url: str, sink: BinaryIO, policy: DownloadPolicy) -> Generator[Any, Any, Downloaded | _Transient]:
    declared = head.headers.get("content-type", "").split(";")[0].strip().lower()
    if declared and not declared.startswith("image/") and declared not in _TYPES_OK:
        yield Close(head)
        raise DownloadRefusedError(f"refused {shown(url)}: it answered {declared!r}, not an image")
    length = head.headers.get("content-length", "")
    if length.isdigit() and int(length) > policy.max_bytes:
        yield Close(head)
        raise DownloadRefusedError(f"refused {shown(url)}: {int(length)} bytes is over the {policy.max_bytes}-byte "
                                   "cap (raise max_download_bytes in the profile if this is expected)")
    prefix, total, media_type = b"", 0, None
    while True:
        chunk = yield Read(head)
        if isinstance(chunk, TransportFailure):
            return _Transient(f"the connection broke after {total} bytes: {chunk.error}")
        total += len(chunk)
        if total > policy.max_bytes:
            yield Close(head)
            raise DownloadRefusedError(f"refused {shown(url)}: more than {policy.max_bytes} bytes (the cap; raise "
                                       "max_download_bytes in the profile if this is expected)")
        if media_type is None:
            prefix += chunk
            if len(prefix) < _SNIFF_BYTES and chunk:
                continue
            media_type = media.sniff_media_type(prefix)
            if media_type is None:
                yield Close(head)
                raise DownloadRefusedError(f"refused {shown(url)}: the bytes are not a known image format "
                                           f"(declared {declared or 'no content type'})")
            sink.write(prefix)
        elif chunk:
            sink.write(chunk)
        if not chunk:
            sink.flush()
            return Downloaded(media_type, total, url)
