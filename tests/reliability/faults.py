"""The fault rows of the failure → behaviour matrix, as executable data.

Each :class:`FaultRow` says what the loopback server does (``script``), which real adapter meets it, and the
documented outcome (:class:`Expect`): success after N requests, or a specific typed error whose message names
the adapter, the model, the HTTP status and the request id. ``test_faults.py`` runs every row for the sync and
the async client; ``matrix.py`` renders the same rows into ``docs/reliability.md``, so the two cannot drift.

A row whose outcome is the *correct* behaviour but not today's carries ``bug="<file>:<function>: <what>"``:
its test is a strict xfail until the fix lands (then it passes, the strict xfail fails, and the ``bug`` goes).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from imgsdk.errors import (
    ContentPolicyError,
    ImageExpiredError,
    ImgSDKError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServiceUnavailableError,
)
from reliability.fault_server import (
    FaultServer,
    Reset,
    Respond,
    StallBody,
    StallHeaders,
    Truncate,
    http_date,
)
from reliability.support import (
    BFL_PATH,
    OPENAI_PATH,
    REPLICATE_PATH,
    STABILITY_PATH,
    bfl_ready,
    bfl_submit,
    load,
    openai_error,
    openai_image,
    replicate_prediction,
    stability_image,
)

__all__ = ["FAULT_ROWS", "Expect", "FaultRow"]

Script = Callable[[FaultServer, FaultServer], None]


@dataclass(frozen=True)
class Expect:
    """The documented outcome of one fault.

    - ``error``: the exact typed error (None: the call succeeds).
    - ``requests``: requests the API server receives in total (submit, retries, polls, cancels, downloads).
    - ``status`` / ``request_id``: named in the error message (and set on the error) when the fault has them.
    - ``sleeps``: the exact waits asked for (a provider's Retry-After); ``backoffs``: how many jittered
      backoff waits (their length is tenacity's curve, not fixed).
    - ``retry_after`` / ``stage`` / ``code``: attributes of the error.
    - ``deadline``: the deadline the outcome must arrive within (default: the client's timeout).
    """

    error: type[ImgSDKError] | None = None
    requests: int = 1
    status: int | None = None
    request_id: str | None = None
    sleeps: tuple[float, ...] | None = None
    backoffs: int | None = None
    retry_after: float | None = None
    stage: str | None = None
    code: str | None = None
    deadline: float | None = None

    def describe(self) -> str:
        """The outcome in words, for the matrix."""
        attempts = f"{self.requests} request{'s' if self.requests != 1 else ''}"
        text = f"success after {attempts}" if self.error is None else f"`{self.error.__name__}` after {attempts}"
        waits = []
        if self.sleeps:
            waits.append("waits " + ", ".join(f"{s:g} s" for s in self.sleeps) + " as told")
        if self.backoffs:
            waits.append(f"{self.backoffs} backoff wait{'s' if self.backoffs != 1 else ''}")
        if self.sleeps == () and not self.backoffs:
            waits.append("no wait")
        details = [*waits]
        if self.retry_after is not None:
            details.append(f"retry_after={self.retry_after:g}")
        if self.stage:
            details.append(f"stage={self.stage}")
        if self.code:
            details.append(f"code={self.code}")
        if self.error is not None:
            named = ["adapter:model"] + (["HTTP status"] if self.status else []) + (
                ["request id"] if self.request_id else [])
            details.append("message names " + ", ".join(named))
        return text + (f" ({'; '.join(details)})" if details else "")


@dataclass(frozen=True)
class FaultRow:
    """One fault and its outcome; see the module docstring."""

    id: str
    failure: str
    adapter: str
    script: Script
    expect: Expect
    model: str | None = None
    profile: Mapping[str, Any] = field(default_factory=dict)
    client_timeout: float = 2.0
    call: Mapping[str, Any] = field(default_factory=dict)
    fetch: bool = False
    refused: bool = False
    bug: str | None = None

    @property
    def deadline(self) -> float:
        if self.expect.deadline is not None:
            return self.expect.deadline
        return float(self.call.get("timeout") or self.profile.get("timeout") or self.client_timeout)


# -- scripts -----------------------------------------------------------------------------------------------
def _route(method: str, path: str, *answers: Any) -> Script:
    """A script answering one route of the API server."""
    def script(server: FaultServer, other: FaultServer) -> None:
        server.on(method, path, *answers)
    return script


def _openai(*answers: Any) -> Script:
    return _route("POST", OPENAI_PATH, *answers)


def _nothing(server: FaultServer, other: FaultServer) -> None:
    """No script: the row points the client at a port where nothing listens."""


def _ok() -> Respond:
    return Respond(200, json=openai_image())


RATE = openai_error("Rate limit reached for requests", "rate_limit_exceeded", "requests")
SERVER = openai_error("The server had an error while processing your request.")
HTML = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
        "</h1></center><hr><center>nginx</center></body></html>")
PARTIAL = b'{"created": 1764417600, "data": [{"b64_json": "iVBORw0KGgo"}]}'


def _stability_moderated(server: FaultServer, other: FaultServer) -> None:
    body = dict(load("stability/content_moderation_403.json"), id="stab-err-0001")
    server.on("POST", STABILITY_PATH, Respond(403, json=body))


def _bfl_poll(*answers: Any) -> Script:
    def script(server: FaultServer, other: FaultServer) -> None:
        server.on("POST", BFL_PATH, bfl_submit(server))
        server.on("GET", "/v1/get_result/*", *answers)
    return script


def _replicate_forever(server: FaultServer, other: FaultServer) -> None:
    server.on("POST", REPLICATE_PATH, Respond(201, json=replicate_prediction(server, "starting")))
    server.on("GET", "/v1/predictions/p-1", Respond(200, json=replicate_prediction(server, "processing")))
    server.on("POST", "/v1/predictions/p-1/cancel", Respond(200, json=replicate_prediction(server, "canceled")))


def _expired_openai_url(server: FaultServer, other: FaultServer) -> None:
    # dall-e-3 URLs live 60 minutes [§1]; the answer is dated two hours ago, so the URL has expired.
    two_hours_ago = http_date(time.time() - 7200)
    server.on("POST", OPENAI_PATH, Respond(200, json=lambda r: {"created": 1, "data": [
        {"url": f"{server.url}/images/img-1.png?se=expired", "revised_prompt": "a fox"}]},
        headers={"date": two_hours_ago}))
    server.on("GET", "/images/img-1.png", Respond(403, body="<Error><Code>AuthenticationFailed</Code></Error>",
                                                   content_type="application/xml"))


def _expired_bfl_sample(server: FaultServer, other: FaultServer) -> None:
    # BFL result URLs expire 10 minutes after the result is ready [§5]; this one was ready 11 minutes ago.
    server.on("POST", BFL_PATH, bfl_submit(server))
    server.on("GET", "/v1/get_result/task-1", Respond(200, json=bfl_ready(f"{server.url}/sample/img.jpeg"),
                                                      headers={"date": http_date(time.time() - 660)}))
    server.on("GET", "/sample/img.jpeg", Respond(403, body="Request has expired", content_type="text/plain"))


# -- the rows ----------------------------------------------------------------------------------------------
_BUG_HTML_AS_IMAGE = ("bug: adapters/stability.py:StabilityAdapter.parse_response: a 200 whose body is not an "
                      "image (an HTML page) is returned as an image with media type text/html")
_BUG_EXPIRY_UNNAMED = ("bug: imgsdk/download.py:download/_failed (called from imgsdk/client.py:Client._bind and "
                       "AsyncClient._bind): ImageExpiredError, like every download error, is raised without "
                       "adapter, model or request id, so its message cannot say whose image expired")
_BUG_DEADLINE = ("bug: imgsdk/engine.py:send_with_retry + imgsdk/transport.py:drive_sync/drive_async: each "
                 "attempt waits the client's whole HTTP timeout; it is not capped at the time left before the "
                 "call's deadline, so a stalled server overruns generate(timeout=...)")

FAULT_ROWS: tuple[FaultRow, ...] = (
    FaultRow("F-429-RETRY-AFTER", "429 with `Retry-After: 1`, then 200", "openai",
             _openai(Respond(429, json=RATE, headers={"retry-after": "1"}), _ok()),
             Expect(requests=2, sleeps=(1.0,))),
    FaultRow("F-429-RETRY-AFTER-MS", "429 with `retry-after-ms: 250`, then 200", "openai",
             _openai(Respond(429, json=RATE, headers={"retry-after-ms": "250"}), _ok()),
             Expect(requests=2, sleeps=(0.25,))),
    # A 429 that says when to come back is pacing: it spends the deadline, not max_retries (engine.py).
    FaultRow("F-429-EXHAUSTED", "429 with `retry-after-ms: 500` on every attempt (timeout 2.25 s)", "openai",
             _openai(Respond(429, json=RATE, headers={"retry-after-ms": "500"})),
             Expect(RateLimitError, requests=5, status=429, request_id="req-a-5", sleeps=(0.5, 0.5, 0.5, 0.5),
                    retry_after=0.5, code="rate_limit_exceeded"), client_timeout=2.25),
    FaultRow("F-429-NO-HINT", "429 without any Retry-After, every attempt", "openai",
             _openai(Respond(429, json=RATE)),
             Expect(RateLimitError, requests=3, status=429, request_id="req-a-3", backoffs=2,
                    code="rate_limit_exceeded")),
    FaultRow("F-429-BEYOND-DEADLINE", "429 with `Retry-After: 30` (past the 2 s deadline)", "openai",
             _openai(Respond(429, json=RATE, headers={"retry-after": "30"})),
             Expect(RateLimitError, requests=1, status=429, request_id="req-a-1", sleeps=(), retry_after=30.0)),
    *(FaultRow(f"F-{status}-{'JSON' if body else 'EMPTY'}",
               f"{status} {'with a JSON error body' if body else 'with an empty body'} on every attempt",
               "openai", _openai(Respond(status, json=SERVER) if body else Respond(status)),
               Expect(ServiceUnavailableError, requests=3, status=status, request_id="req-a-3", backoffs=2))
      for status in (500, 502, 503) for body in (True, False)),
    FaultRow("F-503-ONCE", "503 once, then 200", "openai", _openai(Respond(503, json=SERVER), _ok()),
             Expect(requests=2, backoffs=1)),
    FaultRow("F-502-STABILITY", "502 from Stability's gateway, then 200", "stability",
             _route("POST", STABILITY_PATH, Respond(502, body=HTML, content_type="text/html"), stability_image()),
             Expect(requests=2, backoffs=1)),
    FaultRow("F-RESET", "connection reset (RST) mid-request, every attempt", "openai", _openai(Reset(read_body=16)),
             Expect(ServiceUnavailableError, requests=3, backoffs=2)),
    FaultRow("F-RESET-ONCE", "connection reset mid-request once, then 200", "openai", _openai(Reset(), _ok()),
             Expect(requests=2, backoffs=1)),
    FaultRow("F-RESET-PAID-SUBMIT", "connection reset mid-request on a paid BFL submit", "bfl",
             _route("POST", BFL_PATH, Reset(read_body=8)),
             Expect(ServiceUnavailableError, requests=1, sleeps=())),
    FaultRow("F-REFUSED", "connection refused (nothing listening on the port)", "openai",
             _nothing, Expect(ServiceUnavailableError, requests=0, backoffs=2), refused=True),
    FaultRow("F-STALL-HEADERS", "server stalls before sending the headers (client timeout 1 s)", "openai",
             _openai(StallHeaders()), Expect(ProviderTimeoutError, requests=1, sleeps=()), client_timeout=1.0),
    FaultRow("F-STALL-BODY", "server stalls in the middle of the body (client timeout 1 s)", "openai",
             _openai(StallBody(PARTIAL, sent=20)), Expect(ProviderTimeoutError, requests=1, sleeps=()),
             client_timeout=1.0),
    FaultRow("F-TRUNCATED", "truncated body: `Content-Length` larger than what is sent, then close", "openai",
             _openai(Truncate(PARTIAL, sent=20)), Expect(ServiceUnavailableError, requests=3, backoffs=2)),
    FaultRow("F-INVALID-JSON", "200 with invalid JSON", "openai",
             _openai(Respond(200, body=PARTIAL[:30], content_type="application/json")),
             Expect(ProviderError, requests=1, status=200, request_id="req-a-1", sleeps=())),
    FaultRow("F-HTML-502", "502 with an HTML error page (a proxy), every attempt", "openai",
             _openai(Respond(502, body=HTML, content_type="text/html")),
             Expect(ServiceUnavailableError, requests=3, status=502, request_id="req-a-3", backoffs=2)),
    FaultRow("F-HTML-200", "200 with an HTML page (a captive portal)", "openai",
             _openai(Respond(200, body=HTML, content_type="text/html")),
             Expect(ProviderError, requests=1, status=200, request_id="req-a-1", sleeps=())),
    FaultRow("F-HTML-200-STABILITY", "200 with an HTML page where image bytes are expected", "stability",
             _route("POST", STABILITY_PATH, Respond(200, body=HTML, content_type="text/html")),
             Expect(ProviderError, requests=1, status=200, request_id="req-a-1", sleeps=())),
    FaultRow("F-NO-IMAGE", "200 with no image (`data: []`)", "openai",
             _openai(Respond(200, json={"created": 1764417600, "data": []})),
             Expect(ProviderError, requests=1, status=200, request_id="req-a-1", sleeps=())),
    FaultRow("F-NO-IMAGE-STABILITY", "200 JSON without an `image` field", "stability",
             _route("POST", STABILITY_PATH, Respond(200, json={"finish_reason": "SUCCESS"})),
             Expect(ProviderError, requests=1, status=200, request_id="req-a-1", sleeps=())),
    FaultRow("F-MODERATION-400", "moderation as a 400 code (OpenAI `moderation_blocked`)", "openai",
             _openai(Respond(400, json=load("openai/error_moderation_blocked.json"))),
             Expect(ContentPolicyError, requests=1, status=400, request_id="req-a-1", sleeps=(),
                    code="moderation_blocked")),
    FaultRow("F-MODERATION-403", "moderation as a 403 name (Stability `content_moderation`)", "stability",
             _stability_moderated,
             Expect(ContentPolicyError, requests=1, status=403, request_id="stab-err-0001", sleeps=(),
                    stage="input", code="content_moderation")),
    FaultRow("F-MODERATION-200-FLAG", "moderation as a 200 flag (Stability `finish-reason: CONTENT_FILTERED`)",
             "stability",
             _route("POST", STABILITY_PATH, stability_image("CONTENT_FILTERED")),
             Expect(ContentPolicyError, requests=1, status=200, request_id="req-a-1", sleeps=(), stage="output",
                    code="CONTENT_FILTERED")),
    FaultRow("F-MODERATION-200-EMPTY", "moderation as a 200 with empty `data` (xAI)", "xai",
             _route("POST", OPENAI_PATH, Respond(200, json=load("xai/moderated_empty_data.json"))),
             Expect(ContentPolicyError, requests=1, status=200, request_id="req-a-1", sleeps=(), stage="output")),
    FaultRow("F-MODERATION-POLL", "moderation as a poll status (BFL `Request Moderated`)", "bfl",
             _bfl_poll(Respond(200, json=load("bfl/poll_request_moderated.json"))),
             Expect(ContentPolicyError, requests=2, status=200, request_id="req-a-2", stage="input",
                    code="Request Moderated")),
    FaultRow("F-POLL-FOREVER", "poll forever (BFL `Pending` on every poll; profile timeout 2 s)", "bfl",
             _bfl_poll(Respond(200, json={"id": "task-1", "status": "Pending", "progress": 0.1})),
             Expect(ProviderTimeoutError, requests=3), profile={"timeout": 2}),
    FaultRow("F-POLL-FOREVER-CANCEL", "poll forever (Replicate `processing`; profile timeout 2 s): cancelled",
             "replicate", _replicate_forever, Expect(ProviderTimeoutError, requests=4), profile={"timeout": 2}),
    FaultRow("F-IMAGE-URL-EXPIRED", "image URL answers 403 after it expired (DALL·E 3 URL, 60 min)", "openai",
             _expired_openai_url, Expect(ImageExpiredError, requests=2, status=403, request_id="req-a-2"),
             model="dall-e-3", fetch=True),
    FaultRow("F-IMAGE-URL-EXPIRED-BFL", "image URL answers 403 after it expired (BFL sample, 10 min)", "bfl",
             _expired_bfl_sample, Expect(ImageExpiredError, requests=3, status=403, request_id="req-a-3"),
             fetch=True),
    FaultRow("F-DEADLINE-STALL", "server stalls; `generate(timeout=0.3)` on a client whose HTTP timeout is 2.5 s",
             "openai", _openai(StallHeaders()), Expect(ProviderTimeoutError, requests=1), client_timeout=2.5,
             call={"timeout": 0.3}),
)

assert len({row.id for row in FAULT_ROWS}) == len(FAULT_ROWS), "fault row ids must be unique"
