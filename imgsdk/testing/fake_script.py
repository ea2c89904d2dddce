"""The fake provider's vocabulary: what it records (:class:`FakeCall`), how tests script it (:class:`FakeScript`),
and how it draws (:func:`render`: deterministic images). See :mod:`imgsdk.testing.fake`.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAILURES", "REQUEST_FIELDS", "FakeCall", "FakeScript", "render"]

#: Failures a test can script: rate_limit (429), quota (402), moderation (prompt refused), moderation_output
#: (image withheld), timeout (the job outlives any deadline), server_error (503), auth (401).
FAILURES = ("rate_limit", "quota", "moderation", "moderation_output", "timeout", "server_error", "auth")
#: The request fields a FakeCall records (besides model, prompt, n and the provider options).
REQUEST_FIELDS = ("size", "width", "height", "aspect_ratio", "resolution", "quality", "style", "seed",
                  "negative_prompt", "output_format", "background", "user")


@dataclass(frozen=True)
class FakeCall:
    """One request the fake provider received, after the policy engine (None: not sent)."""

    model: str
    prompt: str
    n: int
    size: str | None = None
    width: int | None = None
    height: int | None = None
    aspect_ratio: str | None = None
    resolution: str | None = None
    quality: str | None = None
    style: str | None = None
    seed: int | None = None
    negative_prompt: str | None = None
    output_format: str | None = None
    background: str | None = None
    user: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    outcome: str = "ok"  # "ok", "pending", or the failure it answered with


class FakeScript:
    """What the fake provider does next: failures consumed one per request, and how long jobs stay pending."""

    def __init__(self) -> None:
        self.failures: deque[tuple[str, float | None]] = deque()
        self.polls = 2

    def fail(self, kind: str, times: int = 1, *, retry_after: float | None = 1.0) -> FakeScript:
        """Answer the next ``times`` requests with failure ``kind`` (see :data:`FAILURES`).

        ``retry_after`` is the rate limit's Retry-After header in seconds (None: no header). A 429 with the
        header is pacing, which the engine waits out; one without it is a failure that spends the retries.
        """
        if kind not in FAILURES:
            raise ValueError(f"unknown fake failure {kind!r}: use one of {', '.join(FAILURES)}")
        self.failures.extend([(kind, retry_after)] * times)
        return self

    def pending(self, polls: int) -> FakeScript:
        """Poll answers a fake-poll job gives before it is done (0: done at the first poll)."""
        self.polls = max(0, polls)
        return self


def _dimensions(body: Mapping[str, Any]) -> tuple[int, int]:
    if body.get("width") and body.get("height"):
        return int(body["width"]), int(body["height"])
    ratio = str(body.get("aspect_ratio") or "1:1")
    long_side = 2048 if body.get("resolution") == "2K" else 1024
    width, height = (float(part) for part in ratio.split(":"))
    if width >= height:
        return long_side, int(round(long_side * height / width / 8) * 8)
    return int(round(long_side * width / height / 8) * 8), long_side


def render(body: Mapping[str, Any], index: int) -> bytes:
    """The deterministic image for one request body and image index."""
    from PIL import Image

    width, height = _dimensions(body)
    seed = (body.get("seed") or 0) + index
    digest = hashlib.sha256(json.dumps([body.get(key) for key in ("model", "prompt", *REQUEST_FIELDS)] + [seed],
                                       default=str).encode()).digest()
    fmt = {"jpeg": "JPEG", "webp": "WEBP"}.get(str(body.get("output_format")), "PNG")
    out = io.BytesIO()
    Image.new("RGB", (width, height), (digest[0], digest[1], digest[2])).save(out, format=fmt)
    return out.getvalue()
