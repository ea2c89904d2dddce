"""The network guard: in a test, a request nobody recorded fails at once, saying which request it was.

:class:`GuardTransport` (and :class:`AsyncGuardTransport`) is the httpx2 transport of the clients the pytest
plugin hands out. It behaves like the normal transport while a vcrpy cassette is active (vcrpy answers from the
cassette), and:

- when the cassette has no answer for a request, raises :class:`UnrecordedRequestError` naming the method, the
  URL (secrets redacted), the cassette, and what differed from the closest recorded request;
- when no cassette is active at all, refuses to open a connection and raises :class:`UnrecordedRequestError`
  too, instead of sending the request (and a real key, and money) to the provider.

It is an ``AssertionError``, not an imgsdk error: a test that catches ``ImgSDKError`` must not swallow it, and no
retry loop may treat it as a transient failure.
"""

from __future__ import annotations

from typing import Any

import httpx2

from .scrub import redact_url

__all__ = ["AsyncGuardTransport", "GuardTransport", "UnrecordedRequestError", "cassette_active"]

_HOW_TO_RECORD = ("To record it: run pytest --record-mode=once with the provider's key in the environment, then "
                  "imgsdk cassettes check before committing (see docs/testing.md)")


class UnrecordedRequestError(AssertionError):
    """A test tried to send a request that no cassette answers. ``method`` and ``url`` say which."""

    def __init__(self, message: str, *, method: str, url: str) -> None:
        super().__init__(message)
        self.method = method
        self.url = url


def cassette_active(asynchronous: bool = False) -> bool:
    """Whether vcrpy is intercepting httpx2 right now (a cassette is in use).

    vcrpy replaces the transports' send methods while a cassette is active and keeps the originals in
    ``vcr.patch``; when it cannot be told (another vcrpy layout), the answer is True: vcrpy decides.
    """
    try:
        from vcr import patch
    except ImportError:
        return False
    if asynchronous:
        original = getattr(patch, "_Httpx2AsyncHttpTransport_handle_async_request", None)
        current: Any = httpx2.AsyncHTTPTransport.handle_async_request
    else:
        original = getattr(patch, "_Httpx2HttpTransport_handle_request", None)
        current = httpx2.HTTPTransport.handle_request
    return original is None or current is not original


def _blocked(request: httpx2.Request) -> UnrecordedRequestError:
    url = redact_url(str(request.url))
    return UnrecordedRequestError(
        f"imgsdk.testing blocked a real network request: {request.method} {url}. No cassette is active: mark the "
        "test with @pytest.mark.vcr (pytest-recording) or wrap the call in imgsdk.testing.use_cassette(...). "
        + _HOW_TO_RECORD, method=request.method, url=url)


def _unrecorded(request: httpx2.Request, error: Exception) -> UnrecordedRequestError:
    """Rephrase vcrpy's CannotOverwriteExistingCassetteException: the request first, then why."""
    url = redact_url(str(request.url))
    cassette = getattr(error, "cassette", None)
    where = getattr(cassette, "_path", None) or "the cassette"
    mode = getattr(getattr(cassette, "record_mode", None), "value", getattr(cassette, "record_mode", "none"))
    reasons = {"cassette_not_found": "the cassette file does not exist",
               "already_played": "its recorded answer was already played (the request was sent once more than "
                                 "when it was recorded)",
               "nothing_similar": "nothing similar was recorded",
               "no_match": "the closest recorded request differs"}
    reason = reasons.get(str(getattr(error, "reason", "")), "no recorded request matches")
    details = []
    for similar, _succeeded, failed in (getattr(error, "similar_requests", None) or [])[:1]:
        details.append(f"closest: {similar.method} {redact_url(similar.uri)}")
        details.extend(f"{name}: {message}" if message else f"{name} differs" for name, message in failed)
    detail = (" — " + "; ".join(details)) if details else ""
    return UnrecordedRequestError(
        f"imgsdk.testing: no recorded answer for {request.method} {url} in {where} (record mode {mode!r}): "
        f"{reason}{detail}. {_HOW_TO_RECORD}", method=request.method, url=url)


def _is_vcr_refusal(error: Exception) -> bool:
    return type(error).__name__ in ("CannotOverwriteExistingCassetteException", "MissingMetadataError")


class GuardTransport(httpx2.BaseTransport):
    """httpx2 transport: vcrpy answers while a cassette is active; every other request fails loudly."""

    def __init__(self) -> None:
        self._inner: httpx2.HTTPTransport | None = None

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if not cassette_active():
            raise _blocked(request)
        if self._inner is None:
            self._inner = httpx2.HTTPTransport()
        try:
            return self._inner.handle_request(request)
        except Exception as error:
            if _is_vcr_refusal(error):
                raise _unrecorded(request, error) from error
            raise

    def close(self) -> None:
        if self._inner is not None:
            self._inner.close()


class AsyncGuardTransport(httpx2.AsyncBaseTransport):
    """The asyncio twin of :class:`GuardTransport`."""

    def __init__(self) -> None:
        self._inner: httpx2.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if not cassette_active(asynchronous=True):
            raise _blocked(request)
        if self._inner is None:
            self._inner = httpx2.AsyncHTTPTransport()
        try:
            return await self._inner.handle_async_request(request)
        except Exception as error:
            if _is_vcr_refusal(error):
                raise _unrecorded(request, error) from error
            raise

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()
