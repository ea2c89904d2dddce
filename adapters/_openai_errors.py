"""Error envelopes and the retry rule shared by every adapter that speaks the OpenAI Images API.

It holds the reading of the error body ``{"error": {message, type, param, code}}`` (and the shapes proxies
send instead) with key-like tokens scrubbed, the classification of an error as moderation
(:class:`~imgsdk.errors.ContentPolicyError`, with stage and categories) or quota
(:class:`~imgsdk.errors.QuotaExceededError`) before the status-based mapping, and openai-python's
``_should_retry`` rule with its ``Retry-After`` parsing. It is separate from :mod:`._openai_wire` because the
failure path shares nothing with building request bodies and reading images, and keeping it apart holds both
modules under the adapter size limit; :mod:`._openai_wire` imports these names back and still exports them,
so the openai, azure and openai-compatible adapters keep using ``wire.openai_error``, ``wire.should_retry``, ...
Facts come from /work/shared/reference/providers.md §1 and the openai-python source (``_base_client.py``).
"""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from imgsdk.adapter import WireResponse, error_for_status
from imgsdk.errors import ContentPolicyError, ProviderError, QuotaExceededError

__all__ = [
    "MAX_RETRY_AFTER", "ErrorInfo", "is_quota", "openai_error", "read_error", "retry_after_seconds", "scrub",
    "should_retry", "with_request_id",
]

_MODERATION_CODES = frozenset({"content_policy_violation", "moderation_blocked"})
_QUOTA_CODES = frozenset({"insufficient_quota"})
MAX_RETRY_AFTER = 120.0  # openai-python _constants.MAX_RETRY_AFTER_DELAY: a longer wait means "do not retry"


# -- errors ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """The fields of an error body; ``error`` is the inner object (``{}`` when there is none)."""

    message: str
    type: str | None
    code: str | None
    param: str | None
    error: Mapping[str, Any]
    body: Any


_KEYISH = re.compile(r"\b(sk|rk|sess)-[A-Za-z0-9_*\-.]{4,}")


def scrub(text: str) -> str:
    """Remove key-like tokens: OpenAI echoes a masked key in 401 messages ("Incorrect API key: sk-…")."""
    return _KEYISH.sub("[redacted key]", text)


def _scrub_all(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrub_all(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub_all(item) for item in value]
    return value


def read_error(response: WireResponse) -> ErrorInfo:
    """Parse ``{"error": {message, type, param, code}}`` ([OAI-SPEC] ``ErrorResponse``), tolerating proxies
    that send ``{"error": "text"}``, ``{"message": ...}`` (vLLM), ``{"detail": ...}`` (FastAPI) or plain text."""
    body = response.json()
    if body is None:
        text = scrub(response.text.strip())[:500]
        return ErrorInfo(text or f"HTTP {response.status}", None, None, None, {}, text or None)
    body = _scrub_all(body)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        error = {"message": error}
    if not isinstance(error, dict):
        error = body if isinstance(body, dict) else {}
    code = error.get("code")
    message = error.get("message") or (body.get("message") or body.get("detail") if isinstance(body, dict)
                                       else None)
    return ErrorInfo(message=str(message or f"HTTP {response.status}"),
                     type=str(error["type"]) if error.get("type") else None,
                     code=str(code) if code not in (None, "") else None,
                     param=str(error["param"]) if error.get("param") else None, error=error, body=body)


def is_quota(info: ErrorInfo) -> bool:
    """``insufficient_quota`` (as code or type, on any status): billing, not throttling [OAI-ERR]."""
    return info.code in _QUOTA_CODES or info.type in _QUOTA_CODES


def _moderation(info: ErrorInfo) -> tuple[str | None, str]:
    """Stage and reason of an OpenAI moderation error.

    ``moderation_details: {moderation_stage, categories}`` sits in the error object (or beside it) in the
    observed bodies [providers.md §1 Errors, third-party, UNCONFIRMED as a contract], so both places are read.
    Without categories, ``safety_violations=[...]`` is read from the message (moderation_blocked's text).
    """
    details = info.error.get("moderation_details")
    if not isinstance(details, dict) and isinstance(info.body, dict):
        details = info.body.get("moderation_details")
    details = details if isinstance(details, dict) else {}
    stage = details.get("moderation_stage")
    categories = [str(item) for item in details.get("categories") or () if item]
    if not categories and (found := re.search(r"safety_violations=\[([^\]]*)\]", info.message)):
        categories = [part.strip(" '\"") for part in found.group(1).split(",") if part.strip(" '\"")]
    reason = str(info.code) + (f": {', '.join(categories)}" if categories else "")
    return (stage if stage in ("input", "output") else None), reason


def openai_error(response: WireResponse, model: str | None, *, adapter: str, label: str,
                 request_id: str | None, info: ErrorInfo | None = None) -> ProviderError:
    """The typed error for an OpenAI-style error response."""
    info = info or read_error(response)
    context: dict[str, Any] = dict(adapter=adapter, model=model, status=response.status,
                                   request_id=request_id, code=info.code, body=info.body)
    if info.code in _MODERATION_CODES:
        stage, reason = _moderation(info)
        return ContentPolicyError(
            f"{label}'s safety system refused the request: {info.message} (rephrase the prompt; retrying it "
            "unchanged will not help)", stage=stage, reason=reason, **context)
    if is_quota(info):
        return QuotaExceededError(f"{label}: {info.message} (out of quota or credits: check the account's "
                                  "billing; retrying will not help)", **context)
    error = error_for_status(response, adapter, model, message=f"{label}: {info.message}", code=info.code,
                             body=info.body)
    return with_request_id(error, request_id)


def with_request_id(error: ProviderError, request_id: str | None) -> ProviderError:
    """Set the request id the adapter reads (error_for_status reads a fixed header list) and re-render."""
    if request_id and error.request_id != request_id:
        error.request_id = request_id
        error.args = (error._format(),)
    return error


# -- retries -----------------------------------------------------------------------------------------------
def retry_after_seconds(response: WireResponse) -> float | None:
    """``retry-after-ms``, then ``retry-after`` as seconds or an HTTP date (openai-python
    ``_parse_retry_after_header``)."""
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = response.header(name)
        if value is None:
            continue
        try:
            return float(value) / divisor
        except ValueError:
            continue
    value = response.header("retry-after")
    if value:
        try:
            parsed = email.utils.parsedate_tz(value)
            if parsed is not None:
                return float(email.utils.mktime_tz(parsed) - time.time())
        except (TypeError, ValueError, OverflowError):
            return None
    return None


def should_retry(response: WireResponse, *, quota: bool) -> bool:
    """openai-python ``_should_retry``: a Retry-After over 120 s means no; ``x-should-retry`` wins; else
    408, 409, 429 and ≥ 500 — except a quota 429 (``insufficient_quota``), which never clears by waiting."""
    delay = retry_after_seconds(response)
    if delay is not None and math.isfinite(delay) and delay > MAX_RETRY_AFTER:
        return False
    header = response.header("x-should-retry")
    if header == "true":
        return True
    if header == "false":
        return False
    if quota:
        return False
    return response.status in (408, 409, 429) or response.status >= 500
